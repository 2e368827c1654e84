"""Security groups, as Entra's: a named set of users (members and guests) with owners. Groups
carry app roles to their members (GroupAppRoleAssignment), appear as `groups` in tokens of the
apps that ask for them, and are an assignment of conditional access policies."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _

NAME_MAX_LENGTH = 256
DESCRIPTION_MAX_LENGTH = 1024


class Group(models.Model):
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    display_name = models.CharField(_("name"), max_length=NAME_MAX_LENGTH)
    description = models.TextField(_("description"), max_length=DESCRIPTION_MAX_LENGTH, blank=True)
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, through="GroupMembership", related_name="member_of", blank=True
    )
    owners = models.ManyToManyField(
        settings.AUTH_USER_MODEL, related_name="owned_groups", blank=True
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["display_name"]
        constraints = [
            # Admins choose groups by name (policies, app roles): two with one name confuse.
            models.UniqueConstraint(Lower("display_name"), name="group_display_name_unique")
        ]

    def __str__(self) -> str:
        return self.display_name


class GroupMembership(models.Model):
    group = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="group_memberships"
    )
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["group", "user"], name="groupmembership_unique")
        ]
        # A user's groups (tokens, conditional access) are read by user.
        indexes = [models.Index(fields=["user", "group"], name="groupmembership_user")]

    def __str__(self) -> str:
        return f"{self.user_id} in {self.group_id}"


class GroupAppRoleAssignment(models.Model):
    """An app role given to every member of a group (Entra's app role assignment to a group).
    Members hold the role in the app's tokens as if it were assigned to them."""

    group = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="app_role_assignments")
    role = models.ForeignKey(
        "oidc.AppRole", on_delete=models.CASCADE, related_name="group_assignments"
    )
    assigned_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["group", "role"], name="groupapprole_unique")
        ]
        indexes = [models.Index(fields=["role", "group"], name="groupapprole_role")]

    def __str__(self) -> str:
        return f"{self.role_id} to {self.group_id}"
