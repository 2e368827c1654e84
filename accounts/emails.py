"""The account emails allauth asks for (verification, sign-in code, reset, notices).

They are rendered in the request, where allauth's context and the user's language are
(accounts.sign_in.adapter.AccountAdapter.send_mail), and kept in the outbox row until sent."""

from __future__ import annotations

from emails.models import OutboxEmail
from emails.registry import Content, builder_register


def builders_register() -> None:
    builder_register(OutboxEmail.Kind.ACCOUNT, account_content)


def account_content(outbox: OutboxEmail, *, base_url: str) -> Content | None:
    payload = outbox.payload
    if "text" not in payload:
        return None  # sent or failed: the code or link was wiped
    return Content(
        subject=payload["subject"],
        text=payload["text"],
        html=payload.get("html") or "",
        from_email=payload.get("from_email") or "",
    )
