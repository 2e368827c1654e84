"""Emails in the tenant's look: its logo and colours in email-safe HTML, with a text part."""

from __future__ import annotations

import pytest
from django_tenants.utils import tenant_context

from emails.models import OutboxEmail
from emails.services import message_build
from guests import services as guest_services
from tests.branding.helpers import image_bytes, publish, save_draft, upload_image
from tests.helpers import make_user, tenant_client, unique_email


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)


def invitation_message(world):
    with tenant_context(world.tenant):
        invitation = guest_services.invitation_create(
            invited_by=world.admin,
            email=unique_email(),
            redirect_url="https://app.acme.example/",
        )
        row = OutboxEmail.objects.get(invitation=invitation, kind="invitation")
        return message_build(row)


def test_invitation_and_account_emails_carry_the_published_logo_and_colours(acme, globex):
    plain = invitation_message(acme).alternatives[0][0]
    assert "#7a1f5c" not in plain and "/branding/logo/" not in plain

    save_draft(acme, primary_color="#7a1f5c", background_color="#fdf6e3")
    upload_image(acme, "logo", image_bytes(size=(240, 40)))
    publish(acme)

    message = invitation_message(acme)
    html = message.alternatives[0][0]
    assert "background:#7a1f5c;color:#ffffff" in html  # the button
    assert "background:#fdf6e3" in html
    # The logo by an absolute URL on the tenant's primary domain, with the tenant as its alt.
    assert 'src="http://acme.localhost' in html and "/branding/logo/logo-" in html
    assert f'alt="{acme.tenant.name}"' in html
    assert "<style" not in html and "<script" not in html
    # The text part stays plain text.
    assert "http" in message.body and "<" not in message.body.replace("<http", "")

    # An account email (a password reset link) of the same tenant.
    person = make_user(acme)
    tenant_client(acme).post("/accounts/password/reset/", {"email": person.email})
    with tenant_context(acme.tenant):
        row = OutboxEmail.objects.filter(to=person.email).latest("pk")
        account = message_build(row)
    assert "/branding/logo/logo-" in account.alternatives[0][0]
    assert "background:#7a1f5c" in account.alternatives[0][0]
    assert "/branding/" not in account.body

    # Another tenant's emails keep the default look.
    other = invitation_message(globex).alternatives[0][0]
    assert "#7a1f5c" not in other and "/branding/logo/" not in other
