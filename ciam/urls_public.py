"""URLs of the platform, served on the bare base domain from the public schema."""

from django.urls import include, path

urlpatterns = [
    path("", include("tenants.urls")),
]

handler404 = "ciam.errors.not_found"
handler500 = "ciam.errors.server_error"
