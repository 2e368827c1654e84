from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import Client, override_settings

from audit.models import AuditEvent
from operators.models import OperatorTOTPDevice
from tests.mfa.helpers import code_from_secret, recovery_codes_on_page, secret_on_page
from tests.operators.helpers import (
    code_for,
    operator_make,
    operator_sign_in,
    operator_with_totp,
    password_step,
)


@pytest.fixture
def operator(db):
    return operator_make()


@pytest.fixture
def operator_totp(operator):
    return operator_with_totp(operator)


def test_an_operator_without_an_authenticator_app_sets_one_up_before_any_page_opens(
    operator, settings
):
    settings.MFA_THROTTLE_FACTOR = 0
    client = Client(HTTP_HOST="localhost")
    signed_in = password_step(client, operator)
    assert signed_in.status_code == 302
    for url in ("/operator/", "/operator/reserved/"):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/operator/login/setup/?next=")
    setup = client.get(client.get("/operator/")["Location"])
    body = setup.content.decode()
    assert setup.status_code == 200
    assert "<svg" in body and "Set up your authenticator app" in body
    secret = secret_on_page(setup)

    wrong = client.post("/operator/login/setup/", {"code": "000000", "next": "/operator/"})
    assert wrong.status_code == 400
    assert "That code is not correct" in wrong.content.decode()
    assert client.get("/operator/").status_code == 302

    confirmed = client.post(
        "/operator/login/setup/", {"code": code_from_secret(secret), "next": "/operator/"}
    )
    assert confirmed.status_code == 200
    assert len(recovery_codes_on_page(confirmed)) == 10
    assert client.get("/operator/").status_code == 200
    assert AuditEvent.objects.filter(
        action="operator.totp.add", actor_label=operator.email
    ).exists()


def test_the_operators_secret_is_sealed_in_the_database(operator_totp):
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT secret FROM {OperatorTOTPDevice._meta.db_table} WHERE id = %s",
            [operator_totp.pk],
        )
        (stored,) = cursor.fetchone()
    assert operator_totp.secret not in stored


def test_an_operator_with_an_app_gives_a_code_after_the_password(operator, operator_totp):
    client = Client(HTTP_HOST="localhost")
    signed_in = password_step(client, operator)
    assert signed_in["Location"] == "/operator/login/code/?next=%2Foperator%2F"
    assert client.get("/operator/")["Location"].startswith("/operator/login/code/")
    page = client.get(signed_in["Location"])
    assert "enter the six-digit code" in page.content.decode()
    verified = client.post("/operator/login/code/", {"code": code_for(operator_totp),
                                                     "next": "/operator/"})  # fmt: skip
    assert verified.status_code == 302 and verified["Location"] == "/operator/"
    assert client.get("/operator/").status_code == 200


def test_an_operator_with_an_app_cannot_replace_it_with_only_the_password(operator, operator_totp):
    client = Client(HTTP_HOST="localhost")
    password_step(client, operator)
    response = client.get("/operator/login/setup/")
    assert response.status_code == 302
    assert response["Location"].startswith("/operator/login/code/")
    assert OperatorTOTPDevice.objects.filter(user=operator).count() == 1


def test_a_code_works_once(operator, operator_totp):
    code = code_for(operator_totp)
    first = operator_sign_in(operator, operator_totp)
    first.post("/operator/logout/")
    client = Client(HTTP_HOST="localhost")
    password_step(client, operator)
    replayed = client.post("/operator/login/code/", {"code": code, "next": "/operator/"})
    assert replayed.status_code == 400
    assert "That code is not correct" in replayed.content.decode()
    assert client.get("/operator/").status_code == 302


def test_codes_outside_one_step_either_side_are_refused(operator, operator_totp, settings):
    settings.MFA_THROTTLE_FACTOR = 0
    client = Client(HTTP_HOST="localhost")
    password_step(client, operator)
    for steps in (-2, 2):
        response = client.post(
            "/operator/login/code/", {"code": code_for(operator_totp, steps=steps)}
        )
        assert response.status_code == 400
    accepted = client.post("/operator/login/code/", {"code": code_for(operator_totp, steps=-1)})
    assert accepted.status_code == 302


def test_wrong_codes_are_throttled_counted_and_audited(operator, operator_totp, settings):
    settings.MFA_THROTTLE_FACTOR = 60
    client = Client(HTTP_HOST="localhost")
    password_step(client, operator)
    wrong = client.post("/operator/login/code/", {"code": "000000"})
    assert "That code is not correct" in wrong.content.decode()
    # Even the right code waits out the delay.
    waiting = client.post("/operator/login/code/", {"code": code_for(operator_totp)})
    assert waiting.status_code == 400
    assert "Too many wrong codes. Wait" in waiting.content.decode()
    assert client.get("/operator/").status_code == 302
    refused = AuditEvent.objects.filter(action="operator.mfa.refused", actor_label=operator.email)
    assert refused.count() == 1


def test_wrong_codes_lock_the_operator_sign_in(operator, operator_totp, settings):
    settings.MFA_THROTTLE_FACTOR = 0
    settings.LOCKOUT_ACCOUNT_THRESHOLD = 3
    client = Client(HTTP_HOST="localhost")
    password_step(client, operator)
    for guess in ("000001", "000002", "000003"):
        client.post("/operator/login/code/", {"code": guess})
    locked = client.post("/operator/login/code/", {"code": code_for(operator_totp)})
    assert "Too many failed sign-in attempts" in locked.content.decode()
    again = password_step(Client(HTTP_HOST="localhost"), operator)
    assert again.status_code == 200
    assert "Too many failed sign-in attempts" in again.content.decode()


def test_a_recovery_code_signs_in_once(operator):
    client = Client(HTTP_HOST="localhost")
    password_step(client, operator)
    setup = client.get("/operator/login/setup/")
    confirmed = client.post(
        "/operator/login/setup/", {"code": code_from_secret(secret_on_page(setup))}
    )
    recovery = recovery_codes_on_page(confirmed)[0]
    client.post("/operator/logout/")

    for expected in (302, 400):
        browser = Client(HTTP_HOST="localhost")
        password_step(browser, operator)
        page = browser.get("/operator/login/code/?method=recovery")
        assert "recovery codes you saved" in page.content.decode()
        response = browser.post(
            "/operator/login/code/?method=recovery", {"code": recovery, "next": "/operator/"}
        )
        assert response.status_code == expected


def test_the_code_pages_are_for_signed_in_operators_only(operator, operator_totp):
    for url in ("/operator/login/code/", "/operator/login/setup/"):
        response = Client(HTTP_HOST="localhost").get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/operator/login/?next=")


def test_an_operator_who_lost_the_app_is_reset_from_the_command_line(operator, operator_totp):
    call_command("operator_totp_reset", operator.email, stdout=io.StringIO())
    client = Client(HTTP_HOST="localhost")
    password_step(client, operator)
    assert client.get("/operator/")["Location"].startswith("/operator/login/setup/")
    assert AuditEvent.objects.filter(
        action="operator.totp.reset", target_label=operator.email
    ).exists()


def test_operators_secrets_are_resealed_after_a_key_rotation(operator):
    old, new = "old key for the test, long and random", "new key for the test, long and random"
    with override_settings(MFA_ENCRYPTION_KEYS=[old]):
        device = operator_with_totp(operator)
    with override_settings(MFA_ENCRYPTION_KEYS=[new, old]):
        output = io.StringIO()
        call_command("mfa_secrets_reseal", stdout=output)
        assert "operators: 1 secrets" in output.getvalue()
    with override_settings(MFA_ENCRYPTION_KEYS=[new]):
        assert OperatorTOTPDevice.objects.get(pk=device.pk).secret == device.secret
