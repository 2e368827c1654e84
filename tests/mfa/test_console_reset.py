"""Console > Users > a user: their second factors, and "Reset MFA" for User administrators
(not of a more privileged administrator: the rule of disabling), audited, the user emailed."""

from __future__ import annotations

from django_tenants.utils import tenant_context

from audit.models import AuditEvent
from emails.models import OutboxEmail
from mfa.models import PasskeyDevice, RecoveryCodeDevice, TOTPDevice
from mfa.services import recovery_codes_regenerate
from tests.helpers import tenant_client
from tests.mfa.helpers import make_user, password_step, with_authenticator


def test_a_user_administrator_sees_the_methods_and_resets_them(acme):
    user_admin = make_user(acme, admin_roles=["user_administrator"])
    user = make_user(acme)
    with_authenticator(acme, user)
    with tenant_context(acme.tenant):
        recovery_codes_regenerate(user=user, request=None)
    client = acme.client(user_admin)
    page = client.get(f"/console/users/{user.public_id}/").content.decode()
    assert "Authenticator app: added" in page and "Recovery codes: 10 left" in page
    reset_url = f"/console/users/{user.public_id}/mfa/reset/"
    assert reset_url in page
    confirm = client.get(reset_url)
    assert confirm.status_code == 200 and "Reset MFA of" in confirm.content.decode()
    done = client.post(reset_url)
    assert done["Location"] == f"/console/users/{user.public_id}/"
    with tenant_context(acme.tenant):
        assert not TOTPDevice.objects.filter(user=user).exists()
        assert not RecoveryCodeDevice.objects.filter(user=user).exists()
        event = AuditEvent.objects.get(action="mfa.reset")
        assert event.actor_id == user_admin.public_id and event.target_label == user.email
        notice = OutboxEmail.objects.filter(to=user.email).latest("id")
        assert "administrator removed your second sign-in steps" in notice.payload["text"]
    after = client.get(done["Location"]).content.decode()
    assert "No authenticator app or passkey set up." in after
    # Their next sign-in asks for no code (the policy does not require one).
    assert password_step(tenant_client(acme), user)["Location"] == "/account/"


def with_passkey(world, user, *, name: str, used: bool = False):
    from datetime import UTC, datetime

    with tenant_context(world.tenant):
        return PasskeyDevice.objects.create(
            user=user, name=name, credential_id=f"credential-{name}", public_key=b"\xa5",
            last_used_at=datetime(2026, 11, 2, 9, 30, tzinfo=UTC) if used else None,
        )  # fmt: skip


def test_the_user_page_lists_passkeys_and_reset_removes_them(acme):
    user_admin = make_user(acme, admin_roles=["user_administrator"])
    user = make_user(acme)
    with_passkey(acme, user, name="Work laptop", used=True)
    with_passkey(acme, user, name="Phone")
    client = acme.client(user_admin)
    page = client.get(f"/console/users/{user.public_id}/").content.decode()
    # A person whose only second factor is passkeys: no authenticator app line.
    assert "Authenticator app: added" not in page
    assert "Passkeys:" in page
    assert "<strong>Work laptop</strong>: added " in page
    assert "last used 2026-11-02 09:30 UTC" in page
    assert "<strong>Phone</strong>: added " in page and "never used" in page
    reset_url = f"/console/users/{user.public_id}/mfa/reset/"
    assert reset_url in page
    assert "passkeys" in client.get(reset_url).content.decode()
    client.post(reset_url)
    with tenant_context(acme.tenant):
        assert not PasskeyDevice.objects.filter(user=user).exists()
        event = AuditEvent.objects.get(action="mfa.reset")
        assert event.before["passkeys"] == 2 and event.after["passkeys"] == 0
        notice = OutboxEmail.objects.filter(to=user.email).latest("id")
        assert "passkeys" in notice.payload["text"]
    page = client.get(f"/console/users/{user.public_id}/").content.decode()
    assert "No authenticator app or passkey set up." in page and "Work laptop" not in page


def test_a_user_administrator_cannot_reset_a_privileged_administrator(acme):
    user_admin = make_user(acme, admin_roles=["user_administrator"])
    global_admin = make_user(acme, admin_roles=["global_administrator"])
    with_authenticator(acme, global_admin)
    client = acme.client(user_admin)
    page = client.get(f"/console/users/{global_admin.public_id}/").content.decode()
    assert "Authenticator app: added" in page and "/mfa/reset/" not in page
    client.post(f"/console/users/{global_admin.public_id}/mfa/reset/")
    with tenant_context(acme.tenant):
        assert TOTPDevice.objects.filter(user=global_admin).exists()
        assert not AuditEvent.objects.filter(action="mfa.reset").exists()
    # A Global administrator may.
    other_global = make_user(acme, admin_roles=["global_administrator"])
    acme.client(other_global).post(f"/console/users/{global_admin.public_id}/mfa/reset/")
    with tenant_context(acme.tenant):
        assert not TOTPDevice.objects.filter(user=global_admin).exists()


def test_members_and_other_admins_cannot_reset(acme):
    user = make_user(acme)
    with_authenticator(acme, user)
    for actor in (make_user(acme), make_user(acme, admin_roles=["security_administrator"])):
        assert (
            acme.client(actor).post(f"/console/users/{user.public_id}/mfa/reset/").status_code
            == 403
        )
    with tenant_context(acme.tenant):
        assert TOTPDevice.objects.filter(user=user).exists()
