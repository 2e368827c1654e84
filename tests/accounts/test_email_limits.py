"""Email bombing: every hosted action that sends an email is limited per recipient and per IP
address, with the same answer for known and unknown addresses, counted per tenant."""

from __future__ import annotations

from django.test import Client

from tests.helpers import emails_to, make_user, tenant_client, unique_email

TOO_MANY_CODES = "Too many codes were asked for this address"
TOO_MANY = "this was asked too often for this email address or from your network"


def ask_code(client, email):
    return client.post("/accounts/login/code/", {"email": email})


def ask_reset(client, email):
    return client.post("/accounts/password/reset/", {"email": email})


def test_sign_in_codes_are_limited_per_address_alike_for_known_and_unknown(acme, globex):
    known, unknown = make_user(acme).email, unique_email("nobody")
    answers = []
    for email in (known, unknown):
        for _ in range(3):
            assert ask_code(tenant_client(acme), email).status_code == 302
        refused = ask_code(tenant_client(acme), email)
        assert refused.status_code == 200 and TOO_MANY_CODES in refused.content.decode()
        assert len(emails_to(acme, email)) == 3
        answers.append(refused.content.decode().split('name="csrfmiddlewaretoken"')[0])
    assert answers[0].replace(known, "EMAIL") == answers[1].replace(unknown, "EMAIL")
    # Counted per tenant: the same address at another tenant is not limited.
    assert ask_code(tenant_client(globex), unknown).status_code == 302


def test_sign_in_codes_are_limited_per_ip_address(acme, settings):
    settings.ACCOUNT_RATE_LIMITS = {**settings.ACCOUNT_RATE_LIMITS, "request_login_code": "2/h/ip"}
    sender = Client(HTTP_HOST=acme.host, REMOTE_ADDR="192.0.2.30")
    assert ask_code(sender, unique_email()).status_code == 302
    assert ask_code(Client(HTTP_HOST=acme.host, REMOTE_ADDR=sender.defaults["REMOTE_ADDR"]),
                    unique_email()).status_code == 302  # fmt: skip
    third = unique_email()
    refused = ask_code(Client(HTTP_HOST=acme.host, REMOTE_ADDR=sender.defaults["REMOTE_ADDR"]),
                       third)  # fmt: skip
    assert TOO_MANY_CODES in refused.content.decode() and emails_to(acme, third) == []
    assert ask_code(tenant_client(acme), third).status_code == 302


def test_password_reset_emails_are_limited_per_address_alike_for_known_and_unknown(acme):
    known, unknown = make_user(acme).email, unique_email("nobody")
    answers = []
    for email in (known, unknown):
        for _ in range(3):
            assert ask_reset(tenant_client(acme), email)["Location"] == (
                "/accounts/password/reset/done/"
            )
        refused = ask_reset(tenant_client(acme), email)
        assert refused.status_code == 429 and TOO_MANY in refused.content.decode()
        assert len(emails_to(acme, email)) == 3
        answers.append((refused.status_code, refused.content.decode().split("<main")[1]))
    assert answers[0] == answers[1]


def test_password_reset_emails_are_limited_per_ip_address(acme, settings):
    settings.ACCOUNT_RATE_LIMITS = {**settings.ACCOUNT_RATE_LIMITS, "reset_password": "2/h/ip"}
    address = "192.0.2.30"
    for _ in range(2):
        client = Client(HTTP_HOST=acme.host, REMOTE_ADDR=address)
        assert ask_reset(client, unique_email()).status_code == 302
    third = unique_email()
    refused = ask_reset(Client(HTTP_HOST=acme.host, REMOTE_ADDR=address), third)
    assert refused.status_code == 429 and emails_to(acme, third) == []


def test_signing_up_again_and_again_sends_two_emails_for_new_and_registered_addresses(acme):
    new, registered = unique_email("new"), make_user(acme).email
    for email in (new, registered):
        for _ in range(4):
            response = tenant_client(acme).post(
                "/accounts/signup/", {"email": email, "password1": "a fine long passphrase"}
            )
            assert response["Location"] == "/accounts/confirm-email/"
        assert len(emails_to(acme, email)) == 2


def test_sign_ups_are_limited_per_ip_address(acme, settings):
    settings.ACCOUNT_RATE_LIMITS = {**settings.ACCOUNT_RATE_LIMITS, "signup": "2/h/ip"}
    address = "192.0.2.30"

    def sign_up(email):
        client = Client(HTTP_HOST=acme.host, REMOTE_ADDR=address)
        return client.post("/accounts/signup/", {"email": email, "password1": "a fine passphrase"})

    assert sign_up(unique_email()).status_code == 302
    assert sign_up(unique_email()).status_code == 302
    third = unique_email()
    refused = sign_up(third)
    assert refused.status_code == 429 and TOO_MANY in refused.content.decode()
    assert emails_to(acme, third) == []
