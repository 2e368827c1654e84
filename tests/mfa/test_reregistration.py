"""Console > Users > a user > Require re-registration (Entra's "Require re-register MFA"): the
user's second factors stop counting at once, their next sign-in sets up a new one, then the
old ones are removed; audited, the user emailed, only for who may reset MFA."""

from __future__ import annotations

from django_tenants.utils import tenant_context

from audit.models import AuditEvent
from mfa.models import PasskeyDevice, RecoveryCodeDevice, ReRegistration, TOTPDevice
from mfa.services import recovery_codes_regenerate
from tests.helpers import tenant_client
from tests.mfa.helpers import (
    add_passkey,
    code_for,
    code_from_secret,
    make_user,
    notices,
    password_step,
    recovery_codes_on_page,
    secret_on_page,
    sign_in_with,
    signed_in,
    with_authenticator,
)


def require(world, admin, user):
    client = world.client(admin)
    url = f"/console/users/{user.public_id}/mfa/reregister/"
    page = client.get(f"/console/users/{user.public_id}/").content.decode()
    assert url in page and "Require re-registration" in page
    confirm = client.get(url)
    assert confirm.status_code == 200 and "register their MFA methods again" in (
        confirm.content.decode()
    )
    done = client.post(url)
    assert done["Location"] == f"/console/users/{user.public_id}/"
    return client


def test_the_old_methods_stop_counting_and_the_next_sign_in_registers_a_new_one(acme):
    admin = make_user(acme, admin_roles=["user_administrator"])
    user = make_user(acme)
    passkey = add_passkey(acme, signed_in(acme, user))
    old_app = with_authenticator(acme, user)
    with tenant_context(acme.tenant):
        old_codes = recovery_codes_regenerate(user=user, request=None)
    console = require(acme, admin, user)
    with tenant_context(acme.tenant):
        event = AuditEvent.objects.filter(action="mfa.reregistration.require").latest("id")
        assert event.actor_id == admin.public_id and event.target_label == user.email
        assert event.after["authenticator_app"] and event.after["passkeys"] == 1
    assert "set up your second sign-in step again" in notices(acme, user)[-1]
    page = console.get(f"/console/users/{user.public_id}/").content.decode()
    assert "Re-registration required since" in page
    assert "/mfa/reregister/" not in page  # already asked

    # The old passkey no longer signs in without a password ...
    _client, refused = sign_in_with(acme, passkey)
    assert refused["Location"].startswith("/accounts/login/")
    # ... and after the password, neither the old app, its recovery codes nor the passkey
    # serve: the sign-in sets up a new app.
    client = tenant_client(acme)
    setup = password_step(client, user)["Location"]
    assert setup.startswith("/accounts/mfa/setup/")
    challenge = client.get("/accounts/mfa/?method=totp")
    assert challenge["Location"].startswith("/accounts/mfa/setup/")
    refused = client.post("/accounts/mfa/", {"method": "recovery_code", "code": old_codes[0]})
    assert refused["Location"].startswith("/accounts/mfa/setup/")
    setup_page = client.get(setup)
    assert "asked you to set up your second sign-in step again" in setup_page.content.decode()
    secret = secret_on_page(setup_page)
    codes_page = client.post(setup, {"code": code_from_secret(secret)})
    assert len(recovery_codes_on_page(codes_page)) == 10
    assert client.post(setup, {"action": "continue"})["Location"] == "/account/"
    with tenant_context(acme.tenant):
        assert not TOTPDevice.objects.filter(pk=old_app.pk).exists()
        assert TOTPDevice.objects.filter(user=user, confirmed=True).count() == 1
        assert not PasskeyDevice.objects.filter(user=user).exists()
        assert RecoveryCodeDevice.objects.get(user=user).remaining == 10
        assert not ReRegistration.objects.filter(user=user).exists()
        done = AuditEvent.objects.filter(action="mfa.reregistration.complete").latest("id")
        assert done.actor_id == user.public_id and done.before["passkeys"] == 1
    # From now on the new app is the one asked for.
    again = tenant_client(acme)
    challenge = password_step(again, user)["Location"]
    assert challenge.startswith("/accounts/mfa/") and "setup" not in challenge
    wrong = again.post(challenge, {"method": "totp", "code": code_for(old_app)})
    assert wrong.status_code == 400


def test_a_remembered_browser_is_asked_again(acme):
    from tests.mfa.helpers import set_policy

    admin = make_user(acme, admin_roles=["user_administrator"])
    user = make_user(acme)
    device = with_authenticator(acme, user)
    set_policy(acme, remember_browser_days=30)
    try:
        client = tenant_client(acme)
        challenge = password_step(client, user)["Location"]
        client.post(challenge, {"method": "totp", "code": code_for(device), "remember": "on"})
        client.post("/accounts/logout/")
        assert password_step(client, user)["Location"] == "/account/"  # remembered
        client.post("/accounts/logout/")
        require(acme, admin, user)
        assert password_step(client, user)["Location"].startswith("/accounts/mfa/setup/")
    finally:
        set_policy(acme, remember_browser_days=0)


def test_only_who_may_reset_mfa_may_require_it(acme):
    user = make_user(acme)
    with_authenticator(acme, user)
    url = f"/console/users/{user.public_id}/mfa/reregister/"
    reader = make_user(acme, admin_roles=["reports_reader"])
    assert acme.client(reader).post(url).status_code == 403
    # A User administrator cannot for a Global administrator (the rule of a reset).
    user_admin = make_user(acme, admin_roles=["user_administrator"])
    global_admin = make_user(acme, admin_roles=["global_administrator"])
    with_authenticator(acme, global_admin)
    client = acme.client(user_admin)
    client.post(f"/console/users/{global_admin.public_id}/mfa/reregister/")
    with tenant_context(acme.tenant):
        assert not ReRegistration.objects.filter(user=global_admin).exists()
    # Nothing to register again: refused with a message.
    bare = make_user(acme)
    client.post(f"/console/users/{bare.public_id}/mfa/reregister/")
    with tenant_context(acme.tenant):
        assert not ReRegistration.objects.filter(user=bare).exists()


def test_without_authenticator_apps_an_emailed_code_then_a_new_passkey_in_my_account(acme):
    from tests.helpers import CODE
    from tests.mfa.helpers import reauthenticated, set_policy

    admin = make_user(acme, admin_roles=["user_administrator"])
    user = make_user(acme)
    add_passkey(acme, signed_in(acme, user))
    require(acme, admin, user)
    set_policy(acme, totp_allowed=False)
    try:
        client = tenant_client(acme)
        challenge = password_step(client, user)["Location"]
        assert challenge.startswith("/accounts/mfa/") and "setup" not in challenge
        page = client.get(challenge).content.decode()
        assert "Email me a code" in page and "Use a passkey" not in page
        client.post(challenge, {"method": "email_code", "action": "send"})
        text = notices(acme, user)[-1]
        code = CODE.search(text).group(1)
        done = client.post(challenge, {"method": "email_code", "code": code})
        assert done["Location"] == "/account/"
        assert "asked you to set up your second sign-in step again" in (
            client.get("/account/security/").content.decode()
        )
        new = add_passkey(acme, reauthenticated(client), name="New phone")
        assert len(new.recovery_codes) == 10  # the old set went with the old methods
    finally:
        set_policy(acme, totp_allowed=True)
    with tenant_context(acme.tenant):
        assert list(PasskeyDevice.objects.filter(user=user).values_list("name", flat=True)) == [
            "New phone"
        ]
        assert not ReRegistration.objects.filter(user=user).exists()
