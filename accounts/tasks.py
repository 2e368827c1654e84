from __future__ import annotations

import smtplib

from django.core.mail import EmailMultiAlternatives

from ciam.celery import app


@app.task(
    autoretry_for=(smtplib.SMTPServerDisconnected, smtplib.SMTPConnectError, ConnectionError),
    retry_backoff=True,
    max_retries=5,
)
def email_deliver(*, to: list[str], subject: str, text: str, html: str, from_email: str) -> None:
    """Send one account email (verification, code, reset, notice) rendered by the request
    that queued it; runs in that request's tenant schema. Returns nothing so that no code or
    link ends up in a result or a log line."""
    message = EmailMultiAlternatives(subject, text, from_email, to)
    message.attach_alternative(html, "text/html")
    message.send()
