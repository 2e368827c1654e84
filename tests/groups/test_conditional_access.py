"""Groups as a conditional access assignment: a policy includes or excludes the members of
groups (an exclusion wins), evaluated by the one engine at sign-in, at token issue and in the
what-if tool, which agree on a matrix."""

from __future__ import annotations

import itertools

from django_tenants.utils import tenant_context

from audit.models import SignInEvent
from conditional_access.evaluation import SignInContext, evaluate
from conditional_access.models import ConditionalAccessPolicy as Policy
from groups import services
from tests.conditional_access.helpers import client_from, make_policy, policies_clear, sign_in
from tests.groups.helpers import make_group, make_user
from tests.oidc.helpers import Flow, register_app

WHAT_IF = "/console/policies/conditional-access/what-if/"


def decision(world, user, app_id=None):
    with tenant_context(world.tenant):
        return evaluate(SignInContext(user=user, app_id=app_id, ip="192.0.2.10", method=None))


def test_group_include_and_exclude_on_a_matrix_what_if_equals_real(acme):
    policies_clear(acme)
    contractors, vips, staff = make_group(acme), make_group(acme), make_group(acme)
    users = {
        "contractor": make_user(acme),
        "contractor_vip": make_user(acme),
        "staff": make_user(acme),
        "nobody": make_user(acme),
        "guest_vip": make_user(acme, user_type="guest"),
    }
    with tenant_context(acme.tenant):
        for group, names in (
            (contractors, ["contractor", "contractor_vip"]),
            (vips, ["contractor_vip", "guest_vip"]),
            (staff, ["staff"]),
        ):
            services.group_members_add(
                actor=acme.admin, group=group, users=[users[name] for name in names]
            )
    make_policy(acme, name="Block contractors", grant="block", users="selected",
                relations={"include_groups": [contractors], "exclude_groups": [vips]})  # fmt: skip
    make_policy(acme, name="MFA for staff and guests", require_mfa=True, users="selected",
                include_guests=True, relations={"include_groups": [staff]})  # fmt: skip
    make_policy(acme, name="Everyone but VIPs change password", require_password_change=True,
                relations={"exclude_groups": [vips]})  # fmt: skip
    expected = {
        # name: (blocked, requirements)
        "contractor": (True, set()),
        "contractor_vip": (False, set()),  # the exclusion wins over the inclusion
        "staff": (False, {"mfa", "password_change"}),
        "nobody": (False, {"password_change"}),
        "guest_vip": (False, {"mfa"}),  # included as a guest, excluded from the third
    }
    client = acme.client(acme.admin)
    for (name, user), ip in itertools.product(users.items(), ("192.0.2.10", "203.0.113.9")):
        real = decision(acme, user)
        blocked, requirements = expected[name]
        assert real.blocked is blocked, name
        assert set(real.requirements) == requirements, name
        shown = client.get(WHAT_IF, {"email": user.email, "ip": ip, "method": ""})
        assert shown.status_code == 200
        assert shown.context["decision"] == real, name
    page = client.get(WHAT_IF, {"email": users["contractor_vip"].email, "ip": "192.0.2.10"})
    groups_line = page.content.decode().split('id="what-if-groups">', 1)[1].split("</p>")[0]
    assert contractors.display_name in groups_line and vips.display_name in groups_line
    assert staff.display_name not in groups_line
    reasons = {
        result.name: result.reason for result in decision(acme, users["contractor_vip"]).results
    }
    assert reasons["Block contractors"] == "user_excluded"


def test_joining_a_group_changes_the_decision_without_touching_the_policy(acme):
    policies_clear(acme)
    blocked = make_group(acme)
    user = make_user(acme)
    make_policy(acme, name="Block the group", grant="block", users="selected",
                relations={"include_groups": [blocked]})  # fmt: skip
    assert decision(acme, user).blocked is False
    with tenant_context(acme.tenant):
        services.group_members_add(actor=acme.admin, group=blocked, users=[user])
    assert decision(acme, user).blocked is True


def test_a_real_sign_in_is_blocked_for_group_members_and_logged(acme):
    policies_clear(acme)
    blocked = make_group(acme)
    member, outsider = make_user(acme), make_user(acme)
    with tenant_context(acme.tenant):
        services.group_members_add(actor=acme.admin, group=blocked, users=[member])
    make_policy(acme, name="Block via group", grant="block", users="selected",
                relations={"include_groups": [blocked]})  # fmt: skip
    response = sign_in(client_from(acme), member.email)
    assert response.status_code == 403
    assert sign_in(client_from(acme), outsider.email).status_code == 302
    with tenant_context(acme.tenant):
        row = SignInEvent.objects.get(user=member)
    assert row.result == "blocked"
    assert [entry["name"] for entry in row.policies if entry["result"] == "block"] == [
        "Block via group"
    ]


def test_a_refresh_is_refused_once_the_user_joins_a_blocked_group(acme):
    policies_clear(acme)
    app = register_app(acme, name="CA group refresh")
    blocked = make_group(acme)
    user = make_user(acme)
    make_policy(acme, name="Block group at app", grant="block", users="selected",
                apps="selected", relations={"include_groups": [blocked],
                                            "include_apps": [app.application]})  # fmt: skip
    flow = Flow(acme, user=user)
    body = flow.sign_in(app)
    with tenant_context(acme.tenant):
        services.group_members_add(actor=acme.admin, group=blocked, users=[user])
    status, refused = flow.token(
        app, {"grant_type": "refresh_token", "refresh_token": body["refresh_token"]}
    )
    assert status == 400 and refused["error"] == "invalid_grant"


def test_the_policy_form_saves_groups_and_requires_someone_to_include(acme):
    policies_clear(acme)
    security_admin = make_user(acme, admin_roles=["security_administrator"])
    included, excluded = make_group(acme, name="CA included"), make_group(acme, name="CA out")
    client = acme.client(security_admin)
    form = {
        "name": "Groups policy", "state": "report_only", "users": "selected",
        "apps": "all", "locations": "any", "grant": "grant", "require_mfa": "on",
        "include_groups": [included.pk], "exclude_groups": [excluded.pk],
    }  # fmt: skip
    page = client.get("/console/policies/conditional-access/new/").content.decode()
    assert "Members of these groups" in page and "CA included" in page
    response = client.post("/console/policies/conditional-access/new/", form)
    assert response.status_code in (302, 303), response.content.decode()[:2000]
    with tenant_context(acme.tenant):
        policy = Policy.objects.get(name="Groups policy")
        assert list(policy.include_groups.all()) == [included]
        assert list(policy.exclude_groups.all()) == [excluded]
    response = client.post(
        "/console/policies/conditional-access/new/",
        {**form, "name": "Nobody", "include_groups": []},
    )
    assert "Choose whom the policy is for" in response.content.decode()
