"""End-user journeys whose emails matter: the real Celery worker delivers them to the real SMTP
sink, so the data is committed (unique emails; nothing here is rolled back)."""

from __future__ import annotations

import re
import uuid
from urllib.parse import urlsplit

import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django_tenants.utils import tenant_context

from accounts.sign_in import lockout
from tests.helpers import eventually, link_in, sign_in, tenant_client, unique_email
from tests.mail import body_html, body_text

pytestmark = [pytest.mark.server]

NEW_PASSWORD = "a brand new passphrase for today"


@pytest.fixture
def acme_live(worlds, committed, celery_worker_process, mailbox):
    return worlds["acme"]


def sign_up(client, email, password=NEW_PASSWORD, **extra):
    return client.post(
        "/accounts/signup/",
        {"email": email, "password1": password, "attr_givenName": "Ada", **extra},
    )


def test_sign_up_verify_from_the_email_then_sign_in_and_out(acme_live, mailbox):
    email = unique_email("signup")
    client = tenant_client(acme_live)
    response = sign_up(client, email)
    assert response.status_code == 302
    assert response["Location"] == "/accounts/confirm-email/"
    assert "Check your email" in client.get(response["Location"]).content.decode()

    (message,) = mailbox.wait_for(email)
    text, html = body_text(message), body_html(message)
    link = link_in(text)
    assert urlsplit(link).netloc == acme_live.host
    assert link in html and "Acme Corporation" in message["Subject"]

    confirm_page = client.get(urlsplit(link).path)
    assert confirm_page.status_code == 200
    confirmed = client.post(urlsplit(link).path)
    assert confirmed.status_code == 302
    assert client.get("/account/").status_code == 200  # signed in by the confirmation
    with tenant_context(acme_live.tenant):
        user = get_user_model().objects.get(email=email)
        assert user.first_name == "Ada" and user.attributes["givenName"] == "Ada"
        assert user.emailaddress_set.get().verified

    client.post("/accounts/logout/")
    assert client.get("/account/").status_code == 302
    assert sign_in(client, email, NEW_PASSWORD)["Location"] == "/account/"


def test_signing_up_with_a_registered_email_looks_the_same_and_tells_the_owner(acme_live, mailbox):
    email = unique_email("taken")
    first = sign_up(tenant_client(acme_live), email)
    mailbox.wait_for(email)
    again = sign_up(tenant_client(acme_live), email, password="another long passphrase")
    assert first.status_code == again.status_code == 302
    assert first["Location"] == again["Location"] == "/accounts/confirm-email/"
    _, notice = mailbox.wait_for(email, count=2)
    assert "already exists" in body_text(notice)
    assert urlsplit(link_in(body_text(notice))).netloc == acme_live.host
    with tenant_context(acme_live.tenant):
        assert get_user_model().objects.filter(email__iexact=email).count() == 1


def test_sign_in_with_an_emailed_code(acme_live, mailbox):
    email = unique_email("code")
    with tenant_context(acme_live.tenant):
        get_user_model().objects.create_user(email=email, password=None)
    client = tenant_client(acme_live)
    response = client.post("/accounts/login/code/", {"email": email})
    assert response["Location"] == "/accounts/login/code/confirm/"
    (message,) = mailbox.wait_for(email)
    code = re.search(r"\b(\d{6})\b", body_text(message)).group(1)
    assert code in body_html(message)
    wrong = client.post("/accounts/login/code/confirm/", {"code": "000000"})
    assert wrong.status_code == 200 and "Incorrect code" in wrong.content.decode()
    response = client.post("/accounts/login/code/confirm/", {"code": code})
    assert response["Location"] == "/account/"
    with tenant_context(acme_live.tenant):
        from audit.models import SignInEvent

        results = set(
            SignInEvent.objects.filter(email_typed=email).values_list(
                "method", "result", "failure_reason"
            )
        )
    assert ("email_code", "success", "") in results


def test_asking_a_code_for_an_unknown_email_looks_the_same(acme_live, mailbox):
    email = unique_email("nocode")
    response = tenant_client(acme_live).post("/accounts/login/code/", {"email": email})
    assert response["Location"] == "/accounts/login/code/confirm/"
    (message,) = mailbox.wait_for(email)
    assert "there is no account" in body_text(message)


def test_forgot_password_link_uses_the_primary_domain_and_clears_the_lock(acme_live, mailbox):
    from tenants.models import Domain
    from tenants.routing import routing_invalidate

    email = unique_email("forgot")
    with tenant_context(acme_live.tenant):
        get_user_model().objects.create_user(email=email, password="the old passphrase here")
    for number in range(10):
        sign_in(tenant_client(acme_live), email, f"bad guess {number}")
    with tenant_context(acme_live.tenant):
        assert lockout.lockout_failure_count(email=email) == 10
    alias = Domain.objects.create(
        domain=f"alias-{uuid.uuid4().hex[:8]}.example.net",
        tenant=acme_live.tenant,
        is_primary=False,
        is_verified=True,
    )
    routing_invalidate()
    try:
        client = tenant_client(acme_live)
        client.defaults["HTTP_HOST"] = alias.domain
        response = client.post("/accounts/password/reset/", {"email": email})
        assert response["Location"] == "/accounts/password/reset/done/"
    finally:
        alias.delete()
        routing_invalidate()
    (message,) = mailbox.wait_for(email)
    link = link_in(body_text(message))
    assert urlsplit(link).netloc == acme_live.host  # never the Host the request came on
    assert link in body_html(message)

    client = tenant_client(acme_live)
    form_page = client.get(urlsplit(link).path, follow=True)
    assert form_page.status_code == 200
    set_url = form_page.redirect_chain[-1][0]
    weak = client.post(set_url, {"password1": "short", "password2": "short"})
    assert weak.status_code == 200 and "at least 12 characters" in weak.content.decode()
    done = client.post(set_url, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD})
    assert done["Location"] == "/accounts/password/reset/key/done/"
    assert sign_in(tenant_client(acme_live), email, NEW_PASSWORD)["Location"] == "/account/"
    with tenant_context(acme_live.tenant):
        assert lockout.lockout_failure_count(email=email) == 0
    notice = mailbox.wait_for(email, count=2)[-1]
    assert "reset" in body_text(notice).lower()


def test_forgot_password_for_an_unknown_email_looks_the_same(acme_live, mailbox):
    email = unique_email("forgot-unknown")
    response = tenant_client(acme_live).post("/accounts/password/reset/", {"email": email})
    assert response["Location"] == "/accounts/password/reset/done/"
    (message,) = mailbox.wait_for(email)
    assert "there is no account" in body_text(message)


def test_change_password_sends_a_notice(acme_live, mailbox):
    email = unique_email("change")
    with tenant_context(acme_live.tenant):
        get_user_model().objects.create_user(email=email, password="the old passphrase here")
    client = tenant_client(acme_live)
    sign_in(client, email, "the old passphrase here")
    wrong = client.post(
        "/accounts/password/change/",
        {"oldpassword": "not it at all", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
    )
    assert wrong.status_code == 200 and "current password" in wrong.content.decode()
    response = client.post(
        "/accounts/password/change/",
        {
            "oldpassword": "the old passphrase here",
            "password1": NEW_PASSWORD,
            "password2": NEW_PASSWORD,
        },
    )
    assert response.status_code == 302
    (notice,) = mailbox.wait_for(email)
    assert "password has been changed" in body_text(notice)
    assert body_html(notice)
    assert sign_in(tenant_client(acme_live), email, NEW_PASSWORD)["Location"] == "/account/"


def test_change_email_applies_only_after_the_new_address_is_verified(acme_live, mailbox):
    old, new = unique_email("old"), unique_email("new")
    with tenant_context(acme_live.tenant):
        user = get_user_model().objects.create_user(email=old, password=NEW_PASSWORD)
        EmailAddress.objects.create(user=user, email=old, verified=True, primary=True)
    client = tenant_client(acme_live)
    sign_in(client, old, NEW_PASSWORD)
    # Changing the email asks for the password again first.
    asked = client.post("/accounts/email/", {"action_add": "", "email": new})
    assert asked["Location"].startswith("/accounts/reauthenticate/")
    client.post("/accounts/reauthenticate/", {"password": NEW_PASSWORD})
    response = client.post("/accounts/email/", {"action_add": "", "email": new})
    assert response.status_code == 302
    (message,) = mailbox.wait_for(new)
    with tenant_context(acme_live.tenant):
        assert get_user_model().objects.filter(email=old).exists()
    link = link_in(body_text(message))
    client.post(urlsplit(link).path)
    with tenant_context(acme_live.tenant):
        assert get_user_model().objects.filter(email=new).exists()
    notice = mailbox.wait_for(old)[-1]
    assert new in body_text(notice)
    assert sign_in(tenant_client(acme_live), new, NEW_PASSWORD)["Location"] == "/account/"


def test_account_emails_go_through_the_outbox_once_and_leave_no_link_behind(acme_live, mailbox):
    """The verification email is an outbox row: sent once with its Message-ID, the link wiped
    from the row afterwards, and a second delivery of the same row sends nothing."""
    from emails.models import OutboxEmail
    from emails.services import outbox_deliver

    email = unique_email("outbox")
    assert sign_up(tenant_client(acme_live), email).status_code == 302
    (message,) = mailbox.wait_for(email)
    with tenant_context(acme_live.tenant):
        # The worker records "sent" just after the relay accepted the message.
        row = eventually(
            lambda: (
                (outbox := OutboxEmail.objects.get(to=email, kind=OutboxEmail.Kind.ACCOUNT)).status
                != OutboxEmail.Status.QUEUED
                and outbox
            ),
            timeout=10,
        )
        assert row.status == OutboxEmail.Status.SENT
        assert message["Message-ID"] == row.message_id
        assert row.payload == {}  # the verification link is not kept at rest
        assert outbox_deliver(outbox_id=row.pk) == OutboxEmail.Status.SENT
    assert len(mailbox.to(email)) == 1
