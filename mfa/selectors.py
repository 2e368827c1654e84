from __future__ import annotations

from base64 import b32encode
from dataclasses import dataclass
from urllib.parse import quote, urlencode

import segno

from mfa.models import MfaPolicy, RecoveryCodeDevice, TOTPDevice


def mfa_policy_get() -> MfaPolicy:
    """The tenant's MFA policy; the default one (optional, every method) until an admin saves."""
    return MfaPolicy.objects.filter(pk=1).first() or MfaPolicy()


@dataclass(frozen=True)
class SecurityInfo:
    totp: TOTPDevice | None
    recovery: RecoveryCodeDevice | None
    recovery_remaining: int

    @property
    def has_second_factor(self) -> bool:
        return self.totp is not None

    @property
    def recovery_few_left(self) -> bool:
        return self.recovery is not None and self.recovery_remaining <= RecoveryCodeDevice.FEW_LEFT


def security_info(user) -> SecurityInfo:
    totp = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    recovery = RecoveryCodeDevice.objects.filter(user=user).first()
    remaining = recovery.remaining if recovery is not None else 0
    return SecurityInfo(totp=totp, recovery=recovery, recovery_remaining=remaining)


def has_confirmed_totp(user) -> bool:
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


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
