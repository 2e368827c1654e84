from __future__ import annotations

from accounts.models import SignInEvent, User
from audit.services import client_ip


def sign_in_record(
    *,
    request=None,
    user: User | None = None,
    email: str = "",
    method: str,
    result: str,
    failure_reason: str = "",
    app_id: str = "",
    app_name: str = "",
    grant: str = "",
    mfa_used: bool = False,
) -> SignInEvent:
    """Write one sign-in log row. Never pass a password, code, token or secret here."""
    meta = request.META if request is not None else {}
    return SignInEvent.objects.create(
        user=user,
        email_typed=(email or getattr(user, "email", ""))[:254],
        ip_address=client_ip(request) if request is not None else None,
        user_agent=meta.get("HTTP_USER_AGENT", "")[:512],
        method=method,
        result=result,
        failure_reason=failure_reason[:120],
        app_id=app_id[:100],
        app_name=app_name[:255],
        grant=grant,
        mfa_used=mfa_used,
        request_id=getattr(request, "request_id", "") if request is not None else "",
    )
