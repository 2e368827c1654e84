from django.urls import include, path
from django.views.generic import RedirectView

from accounts import console_views as account_views
from audit import console_views as audit_views
from console import views

app_name = "console"

urlpatterns = [
    path("", views.overview, name="overview"),
    path("verify-email/", views.email_verify, name="email-verify"),
    path("users/", views.user_list, name="users"),
    path("users/<uuid:public_id>/", views.user_detail, name="user-detail"),
    path("users/<uuid:public_id>/enabled/", views.user_enabled_set, name="user-enabled"),
    path("users/<uuid:public_id>/roles/", views.user_roles_set, name="user-roles"),
    path("logs/", views.logs, name="logs"),
    path("logs/audit/", audit_views.audit_log, name="audit-log"),
    path("logs/sign-ins/", audit_views.sign_in_log, name="sign-in-logs"),
    path("logs/sign-ins/unlock/", account_views.account_unlock, name="account-unlock"),
    path("logs/sign-ins/exports/", audit_views.sign_in_export_create, name="sign-in-exports"),
    path(
        "logs/sign-ins/exports/<uuid:public_id>/",
        audit_views.sign_in_export_detail,
        name="sign-in-export",
    ),
    path(
        "logs/sign-ins/exports/<uuid:public_id>/download/",
        audit_views.sign_in_export_download,
        name="sign-in-export-download",
    ),
    path("user-flows/", account_views.user_flow, name="user-flows"),
    path(
        "user-flows/attributes/new/",
        account_views.sign_up_attribute_edit,
        name="user-flow-attribute-add",
    ),
    path(
        "user-flows/attributes/<uuid:public_id>/",
        account_views.sign_up_attribute_edit,
        name="user-flow-attribute",
    ),
    path(
        "user-flows/attributes/<uuid:public_id>/delete/",
        account_views.sign_up_attribute_delete,
        name="user-flow-attribute-delete",
    ),
    path("apps/", include("oidc.console_urls")),
    path("guests/", include("guests.console_urls")),
    path(
        "policies/",
        RedirectView.as_view(pattern_name="console:conditional-access:policy-list"),
        name="policies",
    ),
    path("policies/conditional-access/", include("conditional_access.console_urls")),
]
