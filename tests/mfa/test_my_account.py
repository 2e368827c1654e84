"""My account > Security: add an authenticator app, recovery codes, removal after a recent
sign-in; every change audited and emailed."""

from __future__ import annotations

from django.utils import timezone
from django_tenants.utils import tenant_context

from audit.models import AuditEvent
from mfa.models import RecoveryCodeDevice, TOTPDevice
from tests.helpers import PASSWORD, tenant_client
from tests.mfa.helpers import (
    code_for,
    code_from_secret,
    make_user,
    notices,
    password_step,
    recovery_codes_on_page,
    secret_on_page,
    signed_in,
    with_authenticator,
)


def actions(world, user) -> list[str]:
    with tenant_context(world.tenant):
        return list(
            AuditEvent.objects.filter(actor_id=user.public_id)
            .order_by("id")
            .values_list("action", flat=True)
        )


def test_my_account_links_to_security_which_lists_methods(acme):
    user = make_user(acme)
    client = signed_in(acme, user)
    assert "/account/security/" in client.get("/account/").content.decode()
    page = client.get("/account/security/").content.decode()
    assert "Add an authenticator app" in page


def test_add_an_authenticator_app_shows_recovery_codes_once(acme):
    user = make_user(acme)
    client = signed_in(acme, user)
    page = client.get("/account/security/authenticator/")
    assert page.status_code == 200
    body = page.content.decode()
    assert "<svg" in body and "<script" not in body
    secret = secret_on_page(page)
    # The same setup is shown again on reload (one unconfirmed app at a time).
    assert secret_on_page(client.get("/account/security/authenticator/")) == secret
    response = client.post("/account/security/authenticator/", {"code": code_from_secret(secret)})
    assert response.status_code == 200
    assert len(recovery_codes_on_page(response)) == 10
    security = client.get("/account/security/").content.decode()
    assert "10 codes left." in security
    with tenant_context(acme.tenant):
        assert TOTPDevice.objects.filter(user=user, confirmed=True).count() == 1
    assert actions(acme, user) == ["mfa.totp.add"]
    assert any("An authenticator app was added" in text for text in notices(acme, user))


def test_wrong_first_code_does_not_turn_the_app_on(acme):
    user = make_user(acme)
    client = signed_in(acme, user)
    secret = secret_on_page(client.get("/account/security/authenticator/"))
    wrong = "000000" if code_from_secret(secret) != "000000" else "111111"
    response = client.post("/account/security/authenticator/", {"code": wrong})
    assert response.status_code == 400
    assert "That code is not correct" in response.content.decode()
    with tenant_context(acme.tenant):
        assert not TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def test_few_recovery_codes_left_are_warned_about_and_new_ones_end_the_old(acme):
    from mfa.services import recovery_codes_regenerate

    user = make_user(acme)
    with_authenticator(acme, user)
    with tenant_context(acme.tenant):
        old = recovery_codes_regenerate(user=user, request=None)
        device = RecoveryCodeDevice.objects.get(user=user)
        used = list(device.codes.values_list("pk", flat=True)[:7])
        device.codes.filter(pk__in=used).update(used_at=timezone.now())
    client = signed_in_with_app(acme, user)
    page = client.get("/account/security/").content.decode()
    assert "3 codes left." in page and "running out of recovery codes" in page
    response = client.post("/account/security/recovery-codes/")
    new = recovery_codes_on_page(response)
    assert len(new) == 10 and not set(new) & set(old)
    assert "mfa.recovery_codes.regenerate" in actions(acme, user)


def signed_in_with_app(world, user):
    with tenant_context(world.tenant):
        device = TOTPDevice.objects.get(user=user, confirmed=True)
    client = tenant_client(world)
    challenge = password_step(client, user)["Location"]
    assert client.post(challenge, {"code": code_for(device)})["Location"] == "/account/"
    # Typing the password again is followed by the second factor (mfa.step_up).
    step_up = client.post("/accounts/reauthenticate/", {"password": PASSWORD})["Location"]
    assert step_up.startswith("/accounts/mfa/verify/")
    assert client.post(step_up, {"code": code_for(device, steps=1)}).status_code == 302
    return client


def test_removing_the_app_needs_a_recent_sign_in(acme):
    user = make_user(acme)
    with_authenticator(acme, user)
    # A session that did not type its password again lately is asked for it first.
    stale = acme.client(user)
    response = stale.post("/account/security/authenticator/remove/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/reauthenticate/")
    with tenant_context(acme.tenant):
        assert TOTPDevice.objects.filter(user=user).exists()
    client = signed_in_with_app(acme, user)
    response = client.post("/account/security/authenticator/remove/")
    assert response["Location"] == "/account/security/"
    with tenant_context(acme.tenant):
        assert not TOTPDevice.objects.filter(user=user).exists()
        assert not RecoveryCodeDevice.objects.filter(user=user).exists()
    assert "mfa.totp.remove" in actions(acme, user)
    assert any("An authenticator app was removed" in text for text in notices(acme, user))
    # The next sign-in asks for no code.
    assert password_step(tenant_client(acme), user)["Location"] == "/account/"


def test_an_unproven_address_cannot_add_an_authenticator_app(acme):
    user = make_user(acme, verified=False)
    client = signed_in(acme, user)
    response = client.get("/account/security/authenticator/")
    assert response["Location"] == "/account/security/"
    page = client.get("/account/security/").content.decode()
    assert "Confirm your email address first" in page
    with tenant_context(acme.tenant):
        assert not TOTPDevice.objects.filter(user=user).exists()
