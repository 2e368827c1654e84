"""Conditional access at the token endpoint: a policy turned on applies to codes and refresh
tokens already issued, at no cost while no policy is on."""

from __future__ import annotations

import json
import time

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import tenant_context
from oauth2_provider.models import Grant

from audit.models import SignInEvent
from tests.conditional_access.helpers import make_location, make_policy, policies_clear
from tests.oidc.helpers import Flow, register_app


def refresh(flow, app, token):
    return flow.token(app, {"grant_type": "refresh_token", "refresh_token": token})


def test_refresh_token_is_refused_once_a_policy_blocks_its_app(acme):
    policies_clear(acme)
    blocked, other = register_app(acme, name="Blocked"), register_app(acme, name="Other")
    flow = Flow(acme, user=acme.member)
    blocked_tokens, other_tokens = flow.sign_in(blocked), flow.sign_in(other)
    status, body = refresh(flow, blocked, blocked_tokens["refresh_token"])
    assert status == 200
    make_policy(acme, name="Block the app", grant="block", apps="selected",
                relations={"include_apps": [blocked.application]})  # fmt: skip
    status, refused = refresh(flow, blocked, body["refresh_token"])
    assert status == 400 and refused["error"] == "invalid_grant"
    assert "conditional access" in refused["error_description"]
    assert refresh(flow, other, other_tokens["refresh_token"])[0] == 200
    with tenant_context(acme.tenant):
        row = SignInEvent.objects.filter(app_id=blocked.client_id).order_by("-id").first()
    assert row.result == "failure" and row.policies[0]["result"] == "block"


def test_refresh_is_refused_from_a_blocked_location_and_allowed_again_when_it_is_lifted(acme):
    policies_clear(acme)
    app = register_app(acme)
    flow = Flow(acme, user=acme.member)
    tokens = flow.sign_in(app)
    make_location(acme, "Loopback", ["127.0.0.0/8"], kind="blocked")
    policy = make_policy(acme, name="Blocked ranges", grant="block", locations="blocked")
    assert refresh(flow, app, tokens["refresh_token"])[0] == 400
    with tenant_context(acme.tenant):
        policy.state = "report_only"
        policy.save()
    status, body = refresh(flow, app, tokens["refresh_token"])
    assert status == 200, body  # a refusal leaves the refresh token as it was


def test_code_exchange_is_refused_for_a_blocked_user(acme):
    policies_clear(acme)
    app = register_app(acme)
    flow = Flow(acme, user=acme.member)
    code, verifier = flow.code(app)
    make_policy(acme, name="Block members", grant="block", users="selected",
                include_members=True, exclude_roles=["global_administrator"])  # fmt: skip
    status, body = flow.exchange(app, code, verifier)
    assert status == 400 and body["error"] == "invalid_grant"


def test_sign_in_frequency_refuses_tokens_for_an_older_sign_in(acme):
    policies_clear(acme)
    app = register_app(acme)
    make_policy(acme, name="Every hour", require_mfa=False, sign_in_frequency_hours=1)
    flow = Flow(acme, user=acme.member)
    fresh_code, fresh_verifier = flow.code(app)
    assert flow.exchange(app, fresh_code, fresh_verifier)[0] == 200
    old_code, old_verifier = flow.code(app)
    with tenant_context(acme.tenant):
        Grant.objects.filter(code=old_code).update(
            claims=json.dumps({"auth_time": int(time.time()) - 2 * 3600})
        )
    status, body = flow.exchange(app, old_code, old_verifier)
    assert status == 400 and "sign in again" in body["error_description"]


def test_report_only_policies_never_refuse_a_token(acme):
    policies_clear(acme)
    app = register_app(acme)
    make_policy(acme, name="Would block", state="report_only", grant="block")
    flow = Flow(acme, user=acme.member)
    tokens = flow.sign_in(app)
    assert refresh(flow, app, tokens["refresh_token"])[0] == 200


def test_policies_cost_no_query_once_read(acme):
    policies_clear(acme)
    app, other = register_app(acme), register_app(acme, name="Other")
    flow = Flow(acme, user=acme.member)
    token = flow.sign_in(app)["refresh_token"]
    status, body = refresh(flow, app, token)
    with CaptureQueriesContext(connection) as without_policy:
        status, body = refresh(flow, app, body["refresh_token"])
    make_policy(acme, name="Block the other app", grant="block", apps="selected",
                relations={"include_apps": [other.application]})  # fmt: skip
    status, body = refresh(flow, app, body["refresh_token"])  # reads the policies once
    with CaptureQueriesContext(connection) as with_policy:
        status, body = refresh(flow, app, body["refresh_token"])
    assert status == 200
    assert len(with_policy) == len(without_policy)


def test_policies_by_role_and_user_type_apply_at_the_token_endpoint(acme):
    from tests.conditional_access.helpers import make_user

    policies_clear(acme)
    app = register_app(acme)
    admin = make_user(acme, admin_roles=["reports_reader"])
    guest = make_user(acme, user_type="guest")
    member = make_user(acme)
    tokens = {user: Flow(acme, user=user).sign_in(app) for user in (admin, guest, member)}
    make_policy(acme, name="Block readers and guests", grant="block", users="selected",
                include_roles=["reports_reader"], include_guests=True)  # fmt: skip
    answers = {
        user: refresh(Flow(acme, user=user), app, body["refresh_token"])[0]
        for user, body in tokens.items()
    }
    assert answers == {admin: 400, guest: 400, member: 200}


def test_a_signed_in_browser_asking_for_a_blocked_app_gets_the_block_page(acme):
    policies_clear(acme)
    blocked, other = register_app(acme, name="Blocked"), register_app(acme, name="Other")
    make_policy(acme, name="Block the app", grant="block", apps="selected",
                relations={"include_apps": [blocked.application]})  # fmt: skip
    flow = Flow(acme, user=acme.member)
    response, _verifier = flow.authorize(blocked)
    assert response.status_code == 403
    assert "does not allow this sign-in" in response.content.decode()
    with tenant_context(acme.tenant):
        row = SignInEvent.objects.filter(app_id=blocked.client_id).get()
    assert (row.result, row.failure_reason, row.method) == ("blocked", "blocked_by_policy",
                                                            "session")  # fmt: skip
    assert row.policies[0]["name"] == "Block the app"
    assert flow.code(other)[0]
