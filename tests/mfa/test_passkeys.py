"""Passkeys, server side, with a software authenticator (tests.mfa.soft_passkey) answering as
a browser would: added in My account (audited, emailed), used without a password (allauth's
login stages still run, the sign-in log says "passkey", no second factor asked), used as a
second factor, and refused when they should be."""

from __future__ import annotations

import json

from django_otp import DEVICE_ID_SESSION_KEY
from django_tenants.utils import tenant_context

from audit.models import AuditEvent, SignInEvent
from mfa.models import PasskeyDevice
from tests.helpers import tenant_client
from tests.mfa.helpers import (
    add_passkey,
    make_user,
    notices,
    options,
    password_step,
    set_policy,
    sign_in_with,
    signed_in,
    with_authenticator,
)
from tests.mfa.soft_passkey import SoftPasskey


def log_rows(world, user):
    with tenant_context(world.tenant):
        return list(
            SignInEvent.objects.filter(user=user)
            .order_by("id")
            .values_list("method", "result", "mfa_method")
        )


def test_a_passkey_is_added_in_my_account_audited_and_emailed(acme):
    user = make_user(acme)
    client = signed_in(acme, user)
    assert "Add a passkey" in client.get("/account/security/").content.decode()
    page = client.get("/account/security/passkeys/add/").content.decode()
    assert 'data-passkey="register"' in page and "js/passkeys.js" in page
    add_passkey(acme, client)
    with tenant_context(acme.tenant):
        device = PasskeyDevice.objects.get(user=user)
        assert device.name == "Work laptop"
        assert device.transports == ["hybrid", "internal"]
        assert device.backup_eligible
        assert AuditEvent.objects.filter(action="mfa.passkey.add", actor_id=user.public_id)
    assert "Work laptop" in client.get("/account/security/").content.decode()
    assert "A passkey (Work laptop) was added" in notices(acme, user)[-1]


def test_registration_asks_for_a_discoverable_passkey_with_user_verification(acme):
    user = make_user(acme)
    client = signed_in(acme, user)
    public_key = options(client, "/account/security/passkeys/add/options/")["publicKey"]
    assert public_key["rp"]["id"] == acme.host.split(":")[0]
    assert public_key["authenticatorSelection"]["residentKey"] == "required"
    assert public_key["authenticatorSelection"]["userVerification"] == "required"
    # The user handle is an opaque id, not the address.
    assert user.email not in json.dumps(public_key["user"]["id"])


def test_adding_a_passkey_needs_a_recent_password(acme):
    user = make_user(acme)
    client = tenant_client(acme)
    password_step(client, user)
    response = client.get("/account/security/passkeys/add/")
    assert response["Location"].startswith("/accounts/reauthenticate/")


def test_an_answer_from_another_origin_or_for_an_old_challenge_is_refused(acme):
    user = make_user(acme)
    client = signed_in(acme, user)
    creation = options(client, "/account/security/passkeys/add/options/")
    passkey = SoftPasskey(origin="http://evil.localhost")
    add = "/account/security/passkeys/add/"
    response = client.post(add, {"name": "x", "credential": passkey.create(creation)})
    assert response.status_code == 400
    assert "not accepted" in response.content.decode()
    # That answer used the challenge up: the same challenge from the right origin is too late.
    passkey.origin = f"http://{acme.host}"
    response = client.post(add, {"name": "x", "credential": passkey.create(creation)})
    assert response.status_code == 400 and "expired" in response.content.decode()
    with tenant_context(acme.tenant):
        assert not PasskeyDevice.objects.filter(user=user).exists()


def test_sign_in_with_a_passkey_without_password_runs_the_stages_and_logs_passkey(acme):
    user = make_user(acme)
    passkey = add_passkey(acme, signed_in(acme, user))
    with_authenticator(acme, user)  # would be asked after a password
    client, response = sign_in_with(acme, passkey)
    assert response.status_code == 302 and response["Location"] == "/account/"
    assert client.get("/account/").status_code == 200
    with tenant_context(acme.tenant):
        device = PasskeyDevice.objects.get(user=user)
        assert device.last_used_at is not None
    # Two factors in one: no code asked, the session is verified with the passkey.
    assert client.session[DEVICE_ID_SESSION_KEY] == device.persistent_id
    assert log_rows(acme, user)[-1] == ("passkey", "success", "passkey")


def test_passkey_sign_in_still_waits_for_a_mandatory_email_verification(acme):
    from allauth.account.models import EmailAddress

    from accounts.models import UserFlow

    user = make_user(acme)
    passkey = add_passkey(acme, signed_in(acme, user))
    with tenant_context(acme.tenant):
        EmailAddress.objects.filter(user=user).update(verified=False)
        flow = UserFlow.objects.first()
        flow.email_verification = UserFlow.EmailVerification.MANDATORY
        flow.save()
    try:
        client, response = sign_in_with(acme, passkey)
        assert response.status_code == 302
        assert "/accounts/confirm-email/" in response["Location"]
        assert client.get("/account/").status_code == 302
    finally:
        with tenant_context(acme.tenant):
            flow.email_verification = UserFlow.EmailVerification.OPTIONAL
            flow.save()


def test_passkey_sign_in_without_user_verification_is_refused(acme):
    user = make_user(acme)
    passkey = add_passkey(acme, signed_in(acme, user))
    client, response = sign_in_with(acme, passkey, verified=False)
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    assert client.get("/account/").status_code == 302
    with tenant_context(acme.tenant):
        assert SignInEvent.objects.filter(
            method="passkey", result="failure", failure_reason="passkey_refused"
        ).exists()


def test_an_unknown_passkey_or_a_counter_going_back_is_refused(acme):
    stranger = SoftPasskey(origin=f"http://{acme.host}")
    stranger.user_handle = b"x" * 16
    client, response = sign_in_with(acme, stranger)
    assert response["Location"].startswith("/accounts/login/")
    assert client.get("/account/").status_code == 302

    user = make_user(acme)
    passkey = add_passkey(acme, signed_in(acme, user), passkey=SoftPasskey(
        origin=f"http://{acme.host}", counts=True, synced=False))  # fmt: skip
    client, response = sign_in_with(acme, passkey)
    assert response["Location"] == "/account/"
    # A clone of the key answers with a counter already seen.
    client, response = sign_in_with(acme, passkey, counter=1)
    assert response["Location"].startswith("/accounts/login/")


def test_a_passkey_of_one_tenant_does_not_sign_in_on_another(acme, globex):
    user = make_user(acme)
    passkey = add_passkey(acme, signed_in(acme, user))
    passkey.origin = f"http://{globex.host}"
    client, response = sign_in_with(globex, passkey)
    assert response["Location"].startswith("/accounts/login/")
    assert client.get("/account/").status_code == 302


def test_passkey_as_second_factor_after_a_password(acme):
    user = make_user(acme)
    passkey = add_passkey(acme, signed_in(acme, user))
    client = tenant_client(acme)
    response = password_step(client, user)
    assert response["Location"].startswith("/accounts/mfa/")
    page = client.get(response["Location"]).content.decode()
    assert "Use a passkey" in page
    public_key = options(client, "/accounts/mfa/passkey/")["publicKey"]
    assert public_key["userVerification"] == "preferred"
    assert len(public_key["allowCredentials"]) == 1
    credential = passkey.get({"publicKey": public_key}, verified=False)
    response = client.post("/accounts/mfa/", {"method": "passkey", "credential": credential})
    assert response.status_code == 302 and response["Location"] == "/account/"
    assert log_rows(acme, user)[-1] == ("password", "success", "passkey")


def test_a_wrong_passkey_as_second_factor_is_refused(acme):
    user = make_user(acme)
    add_passkey(acme, signed_in(acme, user))
    client = tenant_client(acme)
    password_step(client, user)
    other = SoftPasskey(origin=f"http://{acme.host}")
    credential = other.get(options(client, "/accounts/mfa/passkey/"))
    response = client.post("/accounts/mfa/", {"method": "passkey", "credential": credential})
    assert response.status_code == 400
    assert "not accepted" in response.content.decode()
    assert client.get("/account/").status_code == 302
    assert log_rows(acme, user)[-1] == ("password", "failure", "passkey")


def test_passkeys_turned_off_by_the_policy_are_neither_offered_nor_accepted(acme):
    user = make_user(acme)
    passkey = add_passkey(acme, signed_in(acme, user))
    set_policy(acme, passkey_allowed=False)
    assert (
        "Sign in with a passkey" not in tenant_client(acme).get("/accounts/login/").content.decode()
    )
    assert tenant_client(acme).post("/accounts/passkey/options/").status_code == 403
    client = tenant_client(acme)
    # The user's only second factor is not allowed: the password alone signs in (optional).
    assert password_step(client, user)["Location"] == "/account/"
    del passkey


def test_sign_in_page_offers_a_passkey_with_autofill(acme):
    page = tenant_client(acme).get("/accounts/login/").content.decode()
    assert "Sign in with a passkey" in page
    assert 'autocomplete="username webauthn"' in page
    assert "js/passkeys.js" in page


def test_rename_and_remove_a_passkey(acme, globex):
    user = make_user(acme)
    client = signed_in(acme, user)
    add_passkey(acme, client)
    with tenant_context(acme.tenant):
        device = PasskeyDevice.objects.get(user=user)
    other = make_user(acme)
    outsider = signed_in(acme, other)
    assert outsider.get(f"/account/security/passkeys/{device.public_id}/").status_code == 404
    assert (
        outsider.post(f"/account/security/passkeys/{device.public_id}/remove/").status_code == 404
    )
    response = client.post(f"/account/security/passkeys/{device.public_id}/", {"name": "Phone"})
    assert response.status_code == 302
    response = client.post(f"/account/security/passkeys/{device.public_id}/remove/")
    assert response.status_code == 302
    with tenant_context(acme.tenant):
        assert not PasskeyDevice.objects.filter(user=user).exists()
        assert AuditEvent.objects.filter(action="mfa.passkey.remove", actor_id=user.public_id)
    assert "A passkey (Phone) was removed" in notices(acme, user)[-1]


def test_required_mfa_is_met_by_a_passkey_alone(acme):
    user = make_user(acme)
    passkey = add_passkey(acme, signed_in(acme, user))
    set_policy(acme, requirement="required_all")
    client = tenant_client(acme)
    response = password_step(client, user)
    # Asked for the passkey (or an emailed code), not sent to set up an authenticator app.
    assert response["Location"].startswith("/accounts/mfa/?") or response["Location"] == (
        "/accounts/mfa/"
    )
    credential = passkey.get(options(client, "/accounts/mfa/passkey/"))
    response = client.post("/accounts/mfa/", {"method": "passkey", "credential": credential})
    assert response["Location"] == "/account/"


def test_the_platform_host_has_no_passkey_sign_in(platform_client, db):
    assert platform_client.post("/accounts/passkey/options/").status_code == 404


def test_a_disabled_account_does_not_sign_in_with_its_passkey(acme):
    user = make_user(acme)
    passkey = add_passkey(acme, signed_in(acme, user))
    with tenant_context(acme.tenant):
        user.is_active = False
        user.save(update_fields=["is_active"])
    client, _response = sign_in_with(acme, passkey)
    assert client.get("/account/").status_code == 302
    assert log_rows(acme, user)[-1] == ("passkey", "failure", "")


def test_a_passkey_sign_in_for_an_app_leads_back_to_it(acme):
    user = make_user(acme)
    passkey = add_passkey(acme, signed_in(acme, user))
    _client, response = sign_in_with(acme, passkey, next_url="/account/security/")
    assert response["Location"] == "/account/security/"


def test_a_sign_in_challenge_serves_once_and_not_on_another_host(acme, globex):
    user = make_user(acme)
    passkey = add_passkey(acme, signed_in(acme, user))
    client = tenant_client(acme)
    request_options = options(client, "/accounts/passkey/options/")
    # The page asked for it without writing the session: a password form sent meanwhile
    # keeps its sign-in.
    assert "sessionid" not in client.cookies
    data = {"credential": passkey.get(request_options), "ceremony": request_options["ceremony"]}
    assert client.post("/accounts/passkey/", data)["Location"] == "/account/"
    # The same challenge again (even answered anew) is refused.
    again = tenant_client(acme)
    data["credential"] = passkey.get(request_options)
    response = again.post("/accounts/passkey/", data)
    assert response["Location"].startswith("/accounts/login/")
    assert again.get("/account/").status_code == 302
    # A challenge of acme's host means nothing on globex's.
    request_options = options(tenant_client(acme), "/accounts/passkey/options/")
    passkey.origin = f"http://{globex.host}"
    data = {"credential": passkey.get(request_options), "ceremony": request_options["ceremony"]}
    other = tenant_client(globex)
    assert other.post("/accounts/passkey/", data)["Location"].startswith("/accounts/login/")


def test_a_conditional_access_policy_requiring_a_passkey_accepts_only_a_passkey(acme):
    from tests.conditional_access.helpers import make_policy, policies_clear

    with_key, with_app = make_user(acme), make_user(acme)
    passkey = add_passkey(acme, signed_in(acme, with_key))
    with_authenticator(acme, with_app)
    policies_clear(acme)
    make_policy(acme, name="Passkeys for members", require_passkey=True, users="selected",
                include_members=True)  # fmt: skip
    try:
        client = tenant_client(acme)
        challenge = password_step(client, with_key)["Location"]
        page = client.get(challenge).content.decode()
        assert "Use a passkey" in page and "authenticator app" not in page.lower()
        refused = client.post(challenge, {"method": "totp", "code": "123456"})
        assert refused.status_code in (200, 400) and client.get("/account/").status_code == 302
        credential = passkey.get(options(client, "/accounts/mfa/passkey/"), verified=False)
        done = client.post("/accounts/mfa/", {"method": "passkey", "credential": credential})
        assert done["Location"] == "/account/"

        # An authenticator app does not meet the policy: the sign-in stops with a way out.
        other = tenant_client(acme)
        blocked = password_step(other, with_app)
        assert blocked.status_code == 403
        assert "requires a passkey" in blocked.content.decode()
        assert other.get("/account/").status_code == 302
        with tenant_context(acme.tenant):
            row = SignInEvent.objects.filter(user=with_app).latest("occurred_at")
        assert row.result == "blocked" and row.failure_reason == "blocked_by_policy"
    finally:
        policies_clear(acme)
