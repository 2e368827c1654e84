"""Console pages of accounts, two areas: Users (console:users) and User flows
(console:user-flows). Each is a (patterns, app_name) pair that console.urls includes."""

from django.urls import path

from accounts import console_views as views
from mfa import console_views as mfa_views

users = (
    [
        path("", views.user_list, name="list"),
        path("new/", views.user_create, name="create"),
        path("export.csv", views.user_export, name="export"),
        path("import/", views.user_import_create, name="import"),
        path("import/<uuid:public_id>/", views.user_import_detail, name="import-detail"),
        path("<uuid:public_id>/", views.user_detail, name="detail"),
        path("<uuid:public_id>/edit/", views.user_edit, name="edit"),
        path("<uuid:public_id>/delete/", views.user_delete, name="delete"),
        path("<uuid:public_id>/restore/", views.user_restore, name="restore"),
        path("<uuid:public_id>/password-reset/", views.user_password_reset, name="password-reset"),
        path(
            "<uuid:public_id>/sessions/revoke/", views.user_sessions_revoke, name="sessions-revoke"
        ),
        path("<uuid:public_id>/enabled/", views.user_enabled_set, name="enabled"),
        path("<uuid:public_id>/roles/", views.user_roles_set, name="roles"),
        path("<uuid:public_id>/mfa/reset/", mfa_views.user_mfa_reset, name="mfa-reset"),
        path(
            "<uuid:public_id>/mfa/reregister/",
            mfa_views.user_mfa_reregister,
            name="mfa-reregister",
        ),
    ],
    "users",
)

user_flows = (
    [
        path("", views.user_flow, name="edit"),
        path("attributes/new/", views.sign_up_attribute_edit, name="attribute-create"),
        path("attributes/<uuid:public_id>/", views.sign_up_attribute_edit, name="attribute-edit"),
        path(
            "attributes/<uuid:public_id>/delete/",
            views.sign_up_attribute_delete,
            name="attribute-delete",
        ),
    ],
    "user-flows",
)
