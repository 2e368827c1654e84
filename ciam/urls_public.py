"""URLs of the platform, served on the bare base domain from the public schema."""

from django.contrib.auth import views as auth_views
from django.urls import path

from tenants import views
from tenants.forms import OperatorLoginForm

urlpatterns = [
    path("", views.landing, name="platform-landing"),
    path("created/<uuid:public_id>/", views.tenant_created, name="platform-tenant-created"),
    path("slug-availability/", views.slug_availability, name="platform-slug-availability"),
    path(
        "operator/login/",
        auth_views.LoginView.as_view(
            template_name="platform/login.html", authentication_form=OperatorLoginForm
        ),
        name="platform-login",
    ),
    path("operator/logout/", auth_views.LogoutView.as_view(next_page="/"), name="platform-logout"),
    path("operator/", views.operator_tenant_list, name="platform-tenants"),
    path(
        "operator/tenants/<uuid:public_id>/suspend/",
        views.operator_tenant_suspend,
        name="platform-tenant-suspend",
    ),
    path(
        "operator/tenants/<uuid:public_id>/resume/",
        views.operator_tenant_resume,
        name="platform-tenant-resume",
    ),
    path(
        "operator/tenants/<uuid:public_id>/delete/",
        views.operator_tenant_delete,
        name="platform-tenant-delete",
    ),
    path("operator/reserved/", views.operator_reserved_slugs, name="platform-reserved-slugs"),
    path(
        "operator/reserved/<uuid:public_id>/release/",
        views.operator_reserved_slug_release,
        name="platform-reserved-slug-release",
    ),
]

handler404 = "ciam.errors.not_found"
handler500 = "ciam.errors.server_error"
