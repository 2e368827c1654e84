"""URLs of a tenant host: hosted pages for end users and partners, and the admin console."""

from django.urls import include, path

from accounts import views as account_views

urlpatterns = [
    path("", account_views.home, name="home"),
    path("accounts/", include("allauth.urls")),
    path("console/", include("console.urls")),
]

handler404 = "ciam.errors.not_found"
handler500 = "ciam.errors.server_error"
