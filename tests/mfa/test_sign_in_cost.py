"""The work MFA adds to a sign-in, bounded in statements (bench/login.py measures the time)."""

from __future__ import annotations

from django.contrib.sessions.models import Session
from django_otp import DEVICE_ID_SESSION_KEY
from django_tenants.utils import tenant_context

from mfa.models import MfaPolicy
from tests.helpers import tenant_client
from tests.mfa.helpers import code_for, make_user, password_step, set_policy, with_authenticator


def test_the_challenge_and_the_code_cost_few_statements_and_the_key_still_changes(
    acme, django_assert_max_num_queries
):
    set_policy(acme, requirement=MfaPolicy.Requirement.REQUIRED_ALL)
    user = make_user(acme)
    device = with_authenticator(acme, user)
    client = tenant_client(acme)
    client.get("/accounts/login/")
    challenge = password_step(client, user)["Location"]
    before = client.cookies["sessionid"].value
    # The session, the user (which second factors the user has was read by the password's
    # request, mfa.stages.available_methods); the published branding (a server keeps it; a
    # test's transaction does not).
    with django_assert_max_num_queries(3):
        assert client.get(challenge).status_code == 200
    # The same; the device locked, checked and stamped (and the savepoint around it here);
    # the user flow (a server keeps it), last_login with the user's sessions, the sign-in log
    # row, and the session moved to a new key: one UPDATE.
    with django_assert_max_num_queries(10):
        response = client.post(challenge, {"code": code_for(device), "method": "totp"})
    assert response.status_code == 302 and response["Location"] == "/account/"
    after = client.cookies["sessionid"].value
    assert after != before
    with tenant_context(acme.tenant):
        assert not Session.objects.filter(session_key=before).exists()
        assert Session.objects.filter(session_key=after).count() == 1
    assert client.session[DEVICE_ID_SESSION_KEY] == device.persistent_id
    assert client.get("/account/").status_code == 200
    # The key the browser had before it signed in opens nothing.
    stale = tenant_client(acme)
    stale.cookies["sessionid"] = before
    assert stale.get("/account/")["Location"].startswith("/accounts/login/")
