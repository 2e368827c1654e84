"""Passkeys count for allauth's re-authentication ("Confirm it's you"): someone without a
password who signed in with a passkey confirms it is them with it before adding or removing a
sign-in method (allauth alone would let such a session through unasked), and everyone with a
passkey may use it instead of the password. A passkey as the first second factor comes with
recovery codes, as an authenticator app does."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django_tenants.utils import tenant_context

from audit.models import SignInEvent
from mfa.models import PasskeyDevice, RecoveryCodeDevice
from tests.helpers import PASSWORD, tenant_client
from tests.mfa.helpers import (
    add_passkey,
    make_user,
    options,
    password_step,
    sign_in_with,
    signed_in,
)
from tests.mfa.soft_passkey import SoftPasskey

ADD = "/account/security/passkeys/add/"


def passwordless_with_passkey(world):
    """A person without a password whose only way in is a passkey, signed in with it."""
    user = make_user(world)
    passkey = add_passkey(world, signed_in(world, user))
    with tenant_context(world.tenant):
        person = get_user_model().objects.get(pk=user.pk)
        person.set_unusable_password()
        person.save(update_fields=["password"])
    client, response = sign_in_with(world, passkey)
    assert response["Location"] == "/account/"
    return user, passkey, client


def test_without_a_password_adding_a_method_asks_for_the_passkey_first(acme):
    user, passkey, client = passwordless_with_passkey(acme)
    response = client.get(ADD)
    # Straight to the passkey: there is no password to type.
    assert (
        response["Location"]
        == "/accounts/reauthenticate/passkey/?next=%2Faccount%2Fsecurity%2Fpasskeys%2Fadd%2F"
    )
    assert client.get("/accounts/reauthenticate/")["Location"].startswith(
        "/accounts/reauthenticate/passkey/"
    )
    page = client.get(response["Location"]).content.decode()
    assert 'data-passkey="second-factor"' in page and "js/passkeys.js" in page
    public_key = options(client, "/accounts/reauthenticate/passkey/options/")["publicKey"]
    assert public_key["userVerification"] == "required"
    credential = passkey.get({"publicKey": public_key})
    back = client.post(response["Location"], {"credential": credential, "next": ADD})
    assert back["Location"] == ADD
    assert client.get(ADD).status_code == 200
    with tenant_context(acme.tenant):
        row = SignInEvent.objects.filter(user=user).order_by("-id").first()
        assert (row.method, row.result, row.mfa_method) == ("session", "success", "passkey")


def test_a_passkey_without_user_verification_does_not_re_authenticate(acme):
    _user, passkey, client = passwordless_with_passkey(acme)
    url = client.get(ADD)["Location"]
    credential = passkey.get(options(client, "/accounts/reauthenticate/passkey/options/"),
                             verified=False)  # fmt: skip
    refused = client.post(url, {"credential": credential, "next": ADD})
    assert refused.status_code == 200 and "was not accepted" in refused.content.decode()
    assert client.get(ADD)["Location"].startswith("/accounts/reauthenticate/passkey/")


def test_with_a_password_a_passkey_is_another_way_to_confirm(acme):
    user = make_user(acme)
    passkey = add_passkey(acme, signed_in(acme, user))
    client = tenant_client(acme)
    challenge = password_step(client, user)["Location"]
    credential = passkey.get(options(client, "/accounts/mfa/passkey/"))
    assert (
        client.post(challenge, {"method": "passkey", "credential": credential}).status_code == 302
    )
    response = client.get("/account/security/authenticator/")
    assert response["Location"].startswith("/accounts/reauthenticate/?next=")
    page = client.get(response["Location"]).content.decode()
    assert "Use a passkey" in page
    url = "/accounts/reauthenticate/passkey/?next=%2Faccount%2Fsecurity%2Fauthenticator%2F"
    credential = passkey.get(options(client, "/accounts/reauthenticate/passkey/options/"))
    back = client.post(url, {"credential": credential, "next": "/account/security/authenticator/"})
    assert back["Location"] == "/account/security/authenticator/"
    # The passkey is two factors: no password, no second factor asked after it.
    assert client.get("/account/security/authenticator/").status_code == 200


def test_someone_without_a_passkey_is_not_offered_one(acme):
    user = make_user(acme)
    client = signed_in(acme, user)
    assert client.post("/accounts/reauthenticate/passkey/options/").status_code == 403
    assert "Use a passkey" not in client.get("/accounts/reauthenticate/").content.decode()


def test_a_first_passkey_comes_with_recovery_codes_that_serve_as_second_factor(acme):
    user = make_user(acme)
    browser = signed_in(acme, user)
    first = add_passkey(acme, browser)
    assert len(first.recovery_codes) == 10
    # A second passkey: no new codes.
    second = add_passkey(acme, browser, name="Phone")
    assert second.recovery_codes == []
    # After the password, a recovery code is offered beside the passkeys, and serves once.
    client = tenant_client(acme)
    challenge = password_step(client, user)["Location"]
    page = client.get(challenge).content.decode()
    assert "Recovery code" in page
    code = first.recovery_codes[0]
    assert client.post(challenge, {"method": "recovery_code", "code": code}).status_code == 302
    again = tenant_client(acme)
    challenge = password_step(again, user)["Location"]
    refused = again.post(challenge, {"method": "recovery_code", "code": code})
    assert refused.status_code == 400
    # My account offers new ones; with the last passkey removed, the codes go too.
    security = browser.get("/account/security/").content.decode()
    assert "Make new recovery codes" in security
    with tenant_context(acme.tenant):
        devices = list(PasskeyDevice.objects.filter(user=user))
    for device in devices:
        response = browser.post(f"/account/security/passkeys/{device.public_id}/remove/")
        assert response.status_code == 302
    with tenant_context(acme.tenant):
        assert not RecoveryCodeDevice.objects.filter(user=user).exists()


def test_no_recovery_codes_with_a_first_passkey_when_the_policy_allows_none(acme):
    from tests.mfa.helpers import set_policy

    user = make_user(acme)
    set_policy(acme, recovery_codes_allowed=False)
    try:
        passkey = add_passkey(acme, signed_in(acme, user))
    finally:
        set_policy(acme, recovery_codes_allowed=True)
    assert passkey.recovery_codes == []


def test_a_passkey_sign_in_keeps_working_for_a_person_with_a_password(acme):
    # The passkey flow added for re-authentication changes nothing for the password.
    user = make_user(acme)
    client = signed_in(acme, user)
    add_passkey(acme, client, passkey=SoftPasskey(origin=f"http://{acme.host}"))
    assert client.post("/accounts/reauthenticate/", {"password": PASSWORD}).status_code == 302
