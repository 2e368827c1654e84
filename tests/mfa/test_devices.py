"""Second-factor devices: sealed secrets, one use per code, tolerance, throttling, recovery
codes (SECURITY.md items 10 to 12)."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

from django.core.management import call_command
from django.db import connection
from django.test import override_settings
from django.utils import timezone
from django_tenants.utils import tenant_context

from mfa.models import RecoveryCodeDevice, TOTPDevice
from tests.mfa.helpers import code_for, make_user, with_authenticator


def raw_secret(device) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT secret FROM mfa_totpdevice WHERE id = %s", [device.pk])
        return cursor.fetchone()[0]


def test_authenticator_secret_is_not_stored_in_clear(acme):
    user = make_user(acme)
    device = with_authenticator(acme, user)
    with tenant_context(acme.tenant):
        stored = raw_secret(device)
        from mfa.selectors import totp_secret_text

        secret_b32 = totp_secret_text(device).replace(" ", "")
        assert device.secret not in stored and secret_b32 not in stored
        assert stored.startswith("gAAAAA")  # a Fernet token
        assert TOTPDevice.objects.get(pk=device.pk).secret == device.secret


def test_secrets_sealed_under_an_old_key_open_after_rotation_and_reseal(acme):
    user = make_user(acme)
    with override_settings(MFA_ENCRYPTION_KEYS=["old key for the test, long and random"]):
        device = with_authenticator(acme, user)
    rotated = ["new key for the test, long and random", "old key for the test, long and random"]
    with override_settings(MFA_ENCRYPTION_KEYS=rotated):
        with tenant_context(acme.tenant):
            assert TOTPDevice.objects.get(pk=device.pk).secret == device.secret
        output = StringIO()
        call_command("mfa_secrets_reseal", stdout=output)
        assert "acme: " in output.getvalue()
    with override_settings(MFA_ENCRYPTION_KEYS=rotated[:1]), tenant_context(acme.tenant):
        assert TOTPDevice.objects.get(pk=device.pk).secret == device.secret


def test_a_secret_no_listed_key_opens_is_left_and_reported(acme):
    user = make_user(acme)
    with override_settings(MFA_ENCRYPTION_KEYS=["a key nobody lists any more, long enough"]):
        device = with_authenticator(acme, user)
    with tenant_context(acme.tenant):
        before = raw_secret(device)
    output, errors = StringIO(), StringIO()
    call_command("mfa_secrets_reseal", stdout=output, stderr=errors)
    assert "not opened" in output.getvalue()
    assert "Put back the key that sealed them" in errors.getvalue()
    with tenant_context(acme.tenant):
        assert raw_secret(device) == before
    key = ["a key nobody lists any more, long enough"]
    with override_settings(MFA_ENCRYPTION_KEYS=key), tenant_context(acme.tenant):
        TOTPDevice.objects.filter(pk=device.pk).delete()  # the shared tenant stays readable


def test_a_code_works_once(acme):
    user = make_user(acme)
    device = with_authenticator(acme, user)
    with tenant_context(acme.tenant):
        code = code_for(device)
        assert device.verify_token(code)
        device = TOTPDevice.objects.get(pk=device.pk)
        assert not device.verify_token(code)


def test_one_step_either_side_is_accepted_and_no_further(acme):
    with tenant_context(acme.tenant):
        for steps, accepted in [(-2, False), (2, False), (-1, True), (1, True), (0, True)]:
            device = with_authenticator(acme, make_user(acme))
            device = TOTPDevice.objects.get(pk=device.pk)
            assert device.verify_token(code_for(device, steps=steps)) is accepted, steps


def test_an_older_code_is_refused_after_a_newer_one_served(acme):
    device = with_authenticator(acme, make_user(acme))
    with tenant_context(acme.tenant):
        assert device.verify_token(code_for(device))
        assert not device.verify_token(code_for(device, steps=-1))


def test_wrong_codes_make_the_wait_grow(acme):
    device = with_authenticator(acme, make_user(acme))
    with tenant_context(acme.tenant):
        assert not device.verify_token("000000" if code_for(device) != "000000" else "111111")
        allowed, details = device.verify_is_allowed()
        assert not allowed and details["failure_count"] == 1
        first_wait = details["locked_until"] - device.throttling_failure_timestamp
        # Once the wait is over, another wrong code doubles it; the right code is refused
        # while waiting.
        device.throttling_failure_timestamp = timezone.now() - timedelta(seconds=5)
        device.save()
        assert not device.verify_token("999999" if code_for(device) != "999999" else "888888")
        allowed, details = device.verify_is_allowed()
        assert details["failure_count"] == 2
        assert details["locked_until"] - device.throttling_failure_timestamp == 2 * first_wait
        assert not device.verify_token(code_for(device))


def test_recovery_codes_are_single_use_and_stored_hashed(acme):
    from mfa.services import recovery_codes_regenerate

    user = make_user(acme)
    with_authenticator(acme, user)
    with tenant_context(acme.tenant):
        codes = recovery_codes_regenerate(user=user, request=None)
        assert len(codes) == 10 and len(set(codes)) == 10
        device = RecoveryCodeDevice.objects.get(user=user)
        digests = list(device.codes.values_list("digest", flat=True))
        assert not any(code in digest or code.replace("-", "") in digest for code in codes
                       for digest in digests)  # fmt: skip
        assert device.verify_token(codes[0].upper())
        assert device.remaining == 9
        device.throttle_reset()
        assert not device.verify_token(codes[0])


def test_new_recovery_codes_end_the_old_set(acme):
    from mfa.services import recovery_codes_regenerate

    user = make_user(acme)
    with_authenticator(acme, user)
    with tenant_context(acme.tenant):
        old = recovery_codes_regenerate(user=user, request=None)
        new = recovery_codes_regenerate(user=user, request=None)
        device = RecoveryCodeDevice.objects.get(user=user)
        assert not device.verify_token(old[0])
        device.throttle_reset()
        assert device.verify_token(new[0])
