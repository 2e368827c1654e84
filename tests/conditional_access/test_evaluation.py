"""The engine on a matrix of assignments x conditions x grants, and how policies combine
(Entra's rules: every requirement of every policy that is on must be met, block wins,
report-only and off never change the result, exclusions always win)."""

from __future__ import annotations

import itertools
from types import SimpleNamespace

import pytest
from django_tenants.utils import tenant_context

from accounts.roles import AdminRole
from conditional_access.evaluation import SignInContext, TenantPolicies, evaluate_policies
from conditional_access.models import NamedLocation
from conditional_access.selectors import tenant_policies
from tests.conditional_access.helpers import (
    make_location,
    make_policy,
    make_user,
    policies_clear,
)
from tests.oidc.helpers import register_app

OFFICE, BAD, ELSEWHERE = "203.0.113.7", "198.51.100.9", "192.0.2.44"

ASSIGNMENTS = {
    "all users": ({"users": "all"}, lambda who: True),
    "members": ({"users": "selected", "include_members": True}, lambda who: who != "guest"),
    "guests": ({"users": "selected", "include_guests": True}, lambda who: who == "guest"),
    "security admins": (
        {"users": "selected", "include_roles": [AdminRole.SECURITY_ADMINISTRATOR]},
        lambda who: who == "security admin",
    ),
    "chosen user": ({"users": "selected", "chosen": True}, lambda who: who == "member"),
    "all but security admins": (
        {"users": "all", "exclude_roles": [AdminRole.SECURITY_ADMINISTRATOR]},
        lambda who: who != "security admin",
    ),
}
CONDITIONS = {
    "none": ({}, lambda c: True),
    "app A": ({"apps": "selected", "app_a": True}, lambda c: c.app == "A"),
    "blocked locations": ({"locations": "blocked"}, lambda c: c.ip == BAD),
    "except trusted": ({"exclude_trusted": True}, lambda c: c.ip != OFFICE),
    "selected location": ({"locations": "selected", "office": True}, lambda c: c.ip == OFFICE),
    "password": ({"methods": ["password"]}, lambda c: c.method == "password"),
    "new browser": ({"new_browser": True}, lambda c: c.new_browser is True),
    "3 failures": ({"recent_failures": 3}, lambda c: c.failures >= 3),
}
GRANTS = {
    "block": {"grant": "block"},
    "mfa": {"grant": "grant", "require_mfa": True},
    "password change and frequency": {
        "grant": "grant",
        "require_password_change": True,
        "sign_in_frequency_hours": 4,
    },
}


@pytest.fixture
def world(acme):
    policies_clear(acme)
    office = make_location(acme, "Office", ["203.0.113.0/24"])
    make_location(acme, "Bad range", ["198.51.100.0/24"], kind=NamedLocation.Kind.BLOCKED)
    app_a = register_app(acme, name="App A").application
    app_b = register_app(acme, name="App B").application
    users = {
        "member": make_user(acme),
        "guest": make_user(acme, user_type="guest"),
        "security admin": make_user(acme, admin_roles=[AdminRole.SECURITY_ADMINISTRATOR]),
        "global admin": acme.admin,
    }
    return SimpleNamespace(acme=acme, office=office, apps={"A": app_a, "B": app_b}, users=users)


def contexts(world):
    """Every sign-in of the matrix: who, app, address, method, browser, failures."""
    for who, app, ip, method, new_browser, failures in itertools.product(
        world.users, (None, "A", "B"), (OFFICE, BAD, ELSEWHERE),
        ("password", "email_code", None), (True, False), (0, 5),
    ):  # fmt: skip
        if method is None:
            new_browser = None  # a token issue: no browser
        yield SimpleNamespace(
            who=who, app=app, ip=ip, method=method, new_browser=new_browser, failures=failures
        )


def context_for(world, case) -> SignInContext:
    return SignInContext(
        user=world.users[case.who],
        app_id=world.apps[case.app].pk if case.app else None,
        ip=case.ip,
        method=case.method,
        new_browser=case.new_browser,
        recent_failures=case.failures,
    )


def test_policy_matrix_of_assignments_conditions_and_grants(world):
    made = {}
    with tenant_context(world.acme.tenant):
        for (a_name, (assign, _)), (c_name, (cond, _)), (g_name, grant) in itertools.product(
            ASSIGNMENTS.items(), CONDITIONS.items(), GRANTS.items()
        ):
            fields = {**assign, **cond, **grant}
            relations = {}
            if fields.pop("chosen", False):
                relations["include_users"] = [world.users["member"]]
            if fields.pop("app_a", False):
                relations["include_apps"] = [world.apps["A"]]
            if fields.pop("office", False):
                relations["include_locations"] = [world.office]
            name = f"{a_name} / {c_name} / {g_name}"
            made[name] = (a_name, c_name, g_name)
            make_policy(world.acme, name=name, relations=relations, **fields)
        compiled = {policy.name: policy for policy in tenant_policies().policies}
    assert set(compiled) == set(made)
    cases = list(contexts(world))
    checked = 0
    for name, (a_name, c_name, g_name) in made.items():
        alone = TenantPolicies((compiled[name],))
        for case in cases:
            decision = evaluate_policies(alone, context_for(world, case))
            applies = ASSIGNMENTS[a_name][1](case.who) and CONDITIONS[c_name][1](case)
            (result,) = decision.results
            assert result.applied is applies, (name, case, result.reason)
            if g_name == "block":
                assert decision.blocked is applies
                assert decision.requirements == frozenset()
            elif g_name == "mfa":
                assert not decision.blocked
                assert decision.requirements == (frozenset({"mfa"}) if applies else frozenset())
            else:
                assert decision.requirements == (
                    frozenset({"password_change"}) if applies else frozenset()
                )
                assert decision.sign_in_frequency == (4 if applies else None)
            checked += 1
    assert checked == len(made) * len(cases)


def test_block_wins_and_requirements_of_every_policy_add_up(world, acme):
    member = world.users["member"]
    make_policy(acme, name="mfa", require_mfa=True, sign_in_frequency_hours=8)
    make_policy(acme, name="password", require_password_change=True, sign_in_frequency_hours=2)
    with tenant_context(acme.tenant):
        decision = evaluate_policies(
            tenant_policies(),
            SignInContext(user=member, app_id=None, ip=ELSEWHERE, method="password"),
        )
    assert not decision.blocked
    assert decision.requirements == {"mfa", "password_change"}
    assert decision.sign_in_frequency == 2
    make_policy(acme, name="block app A", grant="block", apps="selected",
                relations={"include_apps": [world.apps["A"]]})  # fmt: skip
    with tenant_context(acme.tenant):
        policies = tenant_policies()
        on_a = evaluate_policies(
            policies, SignInContext(user=member, app_id=world.apps["A"].pk, ip=ELSEWHERE,
                                    method="password")
        )  # fmt: skip
        on_b = evaluate_policies(
            policies, SignInContext(user=member, app_id=world.apps["B"].pk, ip=ELSEWHERE,
                                    method="password")
        )  # fmt: skip
    assert on_a.blocked and on_a.blocked_by == ["block app A"]
    assert on_a.requirements == frozenset()
    assert not on_b.blocked and on_b.requirements == {"mfa", "password_change"}


def test_report_only_and_off_policies_never_change_the_result_but_report_only_is_reported(
    world, acme
):
    member = world.users["member"]
    make_policy(acme, name="would block", state="report_only", grant="block")
    make_policy(acme, name="would ask mfa", state="report_only", require_mfa=True)
    make_policy(acme, name="switched off", state="off", grant="block")
    with tenant_context(acme.tenant):
        decision = evaluate_policies(
            tenant_policies(),
            SignInContext(user=member, app_id=None, ip=ELSEWHERE, method="password"),
        )
    assert not decision.blocked and decision.requirements == frozenset()
    results = {result.name: result for result in decision.results}
    assert results["would block"].applied and results["would block"].block
    assert results["would ask mfa"].applied
    assert results["switched off"].reason == "off"
    logged = {entry["name"]: entry for entry in decision.log_entries()}
    assert set(logged) == {"would block", "would ask mfa"}
    assert logged["would block"] == {
        "id": str(results["would block"].public_id), "name": "would block",
        "state": "report_only", "result": "block",
    }  # fmt: skip


def test_exclusions_always_win_over_inclusions(world, acme):
    admin = world.users["security admin"]
    member = world.users["member"]
    make_policy(
        acme, name="block", grant="block", users="selected", include_members=True,
        include_roles=[AdminRole.SECURITY_ADMINISTRATOR],
        exclude_roles=[AdminRole.SECURITY_ADMINISTRATOR],
        relations={"include_users": [member], "exclude_users": [member]},
    )  # fmt: skip
    with tenant_context(acme.tenant):
        policies = tenant_policies()
        for user in (admin, member):
            decision = evaluate_policies(
                policies, SignInContext(user=user, app_id=None, ip=OFFICE, method="password")
            )
            assert not decision.blocked
            assert decision.results[0].reason == "user_excluded"
        other = make_user(acme)
        decision = evaluate_policies(
            policies, SignInContext(user=other, app_id=None, ip=OFFICE, method="password")
        )
    assert decision.blocked


def test_a_tenant_without_policies_decides_nothing(world, acme):
    with tenant_context(acme.tenant):
        decision = evaluate_policies(
            tenant_policies(),
            SignInContext(user=world.users["member"], app_id=None, ip=OFFICE, method="password"),
        )
    assert decision.results == () and not decision.blocked and not decision.requirements
