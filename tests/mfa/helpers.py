"""Helpers for the MFA tests: users with an authenticator app, real codes, the sign-in steps."""

from __future__ import annotations

import re
from base64 import b32decode

from django.contrib.auth import get_user_model
from django_otp.oath import totp
from django_tenants.utils import tenant_context

from emails.models import OutboxEmail
from tests.helpers import PASSWORD, tenant_client, unique_email


def make_user(world, *, verified: bool = True, **fields):
    """A member whose address is proven (unless `verified=False`)."""
    from allauth.account.models import EmailAddress

    with tenant_context(world.tenant):
        user = get_user_model().objects.create_user(
            email=fields.pop("email", None) or unique_email(), password=PASSWORD, **fields
        )
        if verified:
            EmailAddress.objects.create(user=user, email=user.email, primary=True, verified=True)
        return user


def with_authenticator(world, user):
    """Give `user` a confirmed authenticator app; returns its device."""
    from mfa.services import totp_enrol_start

    with tenant_context(world.tenant):
        device = totp_enrol_start(user=user, during_sign_in=True)
        device.confirmed = True
        device.save()
        return device


def code_for(device, *, steps: int = 0) -> str:
    """The code the user's app shows now (or `steps` steps away), computed as an app does."""
    return f"{totp(device.bin_key, step=30, digits=6, drift=steps):06d}"


def code_from_secret(secret_text: str, *, steps: int = 0) -> str:
    """The code an app shows now (or `steps` steps away) for the key shown on a setup page."""
    key = b32decode(secret_text.replace(" ", "") + "=" * (-len(secret_text.replace(" ", "")) % 8))
    return f"{totp(key, step=30, digits=6, drift=steps):06d}"


def secret_on_page(response) -> str:
    match = re.search(
        r'<code class="fs-6" id="totp-secret">([A-Z2-7 ]+)</code>', response.content.decode()
    )
    assert match, response.content.decode()[:2000]
    return match.group(1)


def recovery_codes_on_page(response) -> list[str]:
    return re.findall(r'<li class="col">([a-z2-9]{5}-[a-z2-9]{5})</li>', response.content.decode())


def password_step(client, user, **extra):
    return client.post("/accounts/login/", {"login": user.email, "password": PASSWORD, **extra})


def set_policy(world, **fields):
    from mfa.models import MfaPolicy

    with tenant_context(world.tenant):
        policy = MfaPolicy.objects.filter(pk=1).first() or MfaPolicy()
        for name, value in fields.items():
            setattr(policy, name, value)
        policy.save()


def signed_in(world, user):
    """A browser that signed in with the password and typed it again for a sensitive change
    (allauth's reauthentication, SECURITY.md item 7)."""
    client = tenant_client(world)
    assert password_step(client, user)["Location"] == "/account/"
    return reauthenticated(client)


def reauthenticated(client):
    assert client.post("/accounts/reauthenticate/", {"password": PASSWORD}).status_code == 302
    return client


def notices(world, user) -> list[str]:
    with tenant_context(world.tenant):
        return [
            email.payload.get("text", "")
            for email in OutboxEmail.objects.filter(to=user.email).order_by("id")
        ]


# Passkeys (tests.mfa.soft_passkey answers as a browser would) ---------------------------------


def options(client, url: str) -> dict:
    response = client.post(url)
    assert response.status_code == 200, response.content
    return response.json()


def add_passkey(world, client, *, name: str = "Work laptop", passkey=None):
    """Add a passkey in My account; its `recovery_codes` are those shown (a first one)."""
    from tests.mfa.soft_passkey import SoftPasskey

    passkey = passkey or SoftPasskey(origin=f"http://{world.host}")
    credential = passkey.create(options(client, "/account/security/passkeys/add/options/"))
    response = client.post(
        "/account/security/passkeys/add/", {"name": name, "credential": credential}
    )
    # The first second factor comes with recovery codes, shown once; later ones go back to
    # the security page.
    passkey.recovery_codes = recovery_codes_on_page(response)
    if response.status_code == 200 and passkey.recovery_codes:
        return passkey
    assert response.status_code == 302, response.content.decode()[:3000]
    assert response["Location"] == "/account/security/"
    return passkey


def sign_in_with(world, passkey, *, next_url: str = "", **answer):
    client = tenant_client(world)
    request_options = options(client, "/accounts/passkey/options/")
    credential = passkey.get(request_options, **answer)
    data = {"credential": credential, "ceremony": request_options["ceremony"]}
    if next_url:
        data["next"] = next_url
    return client, client.post("/accounts/passkey/", data)
