"""What the MFA login stage (mfa.stages) leaves for the end of the sign-in. Apart from the
stage module: allauth's stage machinery cannot be imported while apps load."""

from __future__ import annotations

# The stage's key in allauth's login state.
KEY = "ciam_mfa"


def mfa_sign_in_complete(sender, request, user, **kwargs) -> None:
    """Django's user_logged_in: when this sign-in passed the MFA stage, the session is marked
    verified for django-otp and the request carries the method for the sign-in log."""
    from django_otp import login as otp_login
    from django_otp.models import Device

    verified = getattr(request, "mfa_verified", None)
    if verified is None:
        stage = getattr(request, "mfa_stage", None)  # mfa.views.mfa_stage_required
        data = stage.login.state.get("stages", {}).get(KEY, {}).get("data", {}) if stage else {}
        verified = data.get("verified")
    if not verified or verified.get("user") != str(user.pk):
        return
    device = getattr(request, "mfa_device", None)  # the device the code page just checked
    if device is None or device.persistent_id != verified["device"]:
        device = Device.from_persistent_id(verified["device"])
    if device is not None:
        otp_login(request, device)
    request.mfa_method = verified["method"]


def passkey_first_factor(request, user) -> dict | None:
    """When this sign-in began with a passkey whose authenticator verified the person
    (mfa.passkey_views.sign_in records it), the verified marker for mfa_sign_in_complete."""
    from allauth.account.authentication import get_authentication_records

    records = [r for r in get_authentication_records(request, user) if r["method"] != "mfa"]
    if not records or records[-1]["method"] != "passkey" or not records[-1].get("user_verified"):
        return None
    return {"method": "passkey", "device": records[-1]["device"], "user": str(user.pk)}
