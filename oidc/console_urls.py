"""Console pages of app registrations, included in the console namespace (console:apps)."""

from django.urls import path

from oidc import console_views as views

urlpatterns = [
    path("", views.app_list, name="apps"),
    path("new/", views.app_create, name="app-create"),
    path("signing-keys/", views.signing_keys, name="signing-keys"),
    path("signing-keys/rotate/", views.signing_key_rotate, name="signing-key-rotate"),
    path("<uuid:public_id>/", views.app_detail, name="app-detail"),
    path("<uuid:public_id>/edit/", views.app_edit, name="app-edit"),
    path("<uuid:public_id>/delete/", views.app_delete, name="app-delete"),
    path("<uuid:public_id>/secrets/", views.secret_create, name="app-secret-create"),
    path(
        "<uuid:public_id>/secrets/<uuid:secret_id>/revoke/",
        views.secret_revoke,
        name="app-secret-revoke",
    ),
    path("<uuid:public_id>/roles/", views.role_create, name="app-role-create"),
    path(
        "<uuid:public_id>/roles/<uuid:role_id>/assign/",
        views.role_assign,
        name="app-role-assign",
    ),
    path(
        "<uuid:public_id>/roles/<uuid:role_id>/users/<uuid:user_id>/unassign/",
        views.role_unassign,
        name="app-role-unassign",
    ),
    path(
        "<uuid:public_id>/roles/<uuid:role_id>/delete/",
        views.role_delete,
        name="app-role-delete",
    ),
]
