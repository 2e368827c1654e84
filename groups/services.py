"""Groups: create, rename and describe, delete; members and owners; app roles given to a
group's members. Every change is audited with what it was before and after."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from audit.services import audit_record
from groups.models import (
    DESCRIPTION_MAX_LENGTH,
    NAME_MAX_LENGTH,
    Group,
    GroupAppRoleAssignment,
    GroupMembership,
)


def _snapshot(group: Group) -> dict:
    return {"display_name": group.display_name, "description": group.description}


def _clean(*, display_name: str, description: str, group: Group | None = None) -> dict:
    errors: dict[str, list[str]] = {}
    display_name = " ".join(display_name.split())
    description = description.strip()
    if not display_name:
        errors["display_name"] = [_("Enter a name.")]
    elif len(display_name) > NAME_MAX_LENGTH:
        errors["display_name"] = [
            _("Use at most %(count)d characters.") % {"count": NAME_MAX_LENGTH}
        ]
    else:
        same = Group.objects.filter(display_name__iexact=display_name)
        if group is not None:
            same = same.exclude(pk=group.pk)
        if same.exists():
            errors["display_name"] = [_("A group with this name exists already.")]
    if len(description) > DESCRIPTION_MAX_LENGTH:
        errors["description"] = [
            _("Use at most %(count)d characters.") % {"count": DESCRIPTION_MAX_LENGTH}
        ]
    if errors:
        raise ValidationError(errors)
    return {"display_name": display_name, "description": description}


def _save(group: Group) -> None:
    """Save, turning a concurrent twin name (the unique index) into the form's error."""
    try:
        with transaction.atomic():
            group.save()
    except IntegrityError:
        raise ValidationError(
            {"display_name": [_("A group with this name exists already.")]}
        ) from None


@transaction.atomic
def group_create(
    *, actor, display_name: str, description: str = "", owners=(), request=None
) -> Group:
    group = Group(**_clean(display_name=display_name, description=description))
    _save(group)
    if owners:
        group.owners.set(owners)
    audit_record(
        actor=actor, action="group.create", target=group,
        after={**_snapshot(group), "owners": sorted(owner.email for owner in owners)},
        request=request,
    )  # fmt: skip
    return group


@transaction.atomic
def group_update(*, actor, group: Group, display_name: str, description: str, request=None):
    before = _snapshot(group)
    for field, value in _clean(
        display_name=display_name, description=description, group=group
    ).items():
        setattr(group, field, value)
    if _snapshot(group) == before:
        return group
    _save(group)
    audit_record(
        actor=actor, action="group.update", target=group, before=before, after=_snapshot(group),
        request=request,
    )  # fmt: skip
    return group


@transaction.atomic
def group_delete(*, actor, group: Group, request=None) -> None:
    """Delete a group: its members lose the app roles it gave them at their next token, and
    conditional access policies stop including or excluding it."""
    audit_record(
        actor=actor, action="group.delete", target=group,
        before={**_snapshot(group), "members": group.memberships.count()}, request=request,
    )  # fmt: skip
    group.delete()


@transaction.atomic
def group_members_add(*, actor, group: Group, users, request=None) -> list:
    """Add `users` (members and guests alike); those already in the group are left. Returns
    the users added."""
    present = set(group.memberships.values_list("user_id", flat=True))
    added = [user for user in users if user.pk not in present]
    GroupMembership.objects.bulk_create(
        [GroupMembership(group=group, user=user) for user in added], ignore_conflicts=True
    )
    for user in added:
        audit_record(
            actor=actor, action="group.member.add", target=user,
            after={"group": group.display_name, "group_id": str(group.public_id)},
            request=request,
        )  # fmt: skip
    return added


@transaction.atomic
def group_member_remove(*, actor, group: Group, user, request=None) -> None:
    deleted, _rows = GroupMembership.objects.filter(group=group, user=user).delete()
    if deleted:
        audit_record(
            actor=actor, action="group.member.remove", target=user,
            before={"group": group.display_name, "group_id": str(group.public_id)},
            request=request,
        )  # fmt: skip


@transaction.atomic
def group_owner_add(*, actor, group: Group, user, request=None) -> None:
    if group.owners.filter(pk=user.pk).exists():
        return
    group.owners.add(user)
    audit_record(
        actor=actor, action="group.owner.add", target=group, after={"owner": user.email},
        request=request,
    )  # fmt: skip


@transaction.atomic
def group_owner_remove(*, actor, group: Group, user, request=None) -> None:
    if not group.owners.filter(pk=user.pk).exists():
        return
    group.owners.remove(user)
    audit_record(
        actor=actor, action="group.owner.remove", target=group, before={"owner": user.email},
        request=request,
    )  # fmt: skip


@transaction.atomic
def group_app_role_assign(*, actor, group: Group, role, request=None) -> None:
    """Give `role` to every member of `group` (now and later)."""
    _assignment, created = GroupAppRoleAssignment.objects.get_or_create(group=group, role=role)
    if created:
        audit_record(
            actor=actor, action="app.role.assign", target=group,
            after={"app": role.application.name, "role": role.value}, request=request,
        )  # fmt: skip


@transaction.atomic
def group_app_role_unassign(*, actor, group: Group, role, request=None) -> None:
    deleted, _rows = GroupAppRoleAssignment.objects.filter(group=group, role=role).delete()
    if deleted:
        audit_record(
            actor=actor, action="app.role.unassign", target=group,
            before={"app": role.application.name, "role": role.value}, request=request,
        )  # fmt: skip
