""" "Remember this browser": the tenant allows it for N days, the code page offers it, and a
remembered browser skips the second factor until the person's password or second factors
change (the sign-in log says "remembered")."""

from __future__ import annotations

from django_otp import DEVICE_ID_SESSION_KEY
from django_tenants.utils import tenant_context

from audit.models import SignInEvent
from mfa.remember import COOKIE
from tests.helpers import PASSWORD, tenant_client
from tests.mfa.helpers import code_for, make_user, password_step, set_policy, with_authenticator

NEW_PASSWORD = "a new long passphrase 42"


def sign_in_remembering(world, client, user, device, *, remember=True, steps=0):
    challenge = password_step(client, user)["Location"]
    page = client.get(challenge).content.decode()
    assert 'name="remember"' in page and "for 30 days" in page
    data = {"code": code_for(device, steps=steps), "method": "totp"}
    if remember:
        data["remember"] = "on"
    response = client.post(challenge, data)
    assert response["Location"] == "/account/"
    return response


def mfa_methods(world, user) -> list[str]:
    with tenant_context(world.tenant):
        return list(
            SignInEvent.objects.filter(user=user, result="success")
            .order_by("id")
            .values_list("mfa_method", flat=True)
        )


def test_a_remembered_browser_skips_the_second_factor_and_the_log_says_so(acme):
    set_policy(acme, remember_browser_days=30)
    user = make_user(acme)
    device = with_authenticator(acme, user)
    client = tenant_client(acme)
    response = sign_in_remembering(acme, client, user, device)
    cookie = response.cookies[COOKIE]
    assert cookie["httponly"] and cookie["secure"] and cookie["samesite"] == "Lax"
    assert cookie["max-age"] == 30 * 86400 and not cookie["domain"]
    client.post("/accounts/logout/")
    assert password_step(client, user)["Location"] == "/account/"
    assert client.session[DEVICE_ID_SESSION_KEY] == device.persistent_id
    assert mfa_methods(acme, user) == ["totp", "remembered"]
    # Another browser, or this one for another person, is asked.
    assert password_step(tenant_client(acme), user)["Location"].startswith("/accounts/mfa/")
    other = make_user(acme)
    with_authenticator(acme, other)
    client.post("/accounts/logout/")
    assert password_step(client, other)["Location"].startswith("/accounts/mfa/")


def test_without_the_box_ticked_or_with_the_policy_off_the_browser_is_asked(acme):
    set_policy(acme, remember_browser_days=30)
    user = make_user(acme)
    device = with_authenticator(acme, user)
    client = tenant_client(acme)
    response = sign_in_remembering(acme, client, user, device, remember=False)
    assert COOKIE not in response.cookies
    client.post("/accounts/logout/")
    assert password_step(client, user)["Location"].startswith("/accounts/mfa/")
    # Remembered, then the tenant turns it off: asked again.
    client = tenant_client(acme)
    sign_in_remembering(acme, client, user, device, steps=1)  # a code is used once
    client.post("/accounts/logout/")
    set_policy(acme, remember_browser_days=0)
    assert password_step(client, user)["Location"].startswith("/accounts/mfa/")
    set_policy(acme, remember_browser_days=1)
    assert 'name="remember"' in client.get("/accounts/mfa/").content.decode()


def test_a_password_change_ends_every_remembered_browser(acme):
    set_policy(acme, remember_browser_days=30)
    user = make_user(acme)
    device = with_authenticator(acme, user)
    client = tenant_client(acme)
    sign_in_remembering(acme, client, user, device)
    changed = client.post(
        "/accounts/password/change/",
        {"oldpassword": PASSWORD, "password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
    )
    assert changed.status_code == 302
    client.post("/accounts/logout/")
    response = client.post("/accounts/login/", {"login": user.email, "password": NEW_PASSWORD})
    assert response["Location"].startswith("/accounts/mfa/")


def test_removing_the_authenticator_app_ends_the_remembered_browser(acme):
    from mfa.services import totp_enrol_start

    set_policy(acme, remember_browser_days=30)
    user = make_user(acme)
    device = with_authenticator(acme, user)
    client = tenant_client(acme)
    sign_in_remembering(acme, client, user, device)
    client.post("/accounts/logout/")
    with tenant_context(acme.tenant):
        device.delete()
        fresh = totp_enrol_start(user=user, during_sign_in=True)
        fresh.confirmed = True
        fresh.save()
    assert password_step(client, user)["Location"].startswith("/accounts/mfa/")


def test_a_security_administrator_sets_the_days_audited(acme):
    from audit.models import AuditEvent
    from mfa.selectors import mfa_policy_get

    security_admin = make_user(acme, admin_roles=["security_administrator"])
    client = acme.client(security_admin)
    assert "Remember a browser for (days)" in client.get("/console/policies/mfa/").content.decode()
    form = {"requirement": "optional", "totp_allowed": "on", "email_code_allowed": "on"}
    assert (
        client.post("/console/policies/mfa/", {**form, "remember_browser_days": "400"}).status_code
        == 400
    )
    assert (
        client.post("/console/policies/mfa/", {**form, "remember_browser_days": "14"}).status_code
        == 302
    )
    with tenant_context(acme.tenant):
        assert mfa_policy_get().remember_browser_days == 14
        event = AuditEvent.objects.filter(action="mfa.policy.update").latest("id")
        assert (event.before["remember_browser_days"], event.after["remember_browser_days"]) == (
            0,
            14,
        )
