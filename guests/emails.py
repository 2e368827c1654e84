"""The emails guests and sponsors receive, built from an outbox row at send time.

Registered with emails.registry by GuestsConfig.ready(), one builder per kind."""

from __future__ import annotations

from django.db import connection
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy as _

from ciam.locale import tenant_default_language
from emails.models import OutboxEmail
from emails.registry import Content, builder_register, content_render


def builders_register() -> None:
    builder_register(OutboxEmail.Kind.INVITATION, invitation_content)
    builder_register(OutboxEmail.Kind.INVITATION_COPY, invitation_copy_content)
    builder_register(OutboxEmail.Kind.REDEMPTION_CODE, redemption_code_content)
    builder_register(OutboxEmail.Kind.SPONSOR_REMINDER, sponsor_reminder_content)


def _invitation_context(outbox: OutboxEmail) -> dict:
    invitation = outbox.invitation
    return {
        "tenant_name": connection.tenant.name,
        "invitation": invitation,
        "inviter": _inviter_name(invitation),
    }


def invitation_content(outbox: OutboxEmail, *, base_url: str) -> Content | None:
    if "token" not in outbox.payload:
        return None
    context = _invitation_context(outbox)
    context["redeem_url"] = f"{base_url}/invite/{outbox.payload['token']}/"
    return content_render(
        template="guests/email/invitation",
        subject=_("%(tenant)s invited you to access applications within their organization"),
        subject_values={"tenant": context["tenant_name"]},
        context=context,
        language=outbox.invitation.language,
    )


def invitation_copy_content(outbox: OutboxEmail, *, base_url: str) -> Content:
    # Never the link: only the invited address may redeem the invitation.
    context = _invitation_context(outbox)
    return content_render(
        template="guests/email/invitation_copy",
        subject=_("%(tenant)s invited %(email)s to access applications within their organization"),
        subject_values={"tenant": context["tenant_name"], "email": outbox.invitation.email},
        context=context,
        language=outbox.invitation.language,
    )


def redemption_code_content(outbox: OutboxEmail, *, base_url: str) -> Content | None:
    if "code" not in outbox.payload:
        return None
    context = _invitation_context(outbox)
    context["code"] = outbox.payload["code"]
    context["expires_at"] = parse_datetime(outbox.payload["expires_at"])
    return content_render(
        template="guests/email/redemption_code",
        subject=_("Your code to join %(tenant)s"),
        subject_values={"tenant": context["tenant_name"]},
        context=context,
        language=outbox.invitation.language,
    )


def sponsor_reminder_content(outbox: OutboxEmail, *, base_url: str) -> Content:
    payload = outbox.payload
    tenant_name = connection.tenant.name
    context = {
        "tenant_name": tenant_name,
        "guest_email": payload["guest_email"],
        "access_expires_at": parse_datetime(payload["access_expires_at"]),
        "guest_url": f"{base_url}/invite/guests/{payload['guest_public_id']}/renew/",
    }
    return content_render(
        template="guests/email/sponsor_reminder",
        subject=_("Guest access to %(tenant)s ends soon: %(guest)s"),
        subject_values={"tenant": tenant_name, "guest": payload["guest_email"]},
        context=context,
        language=payload.get("language") or tenant_default_language(connection.tenant),
    )


def _inviter_name(invitation) -> str:
    """Who sent the invitation, as the invitee knows them: a person's name and address, or
    the name of the app or API key that called the API."""
    person = invitation.invited_by
    if person is None:
        return invitation.invited_by_label
    if person.display_name:
        return f"{person.display_name} ({person.email})"
    return person.email
