"""One look for every email: each message extends emails/base.html and emails/base.txt, and
every account email has a text part of its own (not allauth's default wording)."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from django.conf import settings
from django.template.loader import get_template, render_to_string
from django.utils import timezone
from django_tenants.utils import tenant_context

from emails.models import OutboxEmail
from emails.services import message_build
from guests import services
from tests.helpers import unique_email

ACCOUNT_EMAILS = [
    "account_already_exists",
    "email_changed",
    "email_confirm",
    "email_confirmation",
    "email_confirmation_signup",
    "email_deleted",
    "login_code",
    "password_changed",
    "password_reset",
    "password_reset_key",
    "password_set",
    "unknown_account",
]
PROJECT_TEMPLATES = Path(settings.BASE_DIR) / "templates"


@pytest.mark.parametrize("name", ACCOUNT_EMAILS)
def test_every_account_email_has_its_own_text_and_html_in_the_common_look(name):
    context = {
        "tenant_name": "Acme Corporation",
        "email": "pat@example.com",
        "from_email": "old@example.com",
        "to_email": "new@example.com",
        "deleted_email": "old@example.com",
        "ip": "192.0.2.1",
        "user_agent": "Mozilla/5.0 (X11; Linux x86_64) Firefox/130.0",
        "timestamp": timezone.now(),
        "code": "123456",
        "activate_url": "http://acme.localhost/confirm/",
        "password_reset_url": "http://acme.localhost/reset/",
        "signup_url": "http://acme.localhost/signup/",
    }
    for extension in ("txt", "html"):
        template = f"account/email/{name}_message.{extension}"
        assert Path(get_template(template).origin.name).is_relative_to(PROJECT_TEMPLATES)
        rendered = render_to_string(template, context)
        assert "The Acme Corporation team" in rendered, rendered
    text = render_to_string(f"account/email/{name}_message.txt", context)
    assert "{{" not in text and "&lt;" not in text


def test_every_guest_email_is_in_the_common_look(acme):
    with tenant_context(acme.tenant):
        invitation = services.invitation_create(
            invited_by=acme.admin,
            email=unique_email(),
            redirect_url="https://app.acme.example/",
            cc_recipients=[unique_email()],
        )
        services.redemption_code_send(invitation=invitation)
        rows = OutboxEmail.objects.filter(invitation=invitation)
        kinds = {row.kind for row in rows}
        messages = [message_build(row) for row in rows]
        reminder = OutboxEmail(
            kind="sponsor_reminder",
            to=acme.admin.email,
            payload={
                "guest_email": invitation.email,
                "guest_public_id": str(uuid.uuid4()),
                "access_expires_at": timezone.now().isoformat(),
            },
        )
        messages.append(message_build(reminder))
    assert kinds == {"invitation", "invitation_copy", "redemption_code"}
    for message in messages:
        html = message.alternatives[0][0]
        assert "The Acme Corporation team" in message.body
        assert "The Acme Corporation team" in html and 'style="max-width:560px' in html
