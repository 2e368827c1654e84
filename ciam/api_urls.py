"""/api/v1: the tenant's directory for its systems, in Microsoft Graph's names and shapes.
Each view names the application permission it needs (ciam.api.api_permission_required)."""

from django.urls import path

from accounts import api as users
from guests import api as invitations

app_name = "api"

urlpatterns = [
    path("users", users.users, name="users"),  # GET User.Read.All, POST User.ReadWrite.All
    # GET User.Read.All, PATCH and DELETE User.ReadWrite.All
    path("users/<str:key>", users.user, name="user-detail"),
    path("invitations", invitations.invitation_create, name="invitations"),  # User.Invite.All
    path(
        "invitations/<uuid:public_id>",
        invitations.invitation_detail,
        name="invitation-detail",
    ),  # User.Invite.All
]
