"""The conditional access engine: plain functions over a tenant's policies, compiled once per
process (conditional_access.selectors) into frozen values so that a sign-in or a token issue
costs no query.

    decision = evaluate(context)           # context: SignInContext
    decision.blocked                       # a policy that is on blocks: block wins
    decision.requirements                  # {"mfa", "passkey", "password_change"}: all must be met
    decision.sign_in_frequency             # hours, the shortest of the policies that apply
    decision.results                       # every policy: applied or not and why, report-only too

Policies combine as Entra's: every grant control of every policy that is on and applies must
be met, and one that blocks wins. Report-only policies are evaluated and reported, never
enforced. The console's what-if page calls evaluate() with the context an admin types in; a
sign-in and a token issue call it with the real one.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext_lazy as _

from conditional_access.models import ConditionalAccessPolicy as Policy

Network = ipaddress.IPv4Network | ipaddress.IPv6Network

REQUIREMENTS = ("mfa", "passkey", "password_change")

# Methods of the sign-in log counted as the policy's methods (a sign-in right after a
# password reset proved the new password).
_METHOD_ALIASES = {"password_reset": Policy.Method.PASSWORD}

# Why a policy did not apply: code (kept in the sign-in log) and what people read.
NOT_APPLIED_REASONS = {
    "off": _("The policy is off."),
    "user_excluded": _("The user is excluded."),
    "user_not_included": _("The user is not among the users it is for."),
    "not_an_app": _("The sign-in is not for one of its apps (console, My account)."),
    "app_not_included": _("The app is not one of its apps."),
    "location_not_included": _("The IP address is not in its locations."),
    "location_excluded": _("The IP address is in an excluded location."),
    "method_unknown": _("The sign-in method is not known when a token is issued."),
    "method_not_included": _("The sign-in method is not one of its methods."),
    "browser_familiar": _("The browser signed in to this account before."),
    "browser_unknown": _("There is no browser when a token is issued."),
    "failures_below": _("Fewer failed sign-ins in the last hour than its threshold."),
}


@dataclass(frozen=True)
class CompiledPolicy:
    """A policy as the engine reads it: ids and parsed networks, no database access."""

    public_id: str
    name: str
    state: str
    all_users: bool
    include_members: bool
    include_guests: bool
    include_roles: frozenset[str]
    include_user_ids: frozenset[int]
    exclude_roles: frozenset[str]
    exclude_user_ids: frozenset[int]
    all_apps: bool
    app_ids: frozenset[int]
    any_location: bool
    include_networks: tuple[Network, ...]
    exclude_networks: tuple[Network, ...]
    methods: frozenset[str]
    new_browser: bool
    recent_failures: int | None
    block: bool
    requirements: frozenset[str]
    sign_in_frequency: int | None
    # Groups (primary keys) whose members it is for, or not for: read last, since a user's
    # groups cost a query (SignInContext.group_ids).
    include_group_ids: frozenset[int] = frozenset()
    exclude_group_ids: frozenset[int] = frozenset()
    # What this policy gave, by reason ("" when it applied): a policy's result depends only on
    # the policy and the reason, so each is made once per process (bench/policies.py).
    results_made: dict = field(default_factory=dict, compare=False, hash=False, repr=False)

    @property
    def is_on(self) -> bool:
        return self.state == Policy.State.ON

    def result(self, reason: str) -> PolicyResult:
        made = self.results_made.get(reason)
        if made is None:
            if reason:
                made = PolicyResult(self.public_id, self.name, self.state, False, reason)
            else:
                made = PolicyResult(
                    self.public_id, self.name, self.state, True, block=self.block,
                    requirements=tuple(sorted(self.requirements)),
                    sign_in_frequency=self.sign_in_frequency,
                )  # fmt: skip
            self.results_made[reason] = made
        return made


@dataclass(frozen=True)
class TenantPolicies:
    policies: tuple[CompiledPolicy, ...] = ()

    @property
    def any_on(self) -> bool:
        return any(policy.is_on for policy in self.policies)

    @property
    def any_enabled(self) -> bool:
        return any(policy.state != Policy.State.OFF for policy in self.policies)


def networks(ranges) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(text, strict=False) for text in ranges)


@dataclass
class SignInContext:
    """One sign-in or token issue. `user` needs pk, user_type and admin_roles. `app_id` is the
    Application's primary key, None for a sign-in to the console or My account. `method` is
    None at the token endpoint (the sign-in that began it is long past). The risk signals are
    values, or functions computing them only when a policy asks (None: cannot be known).
    `group_ids`, the user's groups, is read from the directory when a policy names groups and
    the caller gave none."""

    user: Any
    app_id: int | None
    ip: str | None
    method: str | None
    new_browser: bool | None | Callable[[], bool | None] = None
    recent_failures: int | None | Callable[[], int | None] = None
    group_ids: frozenset[int] | Callable[[], frozenset[int]] | None = None
    _resolved: dict = field(default_factory=dict, repr=False)

    def groups(self) -> frozenset[int]:
        if "group_ids" not in self._resolved:
            value = self.group_ids
            if value is None:
                from groups.selectors import user_group_ids

                value = user_group_ids(getattr(self.user, "pk", None))
            self._resolved["group_ids"] = frozenset(value() if callable(value) else value)
        return self._resolved["group_ids"]

    def signal(self, name: str):
        if name not in self._resolved:
            value = getattr(self, name)
            self._resolved[name] = value() if callable(value) else value
        return self._resolved[name]

    def address(self):
        if "ip" not in self._resolved:
            try:
                self._resolved["ip"] = ipaddress.ip_address(self.ip) if self.ip else None
            except ValueError:
                self._resolved["ip"] = None
        return self._resolved["ip"]


@dataclass(frozen=True)
class PolicyResult:
    public_id: str
    name: str
    state: str
    applied: bool
    reason: str = ""  # a key of NOT_APPLIED_REASONS when not applied
    block: bool = False
    requirements: tuple[str, ...] = ()
    sign_in_frequency: int | None = None

    @property
    def is_report_only(self) -> bool:
        return self.state == Policy.State.REPORT_ONLY

    @property
    def reason_text(self) -> str:
        return str(NOT_APPLIED_REASONS.get(self.reason, ""))

    @property
    def outcome(self) -> str:
        """ "block", "grant" (with its requirements) or "not_applied"."""
        if not self.applied:
            return "not_applied"
        return "block" if self.block else "grant"

    def log_entry(self) -> dict:
        """The policy's line in the sign-in log (audit.SignInEvent.policies); made once, shared:
        read it, never change it."""
        made = self.__dict__.get("_log_entry")
        if made is None:
            made = self._log_entry_make()
            object.__setattr__(self, "_log_entry", made)
        return made

    def _log_entry_make(self) -> dict:
        entry = {"id": self.public_id, "name": self.name, "state": self.state}
        entry["result"] = self.outcome
        if self.applied and not self.block:
            entry["requirements"] = list(self.requirements)
            if self.sign_in_frequency:
                entry["sign_in_frequency"] = self.sign_in_frequency
        if not self.applied:
            entry["reason"] = self.reason
        return entry


@dataclass(frozen=True)
class Decision:
    blocked: bool = False
    requirements: frozenset[str] = frozenset()
    sign_in_frequency: int | None = None  # hours
    results: tuple[PolicyResult, ...] = ()

    @property
    def requirement_list(self) -> list[str]:
        return sorted(self.requirements)

    @property
    def blocked_by(self) -> list[str]:
        return [
            result.name
            for result in self.results
            if result.applied and result.block and not result.is_report_only
        ]

    def log_entries(self) -> list[dict]:
        """Every policy that is on or report-only, with its result (off ones are left out)."""
        return [result.log_entry() for result in self.results if result.state != Policy.State.OFF]


NO_DECISION = Decision()


def why_not_applied(policy: CompiledPolicy, context: SignInContext) -> str:
    """Why `policy` does not apply to this sign-in, or "" when it does."""
    if policy.state == Policy.State.OFF:
        return "off"
    user = context.user
    roles = set(getattr(user, "admin_roles", None) or ())
    if user.pk in policy.exclude_user_ids or roles & policy.exclude_roles:
        return "user_excluded"
    if policy.exclude_group_ids and context.groups() & policy.exclude_group_ids:
        return "user_excluded"
    if not policy.all_users:
        is_guest = getattr(user, "user_type", "member") == "guest"
        included = (
            user.pk in policy.include_user_ids
            or bool(roles & policy.include_roles)
            or (policy.include_guests and is_guest)
            or (policy.include_members and not is_guest)
            or bool(policy.include_group_ids and context.groups() & policy.include_group_ids)
        )
        if not included:
            return "user_not_included"
    if not policy.all_apps:
        if context.app_id is None:
            return "not_an_app"
        if context.app_id not in policy.app_ids:
            return "app_not_included"
    if not policy.any_location or policy.exclude_networks:
        address = context.address()
        if not policy.any_location and (
            address is None or not any(address in network for network in policy.include_networks)
        ):
            return "location_not_included"
        if address is not None and any(address in network for network in policy.exclude_networks):
            return "location_excluded"
    if policy.methods:
        if context.method is None:
            return "method_unknown"
        if _METHOD_ALIASES.get(context.method, context.method) not in policy.methods:
            return "method_not_included"
    if policy.new_browser:
        new_browser = context.signal("new_browser")
        if new_browser is None:
            return "browser_unknown"
        if not new_browser:
            return "browser_familiar"
    if policy.recent_failures:
        failures = context.signal("recent_failures") or 0
        if failures < policy.recent_failures:
            return "failures_below"
    return ""


def evaluate_policies(policies: TenantPolicies, context: SignInContext) -> Decision:
    """The decision of `policies` for one sign-in (what-if and real evaluation alike)."""
    if not policies.policies:
        return NO_DECISION
    blocked = False
    requirements: set[str] = set()
    frequencies: list[int] = []
    results = []
    for policy in policies.policies:
        reason = why_not_applied(policy, context)
        results.append(policy.result(reason))
        if reason:
            continue
        if not policy.is_on:
            continue
        blocked = blocked or policy.block
        requirements |= policy.requirements
        if policy.sign_in_frequency:
            frequencies.append(policy.sign_in_frequency)
    return Decision(
        blocked=blocked,
        requirements=frozenset() if blocked else frozenset(requirements),
        sign_in_frequency=min(frequencies) if frequencies else None,
        results=tuple(results),
    )


def evaluate(context: SignInContext) -> Decision:
    """The decision of the current tenant's policies (cached per process) for one sign-in."""
    from conditional_access.selectors import tenant_policies

    return evaluate_policies(tenant_policies(), context)
