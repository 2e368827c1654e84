"""The emails guests and sponsors receive, built from an outbox row at send time."""

from __future__ import annotations

import re

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import connection
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy as _

from guests.models import OutboxEmail
from tenants.selectors import tenant_url

# Line breaks of any kind and other control characters: in a header value they would start a
# new header (Django refuses CR and LF with BadHeaderError; mail clients split on the others).
_HEADER_BREAKS = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")


def header_value(text: str) -> str:
    """`text` (a tenant name, an app or key name, an address...) made safe for one header line:
    line breaks and control characters become spaces, and runs of spaces one."""
    return " ".join(_HEADER_BREAKS.sub(" ", text).split())


def build_message(
    outbox: OutboxEmail, connection_=None, base_url: str | None = None
) -> EmailMultiAlternatives | None:
    """The message for `outbox`, or None when what it needs is gone (its secret was wiped).

    `base_url` is the tenant's primary-domain origin; a task sending many messages looks it up
    once."""
    if outbox.kind == OutboxEmail.Kind.ACCOUNT:
        return _prerendered_message(outbox, connection_)
    tenant = connection.tenant
    base_url = base_url or tenant_url(tenant, "")
    invitation = outbox.invitation
    context = {"tenant_name": tenant.name, "invitation": invitation}
    language = invitation.language if invitation is not None else settings.LANGUAGE_CODE
    if invitation is not None:
        context["inviter"] = _inviter_name(invitation)
    if outbox.kind == OutboxEmail.Kind.INVITATION:
        if "token" not in outbox.payload:
            return None
        context["redeem_url"] = f"{base_url}/invite/{outbox.payload['token']}/"
        template = "guests/email/invitation"
        subject_text = _("%(tenant)s invited you to access applications within their organization")
        subject_values = {"tenant": tenant.name}
    elif outbox.kind == OutboxEmail.Kind.INVITATION_COPY:
        # Never the link: only the invited address may redeem the invitation.
        template = "guests/email/invitation_copy"
        subject_text = _(
            "%(tenant)s invited %(email)s to access applications within their organization"
        )
        subject_values = {"tenant": tenant.name, "email": invitation.email}
    elif outbox.kind == OutboxEmail.Kind.REDEMPTION_CODE:
        if "code" not in outbox.payload:
            return None
        context["code"] = outbox.payload["code"]
        context["expires_at"] = parse_datetime(outbox.payload["expires_at"])
        template = "guests/email/redemption_code"
        subject_text = _("Your code to join %(tenant)s")
        subject_values = {"tenant": tenant.name}
    else:
        context["guest_email"] = outbox.payload["guest_email"]
        context["access_expires_at"] = parse_datetime(outbox.payload["access_expires_at"])
        context["guest_url"] = (
            f"{base_url}/invite/guests/{outbox.payload['guest_public_id']}/renew/"
        )
        template = "guests/email/sponsor_reminder"
        subject_text = _("Guest access to %(tenant)s ends soon: %(guest)s")
        subject_values = {"tenant": tenant.name, "guest": outbox.payload["guest_email"]}
    with translation.override(language):
        subject = str(subject_text) % subject_values
        text = render_to_string(f"{template}.txt", context)
        html = render_to_string(f"{template}.html", context)
    message = EmailMultiAlternatives(
        subject=header_value(subject),
        body=text,
        to=[outbox.to],
        headers={"Message-ID": outbox.message_id},
        connection=connection_,
    )
    message.attach_alternative(html, "text/html")
    return message


def _inviter_name(invitation) -> str:
    """Who sent the invitation, as the invitee knows them: a person's name and address, or
    the name of the app or API key that called the API."""
    person = invitation.invited_by
    if person is None:
        return invitation.invited_by_label
    if person.display_name:
        return f"{person.display_name} ({person.email})"
    return person.email


def _prerendered_message(outbox: OutboxEmail, connection_) -> EmailMultiAlternatives | None:
    payload = outbox.payload
    if "text" not in payload:
        return None
    message = EmailMultiAlternatives(
        subject=header_value(payload["subject"]),
        body=payload["text"],
        from_email=header_value(payload.get("from_email") or "") or None,
        to=[outbox.to],
        headers={"Message-ID": outbox.message_id},
        connection=connection_,
    )
    if payload.get("html"):
        message.attach_alternative(payload["html"], "text/html")
    return message
