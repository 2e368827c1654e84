"""The platform's pages (platform:): creating a tenant, and the operator's pages."""

from django.contrib.auth import views as auth_views
from django.urls import path

from domains import operator_views as domain_operator_views
from operators import views as operator_views
from tenants import views

app_name = "platform"

urlpatterns = [
    path("", views.landing, name="landing"),
    path("created/<uuid:public_id>/", views.tenant_created, name="tenant-created"),
    path("slug-availability/", views.slug_availability, name="slug-availability"),
    path("operator/login/", operator_views.OperatorLoginView.as_view(), name="login"),
    path("operator/login/code/", operator_views.operator_mfa, name="operator-mfa"),
    path("operator/login/setup/", operator_views.operator_mfa_setup, name="operator-mfa-setup"),
    path(
        "operator/login/passkey/",
        operator_views.operator_mfa_passkey_options,
        name="operator-mfa-passkey-options",
    ),
    path("operator/passkeys/", operator_views.operator_passkeys, name="operator-passkeys"),
    path(
        "operator/passkeys/options/",
        operator_views.operator_passkey_add_options,
        name="operator-passkey-add-options",
    ),
    path(
        "operator/passkeys/<uuid:public_id>/remove/",
        operator_views.operator_passkey_remove,
        name="operator-passkey-remove",
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
    path(
        "operator/reserved-domains/",
        domain_operator_views.operator_reserved_domains,
        name="reserved-domain-list",
    ),
    path(
        "operator/reserved-domains/<uuid:public_id>/release/",
        domain_operator_views.operator_reserved_domain_release,
        name="reserved-domain-release",
    ),
]
