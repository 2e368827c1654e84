"""Console pages of app registrations and signing keys (console:apps)."""

from django.urls import path

from oidc import console_views as views

app_name = "apps"

urlpatterns = [
    path("", views.app_list, name="list"),
    path("new/", views.app_create, name="create"),
    path("signing-keys/", views.signing_keys, name="signing-keys"),
    path("signing-keys/rotate/", views.signing_key_rotate, name="signing-key-rotate"),
    path("<uuid:public_id>/", views.app_detail, name="detail"),
    path("<uuid:public_id>/edit/", views.app_edit, name="edit"),
    path("<uuid:public_id>/delete/", views.app_delete, name="delete"),
    path("<uuid:public_id>/secrets/", views.secret_create, name="secret-create"),
    path(
        "<uuid:public_id>/secrets/<uuid:secret_id>/revoke/",
        views.secret_revoke,
        name="secret-revoke",
    ),
    path("<uuid:public_id>/roles/", views.role_create, name="role-create"),
    path("<uuid:public_id>/roles/<uuid:role_id>/assign/", views.role_assign, name="role-assign"),
    path(
        "<uuid:public_id>/roles/<uuid:role_id>/users/<uuid:user_id>/unassign/",
        views.role_unassign,
        name="role-unassign",
    ),
    path("<uuid:public_id>/roles/<uuid:role_id>/delete/", views.role_delete, name="role-delete"),
]
