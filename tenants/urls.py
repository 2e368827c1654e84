"""The platform's pages (platform:): creating a tenant, and the operator's pages."""

from django.contrib.auth import views as auth_views
from django.urls import path

from tenants import views
from tenants.forms import OperatorLoginForm

app_name = "platform"

urlpatterns = [
    path("", views.landing, name="landing"),
    path("created/<uuid:public_id>/", views.tenant_created, name="tenant-created"),
    path("slug-availability/", views.slug_availability, name="slug-availability"),
    path(
        "operator/login/",
        auth_views.LoginView.as_view(
            template_name="platform/login.html", authentication_form=OperatorLoginForm
        ),
        name="login",
    ),
    path("operator/logout/", auth_views.LogoutView.as_view(next_page="/"), name="logout"),
    path("operator/", views.operator_tenant_list, name="tenant-list"),
    path(
        "operator/tenants/<uuid:public_id>/suspend/",
        views.operator_tenant_suspend,
        name="tenant-suspend",
    ),
    path(
        "operator/tenants/<uuid:public_id>/resume/",
        views.operator_tenant_resume,
        name="tenant-resume",
    ),
    path(
        "operator/tenants/<uuid:public_id>/delete/",
        views.operator_tenant_delete,
        name="tenant-delete",
    ),
    path("operator/reserved/", views.operator_reserved_slugs, name="reserved-slug-list"),
    path(
        "operator/reserved/<uuid:public_id>/release/",
        views.operator_reserved_slug_release,
        name="reserved-slug-release",
    ),
]
