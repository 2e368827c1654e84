from __future__ import annotations

import dataclasses

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from accounts.roles import AdminRole
from audit.services import audit_record
from ciam.http import client_ip
from conditional_access.evaluation import SignInContext, why_not_applied
from conditional_access.models import ConditionalAccessPolicy, NamedLocation
from conditional_access.selectors import compile_policy

Policy = ConditionalAccessPolicy

# The many-to-many fields of a policy, as a form hands them to policy_save.
RELATIONS = ("include_users", "exclude_users", "include_apps", "include_locations",
             "exclude_locations", "include_groups", "exclude_groups")  # fmt: skip

DEFAULT_POLICY_NAME = "Require MFA for admins"


def policy_snapshot(policy: ConditionalAccessPolicy, relations: dict | None = None) -> dict:
    """What the audit log keeps of a policy, before or after a change."""
    if relations is None:
        relations = {name: list(getattr(policy, name).all()) for name in RELATIONS}
    snapshot = {
        field: getattr(policy, field)
        for field in (
            "name", "state", "users", "include_members", "include_guests", "include_roles",
            "exclude_roles", "apps", "locations", "exclude_trusted", "methods", "new_browser",
            "recent_failures", "grant", "require_mfa", "require_passkey",
            "require_password_change", "sign_in_frequency_hours",
        )
    }  # fmt: skip
    for name, objects in relations.items():
        snapshot[name] = sorted(str(item) for item in objects)
    return snapshot


def _locks_out_admins(policy, relations: dict, *, actor, ip: str | None) -> bool:
    """Whether `policy` (not saved yet) would block every enabled administrator, `actor`
    included, from the console: on, blocking, for every app (the console included) and for
    every method and browser, with the actor's current IP address in its locations."""
    if policy.state != Policy.State.ON or policy.grant != Policy.Grant.BLOCK:
        return False
    if policy.apps != Policy.Apps.ALL or policy.methods or policy.new_browser:
        return False
    if policy.recent_failures:
        return False
    locations = list(NamedLocation.objects.all())
    compiled = compile_policy(
        policy,
        include_user_ids=[user.pk for user in relations["include_users"]],
        exclude_user_ids=[user.pk for user in relations["exclude_users"]],
        app_ids=[],
        include_locations=relations["include_locations"],
        exclude_locations=relations["exclude_locations"],
        blocked_locations=[loc for loc in locations if loc.kind == NamedLocation.Kind.BLOCKED],
        trusted_locations=[loc for loc in locations if loc.kind == NamedLocation.Kind.TRUSTED],
        include_group_ids=[group.pk for group in relations["include_groups"]],
        exclude_group_ids=[group.pk for group in relations["exclude_groups"]],
    )
    here = SignInContext(user=actor, app_id=None, ip=ip, method=None)
    if why_not_applied(compiled, here):
        return False
    # The other administrators may sign in from anywhere: only who it is for counts.
    anywhere = dataclasses.replace(
        compiled, any_location=True, include_networks=(), exclude_networks=()
    )
    admins = get_user_model().objects.filter(is_active=True, admin_roles__len__gt=0)
    return all(
        not why_not_applied(anywhere, SignInContext(user=admin, app_id=None, ip=None, method=None))
        for admin in admins.exclude(pk=actor.pk).only("pk", "user_type", "admin_roles")
    )


LOCKOUT_MESSAGE = _(
    "Saving this policy would block every administrator, you included, from signing in. "
    "Exclude yourself or an administrator role, or save it as report-only first and check its "
    "effect in the sign-in log."
)


def _check(policy: ConditionalAccessPolicy, relations: dict, *, actor, request) -> None:
    errors: dict[str, list[str]] = {}
    if policy.users == Policy.Users.SELECTED and not (
        policy.include_members
        or policy.include_guests
        or policy.include_roles
        or relations["include_users"]
        or relations["include_groups"]
    ):
        errors["users"] = [
            _("Choose whom the policy is for: members, guests, roles, users or groups.")
        ]
    if policy.apps == Policy.Apps.SELECTED and not relations["include_apps"]:
        errors["include_apps"] = [_("Choose at least one app, or apply it to all apps.")]
    if policy.locations == Policy.Locations.SELECTED and not relations["include_locations"]:
        errors["include_locations"] = [_("Choose at least one named location.")]
    if policy.grant == Policy.Grant.GRANT and not (
        policy.requirements or policy.sign_in_frequency_hours
    ):
        errors["grant"] = [
            _("A policy that grants access must require something or set a sign-in frequency.")
        ]
    if errors:
        raise ValidationError(errors)
    if _locks_out_admins(
        policy, relations, actor=actor, ip=client_ip(request) if request else None
    ):
        raise ValidationError({"state": [LOCKOUT_MESSAGE]}, code="lockout")


@transaction.atomic
def policy_save(
    *, actor, policy: ConditionalAccessPolicy, relations: dict, request=None
) -> ConditionalAccessPolicy:
    """Create or change a policy (its fields set by the caller, not yet saved) and its
    many-to-many `relations` ({name in RELATIONS: objects}). Refused when it would lock every
    administrator out."""
    relations = {name: list(relations.get(name) or ()) for name in RELATIONS}
    _check(policy, relations, actor=actor, request=request)
    creating = policy.pk is None
    before = None if creating else policy_snapshot(Policy.objects.get(pk=policy.pk))
    policy.full_clean(exclude=RELATIONS)
    policy.save()
    for name, objects in relations.items():
        getattr(policy, name).set(objects)
    audit_record(
        actor=actor,
        action="conditional_access.policy." + ("create" if creating else "update"),
        target=policy,
        before=before,
        after=policy_snapshot(policy, relations),
        request=request,
    )
    return policy


@transaction.atomic
def policy_state_set(*, actor, policy: ConditionalAccessPolicy, state: str, request=None):
    """Turn a policy on, to report-only or off (with the same lock-out protection)."""
    if state not in Policy.State.values:
        raise ValidationError({"state": [_("Choose on, report-only or off.")]})
    before = policy.state
    relations = {name: list(getattr(policy, name).all()) for name in RELATIONS}
    policy.state = state
    _check(policy, relations, actor=actor, request=request)
    policy.save(update_fields=["state", "updated_at"])
    audit_record(
        actor=actor, action="conditional_access.policy.state", target=policy,
        before={"state": before}, after={"state": state}, request=request,
    )  # fmt: skip
    return policy


@transaction.atomic
def policy_delete(*, actor, policy: ConditionalAccessPolicy, request=None) -> None:
    before = policy_snapshot(policy)
    audit_record(
        actor=actor, action="conditional_access.policy.delete", target=policy, before=before,
        request=request,
    )  # fmt: skip
    policy.delete()


def location_snapshot(location: NamedLocation) -> dict:
    return {"name": location.name, "kind": location.kind, "ip_ranges": list(location.ip_ranges)}


@transaction.atomic
def location_save(*, actor, location: NamedLocation, request=None) -> NamedLocation:
    creating = location.pk is None
    before = None if creating else location_snapshot(NamedLocation.objects.get(pk=location.pk))
    location.full_clean()
    location.save()
    audit_record(
        actor=actor,
        action="conditional_access.location." + ("create" if creating else "update"),
        target=location, before=before, after=location_snapshot(location), request=request,
    )  # fmt: skip
    return location


@transaction.atomic
def location_delete(*, actor, location: NamedLocation, request=None) -> None:
    in_use = Policy.objects.filter(include_locations=location).exists()
    if in_use:
        raise ValidationError(
            _("A policy applies only in this location: change that policy first.")
        )
    audit_record(
        actor=actor, action="conditional_access.location.delete", target=location,
        before=location_snapshot(location), request=request,
    )  # fmt: skip
    location.delete()


def default_policy_create() -> None:
    """Every new tenant's safe default (Entra's advice): MFA for administrators, report-only
    so that it changes nothing until an admin turns it on. Run by a data migration on the
    template schema, so new tenants get it with no work at creation."""
    Policy.objects.get_or_create(
        name=DEFAULT_POLICY_NAME,
        defaults={
            "state": Policy.State.REPORT_ONLY,
            "users": Policy.Users.SELECTED,
            "include_roles": list(AdminRole.values),
            "grant": Policy.Grant.GRANT,
            "require_mfa": True,
        },
    )
