"""Passkeys (WebAuthn, python-fido2's server): registration in My account, and the two uses at
sign-in, as the first factor (no password) and as a second factor.

Decisions
---------
- The relying party id is the host the person is on (request.get_host() without the port):
  each tenant host is its own relying party, so a passkey made on one tenant's host is never
  offered on another's. A passkey made on a tenant's custom domain works there only.
- The origin in the browser's signed client data must be exactly this host's origin: https,
  or http on localhost and `*.localhost` (browsers treat those as secure; development, tests).
- Every passkey is discoverable (resident key required) and made with user verification
  required: each one can sign in without a password (conditional UI needs discoverable
  credentials) and each one proves two factors (the device, and its PIN or biometrics). One
  kind of passkey, no "this one works only as a second factor" for people to understand.
  Security keys that cannot store a credential cannot be registered.
- Sign-in without a password requires user verification; as a second factor after a
  password it is preferred (a key that only proves presence still proves possession).
- A challenge lives five minutes and is used up by the first answer, right or wrong. For
  registration and the second factor it is kept in the session (one ceremony of one purpose
  for one user). The sign-in page's challenge is not: the page asks for it as it loads (for
  the autofill), while the person may already be sending the password form, and of two
  requests writing one session one write is lost (or, before the browser has a session, two
  sessions are made): the sign-in in progress would be. It travels instead as a signed token
  (django.core.signing: the fido2 state and the host, five minutes) given back with the
  answer, and is used up in the cache (cache.add on the challenge, tenant-scoped keys).
- The counter: when the authenticator keeps one (non-zero), it must grow; a counter that
  goes back means a cloned key and the passkey is refused.
"""

from __future__ import annotations

import json
import time
import uuid

from django.core import signing
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.http.request import split_domain_port
from django.utils import timezone
from django.utils.translation import gettext as _
from fido2 import cbor
from fido2.cose import CoseKey
from fido2.server import Fido2Server
from fido2.utils import websafe_decode, websafe_encode
from fido2.webauthn import (
    AttestedCredentialData,
    AuthenticationResponse,
    PublicKeyCredentialDescriptor,
    PublicKeyCredentialRpEntity,
    PublicKeyCredentialType,
    PublicKeyCredentialUserEntity,
    RegistrationResponse,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from audit.services import audit_record
from mfa.models import PasskeyDevice
from mfa.selectors import mfa_policy_get

SESSION_KEY = "mfa_passkey_ceremony"
CHALLENGE_SECONDS = 5 * 60
NAME_MAX_LENGTH = 64


class Purpose:
    REGISTER = "register"
    SIGN_IN = "sign_in"  # first factor, no password
    SECOND_FACTOR = "second_factor"
    # A signed-in person proves it is them with a passkey alone (user verification required).
    REAUTHENTICATE = "reauthenticate"


class PasskeyRefused(ValidationError):
    """A passkey answer that did not serve; the message is for the person."""


def _refused() -> PasskeyRefused:
    return PasskeyRefused(
        _("This passkey was not accepted. Try again, or use another way to sign in."),
        code="passkey_refused",
    )


# The relying party ---------------------------------------------------------------------------


def rp_id_for(request) -> str:
    domain, _port = split_domain_port(request.get_host())
    return domain


def origin_allowed(request, origin: str) -> bool:
    """The browser's origin must be this very host's (scheme, host and port)."""
    host = request.get_host()
    domain = rp_id_for(request)
    secure_http = domain == "localhost" or domain.endswith(".localhost")
    expected = {f"https://{host}"}
    if secure_http:
        expected.add(f"http://{host}")
    return origin in expected


def _server(request, rp_name: str | None = None) -> Fido2Server:
    # The name browsers show: the tenant's, or the platform's for operators (operators/).
    name = rp_name if rp_name is not None else connection.tenant.name
    rp = PublicKeyCredentialRpEntity(id=rp_id_for(request), name=name)
    return Fido2Server(rp, verify_origin=lambda origin: origin_allowed(request, origin))


def passkeys_allowed() -> bool:
    # "Off" means no second sign-in step and no My account > Security methods: passkeys,
    # which count as MFA, go with the rest (they work again if the policy is turned back on).
    policy = mfa_policy_get()
    return policy.passkey_allowed and not policy.is_off


# Ceremonies ----------------------------------------------------------------------------------


def _ceremony_keep(request, *, purpose: str, state: dict, user=None) -> None:
    request.session[SESSION_KEY] = {
        "purpose": purpose,
        "state": state,
        "user": str(user.pk) if user is not None else "",
        "until": time.time() + CHALLENGE_SECONDS,
    }


def _ceremony_take(request, *, purpose: str, user=None) -> dict:
    """The challenge of this purpose (and user), removed from the session whatever follows."""
    ceremony = request.session.pop(SESSION_KEY, None)
    if (
        not isinstance(ceremony, dict)
        or ceremony.get("purpose") != purpose
        or ceremony.get("until", 0) < time.time()
        or ceremony.get("user") != (str(user.pk) if user is not None else "")
    ):
        raise PasskeyRefused(
            _("This passkey request has expired. Try again."), code="passkey_expired"
        )
    return ceremony["state"]


_SIGN_IN_SALT = "mfa.passkey.sign-in"


def _sign_in_token(request, state: dict) -> str:
    return signing.dumps({"state": state, "rp": rp_id_for(request)}, salt=_SIGN_IN_SALT)


def _sign_in_state(request, token: str) -> dict:
    """The state of a sign-in challenge from its token, once: a second answer is refused."""
    expired = PasskeyRefused(
        _("This passkey request has expired. Try again."), code="passkey_expired"
    )
    try:
        data = signing.loads(token or "", salt=_SIGN_IN_SALT, max_age=CHALLENGE_SECONDS)
    except signing.BadSignature:
        raise expired from None
    if not isinstance(data, dict) or data.get("rp") != rp_id_for(request):
        raise expired
    state = data["state"]
    if not cache.add(f"mfa:passkey-challenge:{state['challenge']}", 1, CHALLENGE_SECONDS):
        raise expired
    return state


def _descriptors(user, device_model=PasskeyDevice) -> list[PublicKeyCredentialDescriptor]:
    return [
        PublicKeyCredentialDescriptor(
            type=PublicKeyCredentialType.PUBLIC_KEY,
            id=websafe_decode(device.credential_id),
            transports=device.transports or None,
        )
        for device in device_model.objects.filter(user=user)
    ]


def _parse(credential) -> dict:
    if isinstance(credential, str):
        try:
            credential = json.loads(credential)
        except ValueError:
            credential = None
    if not isinstance(credential, dict):
        raise _refused()
    return credential


_TRANSPORTS = {"usb", "nfc", "ble", "smart-card", "hybrid", "internal"}


def _transports(credential: dict) -> list[str]:
    # What the browser says the authenticator can be reached by (getTransports()): a hint
    # given back in later requests, so that the browser asks the right device.
    transports = (credential.get("response") or {}).get("transports") or []
    if not isinstance(transports, list):
        return []
    return sorted({item for item in transports if item in _TRANSPORTS})


# Registration --------------------------------------------------------------------------------


def passkey_register_begin(*, request, user) -> dict:
    """The options for navigator.credentials.create(). Raises ValidationError when the policy
    does not allow passkeys, the address is not proven yet or the user has too many."""
    from allauth.account.utils import has_verified_email

    if not passkeys_allowed():
        raise ValidationError(_("Your organization does not allow passkeys."))
    if not has_verified_email(user):
        # As for authenticator apps: no sign-in method on an address nobody proved.
        raise ValidationError(
            _("Confirm your email address first: then you can add a passkey."),
            code="email_not_verified",
        )
    return passkey_register_options(request=request, user=user)


def passkey_register_options(
    *, request, user, device_model=PasskeyDevice, rp_name: str | None = None
) -> dict:
    """The options for navigator.credentials.create() for a new passkey of `user` in
    `device_model` (a tenant's people, or operators). Raises ValidationError when the user
    has as many as one may have."""
    if device_model.objects.filter(user=user).count() >= device_model.MAX_PER_USER:
        raise ValidationError(_("You have as many passkeys as an account can have."))
    options, state = _server(request, rp_name).register_begin(
        user=PublicKeyCredentialUserEntity(
            # The user handle: an opaque id, never the address (it is stored on the device).
            id=user.public_id.bytes,
            name=user.email,
            display_name=user.get_full_name() or user.email,
        ),
        credentials=_descriptors(user, device_model),
        resident_key_requirement=ResidentKeyRequirement.REQUIRED,
        user_verification=UserVerificationRequirement.REQUIRED,
        extensions={"credProps": True},
    )
    _ceremony_keep(request, purpose=Purpose.REGISTER, state=state, user=user)
    return dict(options)


def passkey_register_verify(
    *, request, user, name: str, credential, device_model=PasskeyDevice, rp_name=None
):
    """Check the browser's answer to passkey_register_options and keep the passkey (unsaved
    by anyone else: call inside a transaction). Raises PasskeyRefused."""
    state = _ceremony_take(request, purpose=Purpose.REGISTER, user=user)
    credential = _parse(credential)
    try:
        registration = RegistrationResponse.from_dict(credential)
        auth_data = _server(request, rp_name).register_complete(state, registration)
    except (ValueError, TypeError, KeyError):
        raise _refused() from None
    data = auth_data.credential_data
    credential_id = websafe_encode(data.credential_id)
    name = " ".join((name or "").split())[:NAME_MAX_LENGTH] or _("Passkey")
    if device_model.objects.filter(credential_id=credential_id).exists():
        raise PasskeyRefused(_("This passkey is already registered."), code="duplicate")
    return device_model.objects.create(
        user=user,
        name=name,
        credential_id=credential_id,
        aaguid=uuid.UUID(bytes=bytes(data.aaguid)),
        public_key=cbor.encode(dict(data.public_key)),
        sign_count=auth_data.counter,
        transports=_transports(credential),
        backup_eligible=auth_data.is_backup_eligible(),
    )


def passkey_register_complete(
    *, request, user, name: str, credential
) -> tuple[PasskeyDevice, list[str]]:
    """Check the browser's answer to passkey_register_begin and keep the passkey. Returns it,
    and the new recovery codes (shown once) when it is the person's first second factor and
    the policy allows them, as after a first authenticator app."""
    from mfa.services import first_method_recovery_codes, reregistration_complete

    if not passkeys_allowed():
        _ceremony_take_quietly(request)
        raise ValidationError(_("Your organization does not allow passkeys."))
    with transaction.atomic():
        device = passkey_register_verify(
            request=request, user=user, name=name, credential=credential
        )
        audit_record(actor=user, action="mfa.passkey.add", target=device,
                     target_label=device.name, request=request)  # fmt: skip
        _notice(user=user, change=_("A passkey (%(name)s) was added to your account.") % {
            "name": device.name})  # fmt: skip
        reregistration_complete(user=user, new_device=device, request=request)
        codes = first_method_recovery_codes(user=user, request=request)
    return device, codes


def _ceremony_take_quietly(request) -> None:
    request.session.pop(SESSION_KEY, None)


@transaction.atomic
def passkey_rename(*, request, user, device: PasskeyDevice, name: str) -> PasskeyDevice:
    name = " ".join((name or "").split())[:NAME_MAX_LENGTH]
    if not name:
        raise ValidationError(_("Give the passkey a name."), code="required")
    before = device.name
    device.name = name
    device.save(update_fields=["name"])
    audit_record(actor=user, action="mfa.passkey.rename", target=device, target_label=name,
                 before={"name": before}, after={"name": name}, request=request)  # fmt: skip
    return device


@transaction.atomic
def passkey_remove(*, request, user, device: PasskeyDevice) -> None:
    from mfa.services import recovery_codes_drop_if_alone

    name = device.name
    device.delete()
    recovery_codes_drop_if_alone(user=user)
    audit_record(actor=user, action="mfa.passkey.remove", target_type="mfa.passkeydevice",
                 target_label=name, request=request)  # fmt: skip
    _notice(user=user, change=_("A passkey (%(name)s) was removed from your account.") % {
        "name": name})  # fmt: skip


def _notice(*, user, change: str) -> None:
    from mfa.services import notice_send

    notice_send(user=user, change=change)


# Authentication ------------------------------------------------------------------------------


def passkey_authenticate_begin(
    *, request, purpose: str, user=None, device_model=PasskeyDevice, rp_name=None
) -> dict:
    """The options for navigator.credentials.get(): for a sign-in without a password, any
    passkey of this host with user verification; as a second factor, one of `user`'s (with
    user verification to re-authenticate with the passkey alone)."""
    if purpose == Purpose.SIGN_IN:
        options, state = _server(request, rp_name).authenticate_begin(
            credentials=[], user_verification=UserVerificationRequirement.REQUIRED
        )
        # Given back with the answer (the hidden "ceremony" field): see the module docstring.
        return {**dict(options), "ceremony": _sign_in_token(request, state)}
    verification = (
        UserVerificationRequirement.REQUIRED
        if purpose == Purpose.REAUTHENTICATE
        else UserVerificationRequirement.PREFERRED
    )
    options, state = _server(request, rp_name).authenticate_begin(
        credentials=_descriptors(user, device_model), user_verification=verification
    )
    _ceremony_keep(request, purpose=purpose, state=state, user=user)
    return dict(options)


def passkey_authenticate_complete(
    *,
    request,
    purpose: str,
    credential,
    user=None,
    ceremony: str = "",
    device_model=PasskeyDevice,
    rp_name=None,
):
    """Check the browser's answer to passkey_authenticate_begin; returns (device, verified)
    where `verified` says the authenticator verified the person (PIN, biometrics). Raises
    PasskeyRefused (an unknown passkey, another user's, a bad signature, a counter that went
    back, an expired or reused challenge). A sign-in's challenge comes back as `ceremony`."""
    if purpose == Purpose.SIGN_IN:
        state = _sign_in_state(request, ceremony)
    else:
        state = _ceremony_take(request, purpose=purpose, user=user)
    credential = _parse(credential)
    try:
        response = AuthenticationResponse.from_dict(credential)
    except (ValueError, TypeError, KeyError):
        raise _refused() from None
    devices = device_model.objects.select_related("user").filter(
        credential_id=websafe_encode(response.raw_id)
    )
    if user is not None:
        devices = devices.filter(user=user)
    with transaction.atomic():
        device = devices.select_for_update(of=("self",)).first()
        if device is None:
            raise _refused()
        handle = response.response.user_handle
        if handle is not None and handle != device.user.public_id.bytes:
            raise _refused()
        stored = AttestedCredentialData.create(
            device.aaguid.bytes if device.aaguid else bytes(16),
            websafe_decode(device.credential_id),
            CoseKey.parse(cbor.decode(bytes(device.public_key))),
        )
        try:
            _server(request, rp_name).authenticate_complete(state, [stored], response)
        except (ValueError, TypeError):
            raise _refused() from None
        auth_data = response.response.authenticator_data
        if purpose == Purpose.REAUTHENTICATE and not auth_data.is_user_verified():
            raise _refused()
        counter = auth_data.counter
        if (counter or device.sign_count) and counter <= device.sign_count:
            raise _refused()
        device.sign_count = counter
        device.last_used_at = timezone.now()
        device.save(update_fields=["sign_count", "last_used_at"])
    return device, auth_data.is_user_verified()


def passkey_amr(device: PasskeyDevice) -> list[str]:
    """RFC 8176 words for a passkey sign-in with user verification: a synced passkey is a
    software-secured key, a device-bound one a hardware-secured key; both are MFA."""
    return ["swk" if device.backup_eligible else "hwk", "user", "mfa"]
