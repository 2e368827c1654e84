from __future__ import annotations

from base64 import b32encode
from dataclasses import dataclass
from urllib.parse import quote, urlencode

import segno
from django.db import connection

from ciam.process_cache import ProcessCache
from mfa.models import MfaPolicy, PasskeyDevice, RecoveryCodeDevice, ReRegistration, TOTPDevice

# What every sign-in asks of the tenant, per schema, kept by each process until the policy
# changes or someone's first authenticator app is confirmed (mfa.apps wires the invalidation):
# a tenant where nobody uses MFA pays no query for it at sign-in. Kept when read inside a
# transaction too: what a rolled-back change could leave here only costs a query.
_tenant_facts = ProcessCache("mfa:tenant-generation")


def mfa_policy_get() -> MfaPolicy:
    """The tenant's MFA policy; the default one (optional, every method) until an admin saves."""
    return MfaPolicy.objects.filter(pk=1).first() or MfaPolicy()


@dataclass(frozen=True)
class TenantMfa:
    policy: MfaPolicy  # shared by requests: read-only
    any_authenticator: bool
    any_passkey: bool = False
    any_reregistration: bool = False  # someone must register their second factors again


def tenant_mfa() -> TenantMfa:
    schema = connection.schema_name
    facts = _tenant_facts.get(schema)
    if facts is None:
        facts = _tenant_facts_read()
        _tenant_facts.set(schema, facts)
    return facts


def _tenant_facts_read() -> TenantMfa:
    # One statement: the policy row (if saved) and whether anyone has an authenticator app
    # or a passkey.
    fields = [field.column for field in MfaPolicy._meta.concrete_fields]
    policy_table = connection.ops.quote_name(MfaPolicy._meta.db_table)
    device_table = connection.ops.quote_name(TOTPDevice._meta.db_table)
    passkey_table = connection.ops.quote_name(PasskeyDevice._meta.db_table)
    again_table = connection.ops.quote_name(ReRegistration._meta.db_table)
    columns = ", ".join(f"policy.{connection.ops.quote_name(column)}" for column in fields)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT EXISTS (SELECT 1 FROM {device_table} WHERE confirmed), "
            f"EXISTS (SELECT 1 FROM {passkey_table}), EXISTS (SELECT 1 FROM {again_table}), "
            f"{columns} "
            f"FROM (SELECT 1) AS one LEFT JOIN {policy_table} AS policy ON policy.id = 1"
        )
        any_authenticator, any_passkey, any_again, *values = cursor.fetchone()
    policy = MfaPolicy(**dict(zip(fields, values, strict=True))) if values[0] else MfaPolicy()
    return TenantMfa(
        policy=policy,
        any_authenticator=any_authenticator,
        any_passkey=any_passkey,
        any_reregistration=any_again,
    )


def tenant_mfa_invalidate() -> None:
    _tenant_facts.invalidate()


@dataclass(frozen=True)
class SecurityInfo:
    totp: TOTPDevice | None
    recovery: RecoveryCodeDevice | None
    recovery_remaining: int
    passkeys: tuple[PasskeyDevice, ...] = ()
    reregistration: ReRegistration | None = None

    @property
    def has_second_factor(self) -> bool:
        return self.totp is not None or bool(self.passkeys)

    @property
    def recovery_few_left(self) -> bool:
        return self.recovery is not None and self.recovery_remaining <= RecoveryCodeDevice.FEW_LEFT


def security_info(user) -> SecurityInfo:
    totp = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    recovery = RecoveryCodeDevice.objects.filter(user=user).first()
    remaining = recovery.remaining if recovery is not None else 0
    return SecurityInfo(
        totp=totp,
        recovery=recovery,
        recovery_remaining=remaining,
        passkeys=tuple(PasskeyDevice.objects.filter(user=user)),
        reregistration=ReRegistration.objects.filter(user=user).first(),
    )


def session_mfa_at(request) -> float | None:
    """When this browser session last proved a second factor (its sign-in or a step-up),
    from allauth's authentication records; None if it never did."""
    from allauth.account.authentication import get_authentication_records

    moments = [
        record.get("at")
        for record in get_authentication_records(request, request.user)
        if record.get("method") == "mfa"
    ]
    moments = [moment for moment in moments if isinstance(moment, int | float)]
    return max(moments) if moments else None


def session_mfa_recent(request, seconds: int | None = None) -> bool:
    """Whether this session proved a second factor within `seconds` (default: allauth's
    re-authentication timeout, the "recent" of a sensitive change)."""
    import time

    from allauth.account import app_settings

    moment = session_mfa_at(request)
    limit = app_settings.REAUTHENTICATION_TIMEOUT if seconds is None else seconds
    return moment is not None and time.time() - moment < limit


def has_second_factor(user) -> bool:
    """Whether a sign-in of `user` asks for a second factor (the MFA stage's test): the
    policy is not off and allows a method the user has set up."""
    facts = tenant_mfa()
    policy = facts.policy
    if policy.is_off:
        return False
    if reregistration_pending(user, facts):
        return False  # the methods they have do not count until they register a new one
    if policy.totp_allowed and facts.any_authenticator and has_confirmed_totp(user):
        return True
    return bool(policy.passkey_allowed and facts.any_passkey and has_passkey(user))


def reregistration_pending(user, facts: TenantMfa | None = None) -> bool:
    """Whether an administrator asked `user` to register their second factors again (no query
    while nobody in the tenant was asked)."""
    if not (facts or tenant_mfa()).any_reregistration:
        return False
    return ReRegistration.objects.filter(user=user).exists()


def user_second_factors(user) -> frozenset[str]:
    """Which second factors `user` has set up and may use, of the authenticator app, passkeys
    and recovery codes (Method values), in one statement. None while an administrator
    requires them to register again."""
    present, again = user_factors_set_up(user)
    return frozenset() if again else present


def user_factors_set_up(user) -> tuple[frozenset[str], bool]:
    """Which of the authenticator app, passkeys and recovery codes `user` has set up (Method
    values), and whether an administrator asked them to register again: one statement."""
    from mfa.models import Method

    with connection.cursor() as cursor:
        cursor.execute(_user_second_factors_sql(), [user.pk, user.pk, user.pk, user.pk])
        totp, passkey, recovery, again = cursor.fetchone()
    kinds = ((Method.TOTP, totp), (Method.PASSKEY, passkey), (Method.RECOVERY_CODE, recovery))
    return frozenset(kind for kind, present in kinds if present), bool(again)


def _user_second_factors_sql() -> str:
    quote = connection.ops.quote_name
    totp = quote(TOTPDevice._meta.db_table)
    passkey = quote(PasskeyDevice._meta.db_table)
    recovery = quote(RecoveryCodeDevice._meta.db_table)
    again = quote(ReRegistration._meta.db_table)
    return (
        f"SELECT EXISTS (SELECT 1 FROM {totp} WHERE user_id = %s AND confirmed), "
        f"EXISTS (SELECT 1 FROM {passkey} WHERE user_id = %s), "
        f"EXISTS (SELECT 1 FROM {recovery} WHERE user_id = %s), "
        f"EXISTS (SELECT 1 FROM {again} WHERE user_id = %s)"
    )


def has_confirmed_totp(user) -> bool:
    # Written out, as user_second_factors: the MFA stage asks at every sign-in of a tenant
    # with authenticator apps, and the ORM's query building cost more than the query.
    return _exists(TOTPDevice, "user_id = %s AND confirmed", user.pk)


def has_passkey(user) -> bool:
    return _exists(PasskeyDevice, "user_id = %s", user.pk)


def _exists(model, condition: str, value) -> bool:
    table = connection.ops.quote_name(model._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT EXISTS (SELECT 1 FROM {table} WHERE {condition})", [value])
        return cursor.fetchone()[0]


def totp_config_url(device: TOTPDevice, *, issuer: str, label: str) -> str:
    """The otpauth:// URL an authenticator app reads from the QR code (Key URI format)."""
    issuer = issuer.replace(":", "")
    params = urlencode(
        {
            "secret": totp_secret_text(device).replace(" ", ""),
            "algorithm": "SHA1",
            "digits": device.DIGITS,
            "period": device.STEP,
        }
    )
    return f"otpauth://totp/{quote(f'{issuer}:{label}')}?{params}&issuer={quote(issuer)}"


def totp_secret_text(device: TOTPDevice) -> str:
    """The secret as people type it into an app: base32 in groups of four."""
    text = b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(text[i : i + 4] for i in range(0, len(text), 4))


def qr_svg(text: str, *, title: str) -> str:
    """A QR code as inline SVG (segno; no image request, nothing leaves the server)."""
    return segno.make(text, error="m").svg_inline(
        scale=5, title=title, svgclass="mfa-qr", dark="#000", light="#fff"
    )
