"""/api/v1: the tenant's directory for its systems, in Microsoft Graph's names and shapes.
Each view names the application permission it needs (ciam.api.api_permission_required)."""

from django.urls import path

from accounts import api as users
from groups import api as groups
from guests import api as invitations

app_name = "api"

urlpatterns = [
    path("users", users.users, name="users"),  # GET User.Read.All, POST User.ReadWrite.All
    # GET User.Read.All, PATCH and DELETE User.ReadWrite.All
    path("users/<str:key>", users.user, name="user-detail"),
    # Group.Read.All or Group.ReadWrite.All; changes Group.ReadWrite.All
    path("users/<str:key>/memberOf", groups.user_member_of, name="user-member-of"),
    path("groups", groups.group_collection, name="groups"),
    path("groups/<str:key>", groups.group_item, name="group-detail"),
    path("groups/<str:key>/members", groups.group_members, name="group-members"),
    path("groups/<str:key>/members/$ref", groups.group_member_add, name="group-member-add"),
    path(
        "groups/<str:key>/members/<str:user_key>/$ref",
        groups.group_member_remove,
        name="group-member-remove",
    ),
    path("invitations", invitations.invitation_create, name="invitations"),  # User.Invite.All
    path(
        "invitations/<uuid:public_id>",
        invitations.invitation_detail,
        name="invitation-detail",
    ),  # User.Invite.All
]
