from __future__ import annotations

from django.db.models import Count, QuerySet

from groups.models import Group, GroupAppRoleAssignment, GroupMembership

# Entra puts at most 150 groups in a JWT; past that the token says where to read them.
GROUPS_CLAIM_LIMIT = 150


def group_list() -> QuerySet[Group]:
    return Group.objects.annotate(member_count=Count("memberships", distinct=True)).order_by(
        "display_name"
    )


def group_get(public_id) -> Group | None:
    return Group.objects.filter(public_id=public_id).first()


def group_members(group: Group) -> QuerySet:
    """The group's members, as people read them (email order)."""
    return group.members.order_by("email")


def user_groups(user) -> QuerySet[Group]:
    return Group.objects.filter(memberships__user=user).order_by("display_name")


def user_group_ids(user_id: int) -> frozenset[int]:
    """The primary keys of the groups `user_id` is a member of (conditional access)."""
    if user_id is None:
        return frozenset()
    return frozenset(
        GroupMembership.objects.filter(user_id=user_id).values_list("group_id", flat=True)
    )


def group_role_assignments(group: Group) -> QuerySet[GroupAppRoleAssignment]:
    return group.app_role_assignments.select_related("role__application").order_by(
        "role__application__name", "role__value"
    )


def groups_for_role(role) -> QuerySet[Group]:
    return Group.objects.filter(app_role_assignments__role=role).order_by("display_name")


def groups_owned(user) -> QuerySet[Group]:
    """The groups `user` owns (My account > Groups you own), with their member counts."""
    return (
        Group.objects.filter(owners=user)
        .annotate(member_count=Count("memberships", distinct=True))
        .order_by("display_name")
    )


def group_owned(user, public_id) -> Group | None:
    """One group `user` owns, or None (nobody learns of groups they do not own)."""
    return Group.objects.filter(owners=user, public_id=public_id).first()
