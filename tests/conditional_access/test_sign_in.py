"""Conditional access at the hosted sign-in: a blocked sign-in gets the block page and a
sign-in log row naming the policy; report-only policies are logged, never enforced; the risk
signals are the real ones (a browser new to the account, recent failures)."""

from __future__ import annotations

import time
from urllib.parse import urlencode

from django_tenants.utils import tenant_context

from audit.models import SignInEvent
from conditional_access.models import NamedLocation
from tests.conditional_access.helpers import (
    client_from,
    make_location,
    make_policy,
    make_user,
    policies_clear,
    sign_in,
)
from tests.oidc.helpers import pkce_pair, register_app

BAD_IP = "198.51.100.23"


def rows(world, user):
    with tenant_context(world.tenant):
        return list(
            SignInEvent.objects.filter(user=user)
            .order_by("id")
            .values("result", "failure_reason", "policies", "app_id")
        )


def test_blocked_sign_in_shows_the_block_page_and_logs_the_policy(acme):
    policies_clear(acme)
    make_location(acme, "Known bad", ["198.51.100.0/24"], kind=NamedLocation.Kind.BLOCKED)
    policy = make_policy(acme, name="Block bad ranges", grant="block", locations="blocked")
    user = make_user(acme)
    client = client_from(acme, BAD_IP)
    response = sign_in(client, user.email)
    assert response.status_code == 403
    assert "does not allow this sign-in" in response.content.decode()
    assert client.get("/account/").status_code == 302  # not signed in
    (row,) = rows(acme, user)
    assert row["result"] == "blocked" and row["failure_reason"] == "blocked_by_policy"
    assert row["policies"] == [
        {"id": str(policy.public_id), "name": "Block bad ranges", "state": "on",
         "result": "block"}
    ]  # fmt: skip


def test_the_same_user_from_elsewhere_signs_in_and_the_log_says_why_the_policy_did_not_apply(
    acme,
):
    policies_clear(acme)
    make_location(acme, "Known bad", ["198.51.100.0/24"], kind=NamedLocation.Kind.BLOCKED)
    make_policy(acme, name="Block bad ranges", grant="block", locations="blocked")
    user = make_user(acme)
    response = sign_in(client_from(acme), user.email)
    assert response.status_code == 302 and response["Location"] == "/account/"
    (row,) = rows(acme, user)
    assert row["result"] == "success"
    assert row["policies"][0]["result"] == "not_applied"
    assert row["policies"][0]["reason"] == "location_not_included"


def test_report_only_block_lets_the_sign_in_through_and_logs_what_it_would_have_done(acme):
    policies_clear(acme)
    make_policy(acme, name="Would block everyone", state="report_only", grant="block")
    user = make_user(acme)
    response = sign_in(client_from(acme), user.email)
    assert response.status_code == 302
    (row,) = rows(acme, user)
    assert row["result"] == "success"
    assert row["policies"][0]["state"] == "report_only"
    assert row["policies"][0]["result"] == "block"


def test_new_tenant_default_policy_is_report_only_and_reported_for_admin_sign_ins(acme):
    """The default "Require MFA for admins" changes nothing, and says what it would do."""
    user = make_user(acme, admin_roles=["reports_reader"])
    response = sign_in(client_from(acme), user.email)
    assert response.status_code == 302
    (row,) = rows(acme, user)
    (entry,) = [entry for entry in row["policies"] if entry["name"] == "Require MFA for admins"]
    assert entry["state"] == "report_only" and entry["requirements"] == ["mfa"]


def test_blocking_one_app_blocks_the_sign_in_for_it_but_not_for_my_account(acme):
    policies_clear(acme)
    blocked_app = register_app(acme, name="Blocked app")
    make_policy(acme, name="Block app", grant="block", apps="selected",
                relations={"include_apps": [blocked_app.application]})  # fmt: skip
    user = make_user(acme)
    _verifier, challenge = pkce_pair()
    authorize = "/o/authorize/?" + urlencode({
        "response_type": "code", "client_id": blocked_app.client_id,
        "redirect_uri": blocked_app.redirect_uri, "scope": "openid", "state": "s",
        "code_challenge": challenge, "code_challenge_method": "S256",
    })  # fmt: skip
    response = sign_in(client_from(acme), user.email, next=authorize)
    assert response.status_code == 403
    assert rows(acme, user)[-1]["app_id"] == blocked_app.client_id
    assert sign_in(client_from(acme), user.email).status_code == 302


def test_password_change_requirement_sends_the_user_to_change_it(acme):
    policies_clear(acme)
    make_policy(acme, name="Rotate passwords", require_password_change=True)
    user = make_user(acme)
    response = sign_in(client_from(acme), user.email)
    assert response.status_code == 302
    assert response["Location"] == "/accounts/password/change/"


def test_first_sign_in_from_a_browser_is_a_risk_signal_a_familiar_browser_is_not(acme):
    policies_clear(acme)
    user = make_user(acme)
    familiar = client_from(acme)
    assert sign_in(familiar, user.email).status_code == 302
    familiar.post("/accounts/logout/")
    make_policy(acme, name="Block new browsers", grant="block", new_browser=True)
    assert sign_in(familiar, user.email).status_code == 302
    assert sign_in(client_from(acme), user.email).status_code == 403


def test_recent_failures_on_the_account_are_a_risk_signal(acme):
    policies_clear(acme)
    make_policy(acme, name="Block after failures", grant="block", recent_failures=2)
    user = make_user(acme)
    calm = make_user(acme)
    client = client_from(acme)
    for wrong in ("wrong password one", "wrong password two"):
        assert sign_in(client, user.email, wrong).status_code == 200
    assert sign_in(client_from(acme), user.email).status_code == 403
    assert sign_in(client_from(acme), calm.email).status_code == 302


def test_sign_in_frequency_shortens_the_hosted_session(acme):
    from ciam.sessions import ENDS_AT

    policies_clear(acme)
    make_policy(acme, name="Every two hours", sign_in_frequency_hours=2)
    user = make_user(acme)
    client = client_from(acme)
    started = time.time()
    assert sign_in(client, user.email).status_code == 302
    assert client.session[ENDS_AT] <= started + 2 * 3600 + 60
    plain = make_user(acme, admin_roles=[])
    policies_clear(acme)
    other = client_from(acme)
    assert sign_in(other, plain.email).status_code == 302
    assert other.session[ENDS_AT] > started + 3 * 3600  # the user flow's 12 hours


def test_sign_in_log_shows_and_filters_by_policy(acme):
    policies_clear(acme)
    make_policy(acme, name="Would block all", state="report_only", grant="block")
    user = make_user(acme)
    assert sign_in(client_from(acme), user.email).status_code == 302
    make_policy(acme, name="MFA for one", require_mfa=True, users="selected",
                relations={"include_users": [acme.member]})  # fmt: skip
    other = make_user(acme)
    assert sign_in(client_from(acme), other.email).status_code == 302
    console = acme.client(acme.admin)
    page = console.get("/console/logs/sign-ins/", {"policy": "Would block all"})
    body = page.content.decode()
    assert user.email in body and other.email in body
    assert "Would block all: report-only, would block" in body
    page = console.get("/console/logs/sign-ins/", {"policy": "MFA for one"})
    body = page.content.decode()
    assert other.email in body and user.email not in body
    page = console.get("/console/logs/sign-ins/", {"policy": "MFA for one",
                                                   "policy_result": "grant"})  # fmt: skip
    assert other.email not in page.content.decode()
    page = console.get("/console/logs/sign-ins/", {"policy": "MFA for one",
                                                   "policy_result": "not_applied"})  # fmt: skip
    assert other.email in page.content.decode()


def test_the_stage_after_conditional_access_reads_the_requirements(acme, settings):
    from tests.conditional_access import probe

    settings.ACCOUNT_ADAPTER = "tests.conditional_access.probe.ProbeAdapter"
    policies_clear(acme)
    make_policy(acme, name="MFA for members", require_mfa=True, users="selected",
                include_members=True)  # fmt: skip
    make_policy(acme, name="Would ask passkeys", state="report_only", require_passkey=True)
    probe.seen.clear()
    member, guest = make_user(acme), make_user(acme, user_type="guest")
    assert sign_in(client_from(acme), member.email).status_code == 302
    assert sign_in(client_from(acme), guest.email).status_code == 302
    assert probe.seen == [{"mfa"}, set()]


def test_a_policy_requiring_mfa_is_enforced_by_the_mfa_step(acme):
    """The tenant's MFA policy is optional (a new tenant's default): a conditional access
    policy requiring MFA of members makes the MFA step ask for a code, or set an app up."""
    from tests.mfa import helpers as mfa

    policies_clear(acme)
    make_policy(acme, name="MFA for members", require_mfa=True, users="selected",
                include_members=True)  # fmt: skip
    with_app, without_app = mfa.make_user(acme), mfa.make_user(acme)
    device = mfa.with_authenticator(acme, with_app)

    client = client_from(acme)
    answer = sign_in(client, with_app.email)
    assert answer.status_code == 302 and answer["Location"].startswith("/accounts/mfa/")
    assert client.get("/account/")["Location"].startswith("/accounts/login/")  # not yet in
    done = client.post("/accounts/mfa/", {"method": "totp", "code": mfa.code_for(device)})
    assert done.status_code == 302
    assert client.get("/account/").status_code == 200
    with tenant_context(acme.tenant):
        row = SignInEvent.objects.filter(user=with_app).latest("occurred_at")
    assert row.result == "success" and row.mfa_method == "totp"
    assert any(entry["name"] == "MFA for members" for entry in row.policies)

    other = client_from(acme)
    answer = sign_in(other, without_app.email)
    assert answer["Location"].startswith("/accounts/mfa/setup/")
    assert other.get("/account/")["Location"].startswith("/accounts/login/")

    policies_clear(acme)  # no policy: the optional MFA policy asks nothing of him
    assert sign_in(client_from(acme), without_app.email)["Location"] == "/account/"
