"""MFA as a step of hosted sign-in: challenge, other methods, enrolment when required, the
sign-in log, django-otp's verified session, and the OIDC authorize path."""

from __future__ import annotations

import re
import time
from datetime import timedelta

from django.utils import timezone
from django_otp import DEVICE_ID_SESSION_KEY
from django_tenants.utils import tenant_context

from accounts.sign_in import lockout
from audit.models import SignInEvent
from emails.models import OutboxEmail
from mfa.models import EmailCodeDevice, TOTPDevice
from tests.helpers import CODE, tenant_client
from tests.mfa.helpers import (
    code_for,
    code_from_secret,
    make_user,
    password_step,
    recovery_codes_on_page,
    secret_on_page,
    set_policy,
    with_authenticator,
)


def rows(world, user):
    with tenant_context(world.tenant):
        return list(
            SignInEvent.objects.filter(user=user)
            .order_by("id")
            .values_list("result", "failure_reason", "mfa_method", "mfa_used")
        )


def test_user_with_an_authenticator_app_is_asked_for_a_code_then_signed_in(acme):
    user = make_user(acme)
    device = with_authenticator(acme, user)
    client = tenant_client(acme)
    response = password_step(client, user)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/mfa/")
    # Not signed in yet.
    assert client.get("/account/")["Location"].startswith("/accounts/login/")
    page = client.get(response["Location"])
    assert page.status_code == 200
    assert 'autocomplete="one-time-code"' in page.content.decode()
    assert "Recovery code" not in page.content.decode()  # none made for this user
    response = client.post(response["Location"], {"code": code_for(device), "method": "totp"})
    assert response.status_code == 302 and response["Location"] == "/account/"
    assert client.get("/account/").status_code == 200
    assert client.session[DEVICE_ID_SESSION_KEY] == device.persistent_id
    assert rows(acme, user) == [("success", "", "totp", True)]


def test_wrong_code_is_refused_next_to_the_field_and_counted(acme):
    user = make_user(acme)
    device = with_authenticator(acme, user)
    client = tenant_client(acme)
    challenge = password_step(client, user)["Location"]
    wrong = "123456" if code_for(device) != "123456" else "654321"
    response = client.post(challenge, {"code": wrong, "method": "totp"})
    body = response.content.decode()
    assert response.status_code == 400
    assert 'id="id_code_error"' in body and "That code is not correct" in body
    assert 'aria-describedby="id_code_error"' in body
    assert client.get("/account/").status_code == 302  # still not signed in
    assert rows(acme, user) == [("failure", "mfa_failed", "totp", False)]
    with tenant_context(acme.tenant):
        assert lockout.lockout_failure_count(email=user.email) == 1
        assert TOTPDevice.objects.get(pk=device.pk).throttling_failure_count == 1


def test_a_code_used_for_one_sign_in_is_refused_for_another(acme):
    user = make_user(acme)
    device = with_authenticator(acme, user)
    code = code_for(device)
    first, second = tenant_client(acme), tenant_client(acme)
    first_challenge = password_step(first, user)["Location"]
    second_challenge = password_step(second, user)["Location"]
    assert first.post(first_challenge, {"code": code})["Location"] == "/account/"
    replay = second.post(second_challenge, {"code": code})
    assert replay.status_code == 400
    assert second.get("/account/").status_code == 302


def test_a_method_taken_away_after_the_password_no_longer_serves(acme):
    # Which second factors the person has is read once, at the password; what changes after
    # it still counts: a re-registration asked for, an app removed.
    from mfa.models import ReRegistration

    again, removed = make_user(acme), make_user(acme)
    devices = {user.pk: with_authenticator(acme, user) for user in (again, removed)}
    clients = {user.pk: tenant_client(acme) for user in (again, removed)}
    challenges = {user.pk: password_step(clients[user.pk], user)["Location"] for user in
                  (again, removed)}  # fmt: skip
    with tenant_context(acme.tenant):
        ReRegistration.objects.create(user=again, required_by="admin@acme.example")
        TOTPDevice.objects.filter(user=removed).delete()
    for user in (again, removed):
        client = clients[user.pk]
        code = code_for(devices[user.pk])
        response = client.post(challenges[user.pk], {"code": code, "method": "totp"})
        assert response.status_code in (302, 400)
        assert response.get("Location") != "/account/"
        assert client.get("/account/").status_code == 302  # not signed in


def test_recovery_code_signs_in_once(acme):
    from mfa.services import recovery_codes_regenerate

    user = make_user(acme)
    with_authenticator(acme, user)
    with tenant_context(acme.tenant):
        codes = recovery_codes_regenerate(user=user, request=None)
    client = tenant_client(acme)
    challenge = password_step(client, user)["Location"]
    page = client.get(challenge)
    assert "Recovery code" in page.content.decode(), page.content.decode()[-1500:]
    response = client.post(challenge, {"code": codes[3], "method": "recovery_code"})
    assert response["Location"] == "/account/"
    assert rows(acme, user)[-1] == ("success", "", "recovery_code", True)
    again = tenant_client(acme)
    challenge = password_step(again, user)["Location"]
    response = again.post(challenge, {"code": codes[3], "method": "recovery_code"})
    assert response.status_code == 400


def email_code_of(world, user) -> str:
    with tenant_context(world.tenant):
        outbox = OutboxEmail.objects.filter(to=user.email).latest("id")
    match = CODE.search(outbox.payload["text"])
    assert match, outbox.payload["text"]
    return match.group(1)


def test_email_code_as_second_factor_is_hashed_bound_to_the_attempt_and_expires(acme):
    user = make_user(acme)
    with_authenticator(acme, user)
    client = tenant_client(acme)
    challenge = password_step(client, user)["Location"]
    page = client.get(challenge, {"method": "email_code"})
    assert "Email me a code" in page.content.decode()
    assert client.post(challenge, {"method": "email_code", "action": "send"}).status_code == 200
    code = email_code_of(acme, user)
    with tenant_context(acme.tenant):
        device = EmailCodeDevice.objects.get(user=user)
        assert code not in device.code_digest and len(device.code_digest) == 64
    # Another sign-in attempt of the same account cannot use this code.
    other = tenant_client(acme)
    other_challenge = password_step(other, user)["Location"]
    refused = other.post(other_challenge, {"method": "email_code", "code": code})
    assert refused.status_code == 400
    # Past its 10 minutes the code is refused.
    with tenant_context(acme.tenant):
        EmailCodeDevice.objects.filter(user=user).update(
            valid_until=timezone.now() - timedelta(seconds=1),
            throttling_failure_count=0, throttling_failure_timestamp=None,
        )  # fmt: skip
    assert client.post(challenge, {"method": "email_code", "code": code}).status_code == 400
    # A new code for this attempt works.
    with tenant_context(acme.tenant):
        EmailCodeDevice.objects.filter(user=user).update(
            throttling_failure_count=0, throttling_failure_timestamp=None
        )
    client.post(challenge, {"method": "email_code", "action": "send"})
    response = client.post(challenge, {"method": "email_code", "code": email_code_of(acme, user)})
    assert response["Location"] == "/account/"
    assert rows(acme, user)[-1] == ("success", "", "email_code", True)


def test_policy_off_asks_for_nothing(acme):
    user = make_user(acme)
    with_authenticator(acme, user)
    set_policy(acme, requirement="off")
    response = password_step(tenant_client(acme), user)
    assert response["Location"] == "/account/"


def test_required_policy_makes_setting_up_an_app_part_of_sign_in(acme):
    set_policy(acme, requirement="required_all")
    user = make_user(acme)
    client = tenant_client(acme)
    response = password_step(client, user)
    assert response["Location"].startswith("/accounts/mfa/setup/")
    page = client.get(response["Location"])
    body = page.content.decode()
    assert "<svg" in body and acme.tenant.name in body and user.email in body
    secret = secret_on_page(page)
    wrong = client.post(response["Location"], {"code": "000000"})
    assert wrong.status_code == 400 or code_from_secret(secret) == "000000"
    time.sleep(1.1)  # the wait after a wrong code (MFA_THROTTLE_FACTOR)
    codes_page = client.post(response["Location"], {"code": code_from_secret(secret)})
    assert codes_page.status_code == 200
    codes = recovery_codes_on_page(codes_page)
    assert len(codes) == 10
    assert client.get("/account/").status_code == 302  # not until "continue"
    done = client.post(response["Location"], {"action": "continue"})
    assert done["Location"] == "/account/"
    assert client.get("/account/").status_code == 200
    with tenant_context(acme.tenant):
        assert TOTPDevice.objects.get(user=user).confirmed
    assert rows(acme, user)[-1] == ("success", "", "totp", True)


def test_policy_for_admins_leaves_members_alone(acme):
    set_policy(acme, requirement="required_admins")
    member = make_user(acme)
    assert password_step(tenant_client(acme), member)["Location"] == "/account/"
    admin = make_user(acme, admin_roles=["reports_reader"])
    assert password_step(tenant_client(acme), admin)["Location"].startswith("/accounts/mfa/setup/")


def test_the_challenge_of_a_sign_in_for_an_app_may_lead_to_the_app(acme):
    from tests.oidc.helpers import authorize_path, form_action, register_app

    app = register_app(acme)
    user = make_user(acme)
    device = with_authenticator(acme, user)
    client = tenant_client(acme)
    next_url = authorize_path(app)
    challenge = password_step(client, user, next=next_url)["Location"]
    assert "next=" in challenge
    page = client.get(challenge)
    assert form_action(page) == "form-action 'self' https://app.example"
    response = client.post(challenge, {"code": code_for(device), "next": next_url})
    assert response.status_code == 302 and response["Location"] == next_url
    final = client.get(response["Location"])
    assert final.status_code == 302 and final["Location"].startswith(
        "https://app.example/callback?code="
    )


def test_signing_in_with_one_of_the_last_recovery_codes_warns(acme):
    from mfa.services import recovery_codes_regenerate

    user = make_user(acme)
    with_authenticator(acme, user)
    with tenant_context(acme.tenant):
        codes = recovery_codes_regenerate(user=user, request=None)
        # The first six are used up (the codes are stored in the order they are shown).
        device = user.mfa_recovery_devices.get()
        used = list(device.codes.order_by("pk").values_list("pk", flat=True)[:6])
        device.codes.filter(pk__in=used).update(used_at=timezone.now())
    client = tenant_client(acme)
    challenge = password_step(client, user)["Location"]
    response = client.post(challenge, {"code": codes[6], "method": "recovery_code"})
    assert response["Location"] == "/account/"
    assert "You have 3 recovery codes left." in client.get("/account/").content.decode()


def test_while_the_account_is_locked_no_code_is_checked(acme):
    user = make_user(acme)
    device = with_authenticator(acme, user)
    client = tenant_client(acme)
    challenge = password_step(client, user)["Location"]
    with tenant_context(acme.tenant):
        for number in range(10):
            lockout.lockout_register_failure(email=user.email, ip=None, password=f"guess {number}")
    response = client.post(challenge, {"code": code_for(device)})
    assert response.status_code == 400
    assert "Too many failed sign-in attempts" in response.content.decode()
    assert client.get("/account/").status_code == 302


def test_email_codes_are_limited_per_account(acme):
    user = make_user(acme)
    with_authenticator(acme, user)
    client = tenant_client(acme)
    challenge = password_step(client, user)["Location"]
    answers = [
        client.post(challenge, {"method": "email_code", "action": "send"}).status_code
        for _ in range(6)
    ]
    assert answers == [200] * 5 + [429]
    with tenant_context(acme.tenant):
        assert OutboxEmail.objects.filter(to=user.email).count() == 5


def test_no_code_or_secret_reaches_the_logs(acme, caplog):
    import logging

    from mfa.selectors import totp_secret_text
    from mfa.services import recovery_codes_regenerate

    caplog.set_level(logging.DEBUG)
    user = make_user(acme)
    device = with_authenticator(acme, user)
    with tenant_context(acme.tenant):
        recovery = recovery_codes_regenerate(user=user, request=None)
        secret = totp_secret_text(device).replace(" ", "")
    client = tenant_client(acme)
    challenge = password_step(client, user)["Location"]
    client.post(challenge, {"code": "000000", "method": "totp"})  # wrong (or right) code
    client.post(challenge, {"method": "email_code", "action": "send"})
    emailed = email_code_of(acme, user)
    time.sleep(1.1)
    client.post(challenge, {"code": recovery[0], "method": "recovery_code"})
    for value in (secret, device.secret, recovery[0]):
        assert value not in caplog.text
    for code in (emailed, code_for(device)):
        assert not re.search(rf"\b{code}\b", caplog.text)
