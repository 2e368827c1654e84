"""Step-up for sensitive changes (SECURITY.md items 7 and 12): someone with a second factor
proves it again before changing their email, password or second factors or deleting their
account; a password reset never skips the second factor; the console asks administrators
for it when the tenant's policy requires it of them."""

from __future__ import annotations

import time

from django_tenants.utils import tenant_context

from tests.helpers import PASSWORD, tenant_client
from tests.mfa.helpers import (
    code_for,
    make_user,
    password_step,
    set_policy,
    with_authenticator,
)

RECORDS = "account_authentication_methods"
NEW_PASSWORD = "a new long passphrase 42"


def signed_in_with_app_code(world, user, device):
    client = tenant_client(world)
    challenge = password_step(client, user)["Location"]
    assert client.post(challenge, {"code": code_for(device), "method": "totp"}).status_code == 302
    return client


def long_ago(world, client, seconds=7200):
    with tenant_context(world.tenant):
        session = client.session
        session[RECORDS] = [{**record, "at": record["at"] - seconds} for record in session[RECORDS]]
        session.save()


def test_an_email_change_asks_for_the_password_then_the_second_factor(acme):
    from allauth.account.models import EmailAddress

    user = make_user(acme)
    device = with_authenticator(acme, user)
    client = signed_in_with_app_code(acme, user, device)
    new_email = f"new-{user.email}"
    response = client.post("/accounts/email/", {"action_add": "", "email": new_email})
    assert response["Location"].startswith("/accounts/reauthenticate/")
    step_up = client.post(response["Location"], {"password": PASSWORD})["Location"]
    assert step_up.startswith("/accounts/mfa/verify/")
    with tenant_context(acme.tenant):
        assert not EmailAddress.objects.filter(email=new_email).exists()
    # The password alone did not do: the change still waits for the second factor.
    again = client.post("/accounts/email/", {"action_add": "", "email": new_email})
    assert again["Location"].startswith("/accounts/reauthenticate/")
    step_up = client.post(again["Location"], {"password": PASSWORD})["Location"]
    done = client.post(step_up, {"code": code_for(device, steps=1), "method": "totp"})
    assert done.status_code == 302
    with tenant_context(acme.tenant):
        assert EmailAddress.objects.filter(user=user, email=new_email, verified=False).exists()


def test_a_password_change_asks_for_a_recent_second_factor(acme):
    user = make_user(acme)
    device = with_authenticator(acme, user)
    client = signed_in_with_app_code(acme, user, device)
    # Just proved at sign-in: the form is there.
    assert client.get("/accounts/password/change/").status_code == 200
    long_ago(acme, client)
    response = client.get("/accounts/password/change/")
    assert response["Location"] == "/accounts/mfa/verify/?next=%2Faccounts%2Fpassword%2Fchange%2F"
    back = client.post(response["Location"], {"code": code_for(device, steps=1), "method": "totp"})
    assert back["Location"] == "/accounts/password/change/"
    assert client.get("/accounts/password/change/").status_code == 200


def test_without_a_second_factor_a_password_change_asks_nothing_more(acme):
    user = make_user(acme)
    client = tenant_client(acme)
    password_step(client, user)
    long_ago(acme, client)
    assert client.get("/accounts/password/change/").status_code == 200


def test_after_a_password_reset_the_next_sign_in_still_asks_for_the_second_factor(acme):
    from allauth.account.forms import default_token_generator
    from allauth.account.utils import user_pk_to_url_str

    user = make_user(acme)
    with_authenticator(acme, user)
    with tenant_context(acme.tenant):
        key = f"{user_pk_to_url_str(user)}-{default_token_generator.make_token(user)}"
    client = tenant_client(acme)
    form_page = client.get(f"/accounts/password/reset/key/{key}/", follow=True)
    set_url = form_page.redirect_chain[-1][0]
    done = client.post(set_url, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD})
    assert done["Location"] == "/accounts/password/reset/key/done/"
    # The reset signed no one in ...
    assert client.get("/account/")["Location"].startswith("/accounts/login/")
    # ... and the new password leads to the second factor, not in.
    response = client.post("/accounts/login/", {"login": user.email, "password": NEW_PASSWORD})
    assert response["Location"].startswith("/accounts/mfa/")
    assert client.get("/account/")["Location"].startswith("/accounts/login/")


def test_the_console_asks_an_admin_for_the_second_factor_when_the_policy_requires_it(acme):
    user = make_user(acme, admin_roles=["user_administrator"])
    device = with_authenticator(acme, user)
    set_policy(acme, requirement="required_admins")
    # A session that never proved the second factor (signed in before the policy changed).
    client = acme.client(user)
    response = client.get("/console/users/")
    assert response["Location"] == "/accounts/mfa/verify/?next=%2Fconsole%2Fusers%2F"
    htmx = client.get("/console/users/", HTTP_HX_REQUEST="true")
    assert htmx.status_code == 204 and htmx["HX-Redirect"].startswith("/accounts/mfa/verify/")
    back = client.post(response["Location"], {"code": code_for(device), "method": "totp"})
    assert back["Location"] == "/console/users/"
    assert client.get("/console/users/").status_code == 200


def test_the_console_asks_nothing_more_when_the_policy_does_not_require_it(acme):
    user = make_user(acme, admin_roles=["user_administrator"])
    with_authenticator(acme, user)
    set_policy(acme, requirement="required_guests")
    assert acme.client(user).get("/console/users/").status_code == 200


def test_a_step_up_writes_sign_in_log_rows_with_the_method_used(acme):
    from audit.models import SignInEvent

    user = make_user(acme)
    device = with_authenticator(acme, user)
    client = signed_in_with_app_code(acme, user, device)
    long_ago(acme, client)
    step_up = client.get("/accounts/password/change/")["Location"]
    with tenant_context(acme.tenant):
        before = SignInEvent.objects.filter(user=user).count()
    wrong = "000000" if code_for(device, steps=1) != "000000" else "111111"
    assert client.post(step_up, {"code": wrong, "method": "totp"}).status_code == 400
    time.sleep(1.1)  # the wait after a wrong code (MFA_THROTTLE_FACTOR)
    assert (
        client.post(step_up, {"code": code_for(device, steps=1), "method": "totp"}).status_code
        == 302
    )
    with tenant_context(acme.tenant):
        rows = list(
            SignInEvent.objects.filter(user=user)
            .order_by("id")
            .values_list("method", "result", "failure_reason", "mfa_method", "mfa_used")[before:]
        )
    assert rows == [
        ("session", "failure", "mfa_failed", "totp", False),
        ("session", "success", "", "totp", True),
    ]
