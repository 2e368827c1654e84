from __future__ import annotations

from django.contrib.postgres.expressions import ArraySubquery
from django.db import connection
from django.db.models import OuterRef
from django.utils import timezone

from ciam.process_cache import ProcessCache
from conditional_access.evaluation import CompiledPolicy, TenantPolicies, networks
from conditional_access.models import ConditionalAccessPolicy, NamedLocation

# Each tenant's compiled policies, kept by each process until a policy or a named location
# changes anywhere (conditional_access.apps wires saves, deletes and many-to-many changes).
# Kept when read inside a transaction: the token endpoint reads them in its own, and a
# transaction that writes policies forgets them here at once (invalidate) and everywhere on
# commit.
_policies = ProcessCache("conditional-access:policies-generation", max_entries=10_000)

EMPTY = TenantPolicies()
_RELATIONS = ("include_users", "exclude_users", "include_apps", "include_locations",
              "exclude_locations", "include_groups", "exclude_groups")  # fmt: skip


def policies_cache_invalidate() -> None:
    _policies.invalidate()


def policy_list():
    return ConditionalAccessPolicy.objects.order_by("name")


def policy_get(public_id) -> ConditionalAccessPolicy | None:
    return ConditionalAccessPolicy.objects.filter(public_id=public_id).first()


def location_list():
    return NamedLocation.objects.order_by("name")


def location_get(public_id) -> NamedLocation | None:
    return NamedLocation.objects.filter(public_id=public_id).first()


def compile_policy(
    policy: ConditionalAccessPolicy,
    *,
    include_user_ids,
    exclude_user_ids,
    app_ids,
    include_locations,
    exclude_locations,
    blocked_locations=(),
    trusted_locations=(),
    include_group_ids=(),
    exclude_group_ids=(),
) -> CompiledPolicy:
    Locations = ConditionalAccessPolicy.Locations
    included = {
        Locations.ANY: (),
        Locations.SELECTED: include_locations,
        Locations.BLOCKED: blocked_locations,
    }[policy.locations]
    excluded = [*exclude_locations, *(trusted_locations if policy.exclude_trusted else ())]
    return CompiledPolicy(
        public_id=str(policy.public_id),
        name=policy.name,
        state=policy.state,
        all_users=policy.users == ConditionalAccessPolicy.Users.ALL,
        include_members=policy.include_members,
        include_guests=policy.include_guests,
        include_roles=frozenset(policy.include_roles),
        include_user_ids=frozenset(include_user_ids),
        exclude_roles=frozenset(policy.exclude_roles),
        exclude_user_ids=frozenset(exclude_user_ids),
        all_apps=policy.apps == ConditionalAccessPolicy.Apps.ALL,
        app_ids=frozenset(app_ids),
        any_location=policy.locations == Locations.ANY,
        include_networks=tuple(net for loc in included for net in networks(loc.ip_ranges)),
        exclude_networks=tuple(net for loc in excluded for net in networks(loc.ip_ranges)),
        methods=frozenset(policy.methods),
        new_browser=policy.new_browser,
        recent_failures=policy.recent_failures,
        block=policy.grant == ConditionalAccessPolicy.Grant.BLOCK,
        requirements=frozenset(policy.requirements),
        sign_in_frequency=policy.sign_in_frequency_hours,
        include_group_ids=frozenset(include_group_ids),
        exclude_group_ids=frozenset(exclude_group_ids),
    )


def _related_ids(name: str) -> ArraySubquery:
    """The ids a policy's many-to-many field holds, as an array column of the policy row."""
    field = ConditionalAccessPolicy._meta.get_field(name)
    through = field.remote_field.through
    source = through._meta.get_field(field.m2m_field_name()).attname
    target = through._meta.get_field(field.m2m_reverse_field_name()).attname
    return ArraySubquery(
        through.objects.filter(**{source: OuterRef("pk")}).order_by(target).values(target)
    )


def tenant_policies_load() -> TenantPolicies:
    """The current tenant's policies compiled, read from the database: one statement, and one
    more for the named locations when a policy uses them."""
    policies = list(
        ConditionalAccessPolicy.objects.order_by("name").annotate(
            **{f"{field}_ids": _related_ids(field) for field in _RELATIONS}
        )
    )
    uses_locations = any(
        policy.locations != ConditionalAccessPolicy.Locations.ANY
        or policy.exclude_trusted
        or policy.exclude_locations_ids
        for policy in policies
    )
    locations = {location.pk: location for location in NamedLocation.objects.all()} if (
        uses_locations
    ) else {}  # fmt: skip
    by_kind = {
        kind: [location for location in locations.values() if location.kind == kind]
        for kind in NamedLocation.Kind.values
    }
    return TenantPolicies(
        tuple(
            compile_policy(
                policy,
                include_user_ids=policy.include_users_ids,
                exclude_user_ids=policy.exclude_users_ids,
                app_ids=policy.include_apps_ids,
                include_locations=[locations[pk] for pk in policy.include_locations_ids],
                exclude_locations=[locations[pk] for pk in policy.exclude_locations_ids],
                blocked_locations=by_kind[NamedLocation.Kind.BLOCKED],
                trusted_locations=by_kind[NamedLocation.Kind.TRUSTED],
                include_group_ids=policy.include_groups_ids,
                exclude_group_ids=policy.exclude_groups_ids,
            )
            for policy in policies
        )
    )


def tenant_policies() -> TenantPolicies:
    """The current tenant's compiled policies, kept by the process: one dict lookup."""
    schema = connection.schema_name
    if schema == "public":
        return EMPTY
    policies = _policies.get(schema)
    if policies is None:
        policies = tenant_policies_load()
        _policies.set(schema, policies)
    return policies


def recent_failures(user, *, hours: int = 1) -> int:
    """Failed sign-ins to `user`'s account in the last hour, from the sign-in log (wrong
    passwords and codes, lockouts, blocks)."""
    from audit.models import SignInEvent

    if user is None or user.pk is None:
        return 0
    since = timezone.now() - timezone.timedelta(hours=hours)
    failed = (SignInEvent.Result.FAILURE, SignInEvent.Result.LOCKED_OUT)
    return SignInEvent.objects.filter(
        user_id=user.pk, occurred_at__gte=since, result__in=failed
    ).count()
