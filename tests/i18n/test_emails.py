"""Emails speak their reader's language: an invitation its messageLanguage (Graph), account
emails the user's saved language. Delivered by the real Celery worker to the SMTP sink."""

from __future__ import annotations

import json

import pytest
from django.utils import formats, translation
from django_tenants.utils import tenant_context

from guests import services
from guests.models import Invitation
from tests.helpers import emails_to, make_user, tenant_client, unique_email
from tests.mail import body_text

pytestmark = [pytest.mark.server]


def api_invite(world, body) -> dict:
    with tenant_context(world.tenant):
        _key, secret = services.api_key_create(actor=world.admin, name="Language test")
    response = world.client().post(
        "/api/v1/invitations",
        data=json.dumps(body),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {secret}",
    )
    assert response.status_code == 201, response.content
    return response.json()


def test_the_invitation_email_is_in_the_message_language_of_the_api_call(
    acme_committed, celery_worker_process, mailbox
):
    email = unique_email()
    body = api_invite(
        acme_committed,
        {
            "invitedUserEmailAddress": email,
            "inviteRedirectUrl": "https://app.example/",
            "sendInvitationMessage": True,
            "invitedUserMessageInfo": {"messageLanguage": "fr-FR"},
        },
    )
    assert body["invitedUserMessageInfo"]["messageLanguage"] == "fr"
    (message,) = mailbox.wait_for(email)
    assert message["Subject"].strip() == (
        "Acme Corporation vous a invité à accéder aux applications de son organisation"
    )
    text = body_text(message)
    assert "Accepter l'invitation :" in text
    assert "Si vous n'attendiez pas cette invitation, ignorez cet e-mail." in text
    # The expiry date in French: day, French month name, year.
    with tenant_context(acme_committed.tenant):
        expires_at = Invitation.objects.get(public_id=body["id"]).expires_at
    with translation.override("fr"):
        assert formats.date_format(expires_at, "j F Y") in text


def test_an_invitation_in_arabic_and_one_in_a_language_we_do_not_ship(
    acme_committed, celery_worker_process, mailbox
):
    arabic, unknown = unique_email(), unique_email()
    for email, language in ((arabic, "ar-EG"), (unknown, "tlh")):
        api_invite(
            acme_committed,
            {
                "invitedUserEmailAddress": email,
                "inviteRedirectUrl": "https://app.example/",
                "sendInvitationMessage": True,
                "invitedUserMessageInfo": {"messageLanguage": language},
            },
        )
    (message,) = mailbox.wait_for(arabic)
    html = message.get_body(preferencelist=("html",)).get_content()
    assert 'dir="rtl"' in html and 'lang="ar"' in html
    assert "قبول الدعوة" in body_text(message)
    # Klingon is not shipped: the tenant's default language (English here).
    (message,) = mailbox.wait_for(unknown)
    assert message["Subject"].strip().startswith("Acme Corporation invited you")


def test_account_emails_use_the_users_saved_language(acme):
    german = make_user(acme, language="de")
    english_page = {"HTTP_ACCEPT_LANGUAGE": "en"}
    tenant_client(acme).post("/accounts/password/reset/", {"email": german.email}, **english_page)
    (text,) = emails_to(acme, german.email)
    assert "Wählen Sie ein neues Passwort" in text or "neues Passwort" in text

    # Without a saved language: the language of the page that asked for it.
    someone = make_user(acme)
    tenant_client(acme).post(
        "/accounts/password/reset/", {"email": someone.email}, HTTP_ACCEPT_LANGUAGE="es"
    )
    (text,) = emails_to(acme, someone.email)
    assert "contraseña" in text


def test_an_admin_chooses_the_invitation_emails_language_in_the_console(acme):
    from emails.models import OutboxEmail
    from emails.services import message_build

    email = unique_email()
    admin = acme.client(acme.admin)
    form = admin.get("/console/guests/invite/").content.decode()
    assert '<option value="en" selected>English</option>' in form
    response = admin.post(
        "/console/guests/invite/",
        {
            "email": email,
            "redirect_url": "https://app.example/",
            "user_type": "guest",
            "send_email": "on",
            "language": "de",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    with tenant_context(acme.tenant):
        message = message_build(OutboxEmail.objects.get(to=email, kind="invitation"))
    assert message.subject == (
        "Acme Corporation hat Sie eingeladen, auf Anwendungen der Organisation zuzugreifen"
    )
    assert "Einladung annehmen:" in message.body
