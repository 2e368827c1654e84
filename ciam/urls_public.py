"""URLs of the platform, served on the bare base domain from the public schema."""

from django.urls import include, path

from ciam.locale import language_switch

urlpatterns = [
    path("language/", language_switch, name="language-switch"),  # the hosted pages' switcher
    path("", include("tenants.urls")),
]

handler404 = "ciam.errors.not_found"
handler500 = "ciam.errors.server_error"
