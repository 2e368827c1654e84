from django.urls import path

from guests import api

urlpatterns = [
    path("invitations", api.invitation_create, name="api-invitations"),
    path("invitations/<uuid:public_id>", api.invitation_detail, name="api-invitation-detail"),
]
