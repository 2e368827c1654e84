"""Operators' passkeys (mfa.passkeys on the operators' own table), with a software
authenticator answering as a browser would: a passkey instead of the authenticator app at
set-up (with recovery codes), one added after the app, used as the second factor after the
password, refused when it should be, removed (not the last second factor)."""

from __future__ import annotations

import pytest
from django.test import Client

from audit.models import AuditEvent
from operators.models import OperatorPasskeyDevice, OperatorRecoveryCodeDevice
from tests.mfa.helpers import recovery_codes_on_page
from tests.mfa.soft_passkey import SoftPasskey
from tests.operators.helpers import (
    operator_make,
    operator_sign_in,
    operator_with_totp,
    password_step,
)

ORIGIN = "http://localhost"


@pytest.fixture
def operator(db):
    return operator_make()


def options(client, url: str) -> dict:
    response = client.post(url)
    assert response.status_code == 200, response.content
    return response.json()


def create_passkey(client, *, name="Operator key", next_url="/operator/"):
    passkey = SoftPasskey(origin=ORIGIN, counts=True, synced=False)
    credential = passkey.create(options(client, "/operator/passkeys/options/"))
    response = client.post(
        "/operator/passkeys/", {"name": name, "credential": credential, "next": next_url}
    )
    return passkey, response


def passkey_step(client, passkey, **answer):
    credential = passkey.get(options(client, "/operator/login/passkey/"), **answer)
    return client.post(
        "/operator/login/code/",
        {"method": "passkey", "credential": credential, "next": "/operator/"},
    )


def test_a_passkey_instead_of_an_authenticator_app_at_set_up(operator):
    client = Client(HTTP_HOST="localhost")
    password_step(client, operator)
    setup = client.get("/operator/login/setup/?next=/operator/").content.decode()
    assert 'data-passkey="register"' in setup and "js/passkeys.js" in setup
    assert "Or create a passkey" in setup
    passkey, shown = create_passkey(client)
    assert shown.status_code == 200
    assert len(recovery_codes_on_page(shown)) == 10
    assert client.get("/operator/").status_code == 200
    device = OperatorPasskeyDevice.objects.get(user=operator)
    assert device.name == "Operator key" and not device.backup_eligible
    assert AuditEvent.objects.filter(action="operator.passkey.add", actor_id=operator.public_id)

    # The next sign-in: password, then the passkey (no app to ask for).
    again = Client(HTTP_HOST="localhost")
    assert password_step(again, operator)["Location"].startswith("/operator/login/code/")
    page = again.get("/operator/login/code/?next=/operator/").content.decode()
    assert 'data-passkey="second-factor"' in page and "Use the authenticator app" not in page
    assert again.get("/operator/")["Location"].startswith("/operator/login/code/")
    done = passkey_step(again, passkey)
    assert done["Location"] == "/operator/"
    assert again.get("/operator/").status_code == 200


def test_a_refused_passkey_is_audited_and_opens_nothing(operator):
    client = Client(HTTP_HOST="localhost")
    password_step(client, operator)
    passkey, _shown = create_passkey(client)
    again = Client(HTTP_HOST="localhost")
    password_step(again, operator)
    stranger = SoftPasskey(origin=ORIGIN)
    stranger.user_handle = operator.public_id.bytes
    refused = passkey_step(again, stranger)
    assert refused.status_code == 400 and "not accepted" in refused.content.decode()
    assert again.get("/operator/").status_code == 302
    assert AuditEvent.objects.filter(action="operator.mfa.refused", actor_id=operator.public_id)
    # A counter going back (a cloned key) is refused too.
    assert passkey_step(again, passkey)["Location"] == "/operator/"
    third = Client(HTTP_HOST="localhost")
    password_step(third, operator)
    assert passkey_step(third, passkey, counter=1).status_code == 400


def test_a_passkey_added_after_the_app_and_removed(operator):
    device = operator_with_totp(operator)
    client = operator_sign_in(operator, device)
    page = client.get("/operator/passkeys/").content.decode()
    assert "None yet." in page and 'data-passkey="register"' in page
    passkey, added = create_passkey(client, name="Desk key")
    assert added["Location"] == "/operator/passkeys/"  # the app's codes stay the codes
    assert not OperatorRecoveryCodeDevice.objects.filter(user=operator).exists()
    assert "Desk key" in client.get("/operator/passkeys/").content.decode()
    # Both are offered after the password.
    again = Client(HTTP_HOST="localhost")
    password_step(again, operator)
    page = again.get("/operator/login/code/?next=/operator/").content.decode()
    assert "Use a passkey" in page
    assert passkey_step(again, passkey)["Location"] == "/operator/"
    stored = OperatorPasskeyDevice.objects.get(user=operator)
    removed = client.post(f"/operator/passkeys/{stored.public_id}/remove/")
    assert removed["Location"] == "/operator/passkeys/"
    assert not OperatorPasskeyDevice.objects.filter(user=operator).exists()


def test_only_a_verified_operator_adds_a_passkey_once_they_have_a_second_factor(operator):
    operator_with_totp(operator)
    client = Client(HTTP_HOST="localhost")
    password_step(client, operator)  # the password, not the code
    assert client.post("/operator/passkeys/options/").status_code == 403
    assert client.get("/operator/passkeys/")["Location"].startswith("/operator/login/code/")


def test_the_last_second_factor_is_not_removed(operator):
    client = Client(HTTP_HOST="localhost")
    password_step(client, operator)
    create_passkey(client)
    stored = OperatorPasskeyDevice.objects.get(user=operator)
    client.post(f"/operator/passkeys/{stored.public_id}/remove/")
    assert OperatorPasskeyDevice.objects.filter(user=operator).exists()


def test_the_reset_command_removes_passkeys_too(operator):
    from operators.services import operator_totp_reset

    client = Client(HTTP_HOST="localhost")
    password_step(client, operator)
    create_passkey(client)
    assert operator_totp_reset(operator=operator)
    assert not OperatorPasskeyDevice.objects.filter(user=operator).exists()
    assert not OperatorRecoveryCodeDevice.objects.filter(user=operator).exists()
