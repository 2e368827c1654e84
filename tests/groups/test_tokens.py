"""Tokens carry `roles` from the user's own and their groups' assignments, and `groups` when
the app asks; an app that requires assignment lets in only assigned users and members of
assigned groups, at the authorization endpoint (a page and a sign-in log row) and at every
token issue (code exchange and refresh)."""

from __future__ import annotations

from django_tenants.utils import tenant_context

from audit.models import SignInEvent
from groups import services
from groups.models import Group, GroupMembership
from tests.groups.helpers import app_settings, make_group, make_role, make_user
from tests.oidc.helpers import Flow, jwt_parts, register_app


def refresh(flow, app, token: str):
    return flow.token(app, {"grant_type": "refresh_token", "refresh_token": token})


def test_roles_come_from_direct_and_group_assignments_in_both_tokens(acme):
    app = register_app(acme, name="Roles app")
    user = make_user(acme)
    sales = make_group(acme, members=[user])
    make_role(acme, app.application, "reader", users=[user])
    make_role(acme, app.application, "approver", groups=[sales])
    make_role(acme, app.application, "auditor")  # held by nobody
    body = Flow(acme, user=user).sign_in(app)
    assert jwt_parts(body["access_token"])[1]["roles"] == ["approver", "reader"]
    assert jwt_parts(body["id_token"])[1]["roles"] == ["approver", "reader"]
    # Another app's roles never leak in.
    other = register_app(acme, name="Other app")
    make_role(acme, other.application, "admin", groups=[sales])
    body = Flow(acme, user=user).sign_in(app)
    assert jwt_parts(body["access_token"])[1]["roles"] == ["approver", "reader"]


def test_a_role_held_twice_is_listed_once_and_leaving_the_group_drops_it_at_refresh(acme):
    app = register_app(acme, name="Refresh roles")
    user = make_user(acme)
    team = make_group(acme, members=[user])
    make_role(acme, app.application, "editor", users=[user], groups=[team])
    make_role(acme, app.application, "publisher", groups=[team])
    flow = Flow(acme, user=user)
    body = flow.sign_in(app)
    assert jwt_parts(body["access_token"])[1]["roles"] == ["editor", "publisher"]
    with tenant_context(acme.tenant):
        services.group_member_remove(actor=acme.admin, group=team, user=user)
    status, refreshed = refresh(flow, app, body["refresh_token"])
    assert status == 200, refreshed
    assert jwt_parts(refreshed["access_token"])[1]["roles"] == ["editor"]
    assert jwt_parts(refreshed["id_token"])[1]["roles"] == ["editor"]


def test_userinfo_lists_roles_from_groups_too(acme):
    app = register_app(acme, name="Userinfo roles")
    user = make_user(acme)
    team = make_group(acme, members=[user])
    make_role(acme, app.application, "viewer", groups=[team])
    flow = Flow(acme, user=user)
    body = flow.sign_in(app)
    info = flow.api.get("/o/userinfo/", HTTP_AUTHORIZATION=f"Bearer {body['access_token']}")
    assert info.status_code == 200
    assert info.json()["roles"] == ["viewer"]


def test_the_groups_claim_is_sent_only_to_apps_that_ask(acme):
    app = register_app(acme, name="Groups claim")
    user = make_user(acme)
    first, second = make_group(acme, members=[user]), make_group(acme, members=[user])
    make_group(acme)  # not theirs
    body = Flow(acme, user=user).sign_in(app)
    assert "groups" not in jwt_parts(body["access_token"])[1]
    assert "groups" not in jwt_parts(body["id_token"])[1]
    app_settings(acme, app.application, groups_claim=True)
    flow = Flow(acme, user=user)
    body = flow.sign_in(app)
    expected = sorted([str(first.public_id), str(second.public_id)])
    assert jwt_parts(body["access_token"])[1]["groups"] == expected
    assert jwt_parts(body["id_token"])[1]["groups"] == expected
    status, refreshed = refresh(flow, app, body["refresh_token"])
    assert status == 200 and jwt_parts(refreshed["id_token"])[1]["groups"] == expected
    loner = make_user(acme)
    body = Flow(acme, user=loner).sign_in(app)
    assert jwt_parts(body["id_token"])[1]["groups"] == []


def test_past_150_groups_the_token_says_where_to_read_them(acme):
    app = register_app(acme, name="Overage")
    app_settings(acme, app.application, groups_claim=True)
    user = make_user(acme)
    with tenant_context(acme.tenant):
        groups = Group.objects.bulk_create(
            [Group(display_name=f"Overage {user.pk} {number}") for number in range(151)]
        )
        GroupMembership.objects.bulk_create(
            [GroupMembership(group=group, user=user) for group in groups]
        )
    body = Flow(acme, user=user).sign_in(app)
    for token in (body["access_token"], body["id_token"]):
        claims = jwt_parts(token)[1]
        assert "groups" not in claims
        assert claims["_claim_names"] == {"groups": "src1"}
        endpoint = claims["_claim_sources"]["src1"]["endpoint"]
        assert endpoint == f"http://{acme.host}/api/v1/users/{user.public_id}/memberOf"
    # The endpoint lists them to an app holding Group.Read.All.
    daemon = register_app(acme, app_type="daemon", name="Reader", permissions=["Group.Read.All"])
    client = Flow(acme).api
    token = client.post(
        "/o/token/",
        {"grant_type": "client_credentials", "client_id": daemon.client_id,
         "client_secret": daemon.secret},
    ).json()["access_token"]  # fmt: skip
    listed = client.get(
        f"/api/v1/users/{user.public_id}/memberOf?$top=999",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    ).json()
    assert len(listed["value"]) == 151


def test_assignment_required_refuses_an_unassigned_user_with_a_page_and_a_log_row(acme):
    app = register_app(acme, name="Payroll portal")
    make_role(acme, app.application, "employee")
    app_settings(acme, app.application, assignment_required=True)
    user = make_user(acme)
    response, _verifier = Flow(acme, user=user).authorize(app)
    assert response.status_code == 403
    body = response.content.decode()
    assert "You don't have access to this app" in body
    assert "Payroll portal lets in only the people your organization has given access to" in body
    assert "code=" not in response.get("Location", "")
    with tenant_context(acme.tenant):
        row = SignInEvent.objects.get(user=user, app_id=app.client_id)
    assert (row.result, row.failure_reason) == ("failure", "not_assigned")
    assert row.app_name == "Payroll portal"


def test_assignment_required_lets_in_direct_and_group_assignees(acme):
    app = register_app(acme, name="Assigned only")
    direct, member = make_user(acme), make_user(acme)
    team = make_group(acme, members=[member])
    make_role(acme, app.application, "user", users=[direct])
    make_role(acme, app.application, "staff", groups=[team])
    app_settings(acme, app.application, assignment_required=True)
    assert jwt_parts(Flow(acme, user=direct).sign_in(app)["access_token"])[1]["roles"] == ["user"]
    assert jwt_parts(Flow(acme, user=member).sign_in(app)["id_token"])[1]["roles"] == ["staff"]


def test_an_app_without_assignment_required_lets_everyone_in(acme):
    app = register_app(acme, name="Open app")
    make_role(acme, app.application, "special")
    body = Flow(acme, user=make_user(acme)).sign_in(app)
    assert "roles" not in jwt_parts(body["access_token"])[1]


def test_a_user_unassigned_after_sign_in_gets_no_more_tokens(acme):
    app = register_app(acme, name="Unassigned later")
    user = make_user(acme)
    team = make_group(acme, members=[user])
    make_role(acme, app.application, "staff", groups=[team])
    app_settings(acme, app.application, assignment_required=True)
    flow = Flow(acme, user=user)
    body = flow.sign_in(app)
    code, verifier = flow.code(app)  # asked for while still assigned
    with tenant_context(acme.tenant):
        services.group_member_remove(actor=acme.admin, group=team, user=user)
    status, refused = refresh(flow, app, body["refresh_token"])
    assert status == 400 and refused["error"] == "invalid_grant"
    assert "not assigned" in refused["error_description"]
    status, refused = flow.exchange(app, code, verifier)
    assert status == 400 and refused["error"] == "invalid_grant"
    # Deleting the group that gave the role does the same to its other members.
    other = make_user(acme)
    with tenant_context(acme.tenant):
        services.group_members_add(actor=acme.admin, group=team, users=[other])
    other_flow = Flow(acme, user=other)
    body = other_flow.sign_in(app)
    with tenant_context(acme.tenant):
        services.group_delete(actor=acme.admin, group=team)
    status, refused = refresh(other_flow, app, body["refresh_token"])
    assert status == 400 and refused["error"] == "invalid_grant"


def test_the_app_console_saves_assignment_required_and_the_groups_claim(acme):
    from tests.oidc.helpers import APP_FORM

    client = acme.client(acme.admin)
    response = client.post(
        "/console/apps/new/?type=web",
        {**APP_FORM, "name": "Console settings", "assignment_required": "on",
         "groups_claim": "on"},
    )  # fmt: skip
    assert response.status_code == 303
    page = client.get(response["Location"]).content.decode()
    assert "Required: only users holding one of its roles" in page
    assert "Sent: tokens list the user's group ids." in page
