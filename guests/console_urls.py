"""Console pages of the Guests area (console:guests)."""

from django.urls import path

from guests import console_views as views

app_name = "guests"

urlpatterns = [
    path("", views.invitation_list, name="list"),
    path("invite/", views.invitation_create, name="invitation-create"),
    path("invitations/<uuid:public_id>/", views.invitation_detail, name="invitation-detail"),
    path(
        "invitations/<uuid:public_id>/resend/",
        views.invitation_resend,
        name="invitation-resend",
    ),
    path(
        "invitations/<uuid:public_id>/revoke/",
        views.invitation_revoke,
        name="invitation-revoke",
    ),
    path("bulk/", views.bulk_create, name="bulk-create"),
    path("bulk/<uuid:public_id>/", views.bulk_detail, name="bulk-detail"),
    path("settings/", views.guest_settings, name="settings"),
    path("api-keys/", views.api_keys, name="api-keys"),
    path("api-keys/<uuid:public_id>/revoke/", views.api_key_revoke, name="api-key-revoke"),
    path("users/<uuid:public_id>/renew/", views.guest_renew, name="renew"),
]
