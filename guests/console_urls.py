"""Console URLs of the Guests area, included into the console namespace."""

from django.urls import path

from guests import console_views as views

urlpatterns = [
    path("", views.invitation_list, name="guests"),
    path("invite/", views.invitation_create, name="guests-invite"),
    path("invitations/<uuid:public_id>/", views.invitation_detail, name="guests-detail"),
    path("invitations/<uuid:public_id>/resend/", views.invitation_resend, name="guests-resend"),
    path("invitations/<uuid:public_id>/revoke/", views.invitation_revoke, name="guests-revoke"),
    path("bulk/", views.bulk_create, name="guests-bulk"),
    path("bulk/<uuid:public_id>/", views.bulk_detail, name="guests-bulk-detail"),
    path("settings/", views.guest_settings, name="guests-settings"),
    path("api-keys/", views.api_keys, name="guests-api-keys"),
    path("api-keys/<uuid:public_id>/revoke/", views.api_key_revoke, name="guests-api-key-revoke"),
    path("users/<uuid:public_id>/renew/", views.guest_renew, name="guests-renew"),
]
