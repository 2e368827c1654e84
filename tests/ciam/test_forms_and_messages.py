"""Every form field is laid out by one template (settings.FORM_RENDERER): label, help and
errors next to the input and tied to it; every layout shows messages the same way."""

from __future__ import annotations

import re

from django.test import Client
from django_tenants.utils import tenant_context

from guests import services as guest_services
from tests.helpers import save_flow, tenant_client, unique_email


def input_tag(page: str, name: str) -> str:
    return re.search(rf'<input[^>]*name="{name}"[^>]*>', page).group(0)


def test_a_field_with_an_error_says_so_next_to_it_and_keeps_what_was_typed(acme):
    email = unique_email()
    page = (
        tenant_client(acme)
        .post("/accounts/signup/", {"email": email, "password1": "short"})
        .content.decode()
    )
    password = input_tag(page, "password1")
    assert 'aria-invalid="true"' in password and "is-invalid" in password
    assert 'aria-describedby="id_password1_help id_password1_error"' in password
    assert '<label class="form-label" for="id_password1">' in page
    assert 'id="id_password1_error">' in page and 'id="id_password1_help">' in page
    assert f'value="{email}"' in input_tag(page, "email")
    assert "aria-invalid" not in input_tag(page, "email")


def test_the_terms_checkbox_links_the_terms_and_the_privacy_statement(acme):
    save_flow(
        acme,
        terms_required="on",
        terms_url="https://acme.example/terms",
        privacy_url="https://acme.example/privacy",
    )
    data = {"email": unique_email(), "password1": "a fine long passphrase"}
    page = tenant_client(acme).post("/accounts/signup/", data).content.decode()
    checkbox = input_tag(page, "accept_terms")
    assert 'type="checkbox"' in checkbox and "form-check-input is-invalid" in checkbox
    assert 'aria-describedby="id_accept_terms_error"' in checkbox
    label = re.search(r'<label class="form-check-label" for="id_accept_terms">(.*?)</label>', page)
    assert 'href="https://acme.example/terms"' in label.group(1)
    assert 'href="https://acme.example/privacy"' in label.group(1)


def test_console_messages_are_alerts_in_a_status_region(acme):
    with tenant_context(acme.tenant):
        invitation = guest_services.invitation_create(
            invited_by=acme.admin, email=unique_email(), redirect_url="https://app.acme.example/"
        )
    admin = acme.client(user=acme.admin)
    url = f"/console/guests/invitations/{invitation.public_id}/revoke/"
    page = admin.post(url, follow=True).content.decode()
    assert re.search(
        r'<div class="messages" role="status"><div class="alert alert-success">Invitation '
        r"revoked",
        page,
    )
    # Revoking again is refused: an error is Bootstrap's "danger" alert.
    page = admin.post(url, follow=True).content.decode()
    assert '<div class="messages" role="status"><div class="alert alert-danger">' in page


def test_inputs_keep_the_hints_browsers_and_phones_use(acme, db):
    client = tenant_client(acme)
    sign_in = client.get("/accounts/login/").content.decode()
    # The sign-in identifier; "webauthn" lets the browser offer passkeys there (mfa.passkeys).
    login = input_tag(sign_in, "login")
    assert 'autocomplete="username webauthn"' in login and 'type="email"' in login
    assert 'autocomplete="current-password"' in input_tag(sign_in, "password")
    sent = client.post("/accounts/login/code/", {"email": acme.member.email})
    code_page = client.get(sent["Location"]).content.decode()
    code = input_tag(code_page, "code")
    assert 'autocomplete="one-time-code"' in code and 'inputmode="numeric"' in code
    landing = Client(HTTP_HOST="localhost").get("/").content.decode()
    assert 'autocomplete="organization"' in input_tag(landing, "name")
    slug = input_tag(landing, "slug")
    assert 'aria-describedby="id_slug_help slug-availability"' in slug
    assert 'hx-get="/slug-availability/"' in slug
