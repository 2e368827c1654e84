"""Pre-hijacking: someone signs up with another person's email and a password of their own,
then waits for the address's owner to use the account. The first proof of the address ends
that password and the account's other sessions."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from django.contrib.auth import get_user_model
from django_tenants.utils import tenant_context

from accounts.services import address_proven
from tests.helpers import (
    ATTACKER_PASSWORD,
    emails_to,
    link_in,
    make_user,
    save_flow,
    sign_in,
    sign_up,
    tenant_client,
    unique_email,
)

WRONG = "The email address or password is not correct."


def sign_in_with_code(client, world, email):
    assert client.post("/accounts/login/code/", {"email": email}).status_code == 302
    code = re.search(r"\b(\d{6})\b", emails_to(world, email)[-1]).group(1)
    return client.post("/accounts/login/code/confirm/", {"code": code})


@pytest.mark.parametrize("verification", ["optional", "mandatory"])
def test_a_code_sign_in_by_the_owner_ends_a_password_set_before_the_proof(acme, verification):
    save_flow(acme, email_verification=verification)
    victim = unique_email("victim")
    attacker = tenant_client(acme)
    assert sign_up(attacker, victim)["Location"] == "/accounts/confirm-email/"
    if verification == "optional":
        assert sign_in(attacker, victim, ATTACKER_PASSWORD)["Location"] == "/account/"
        assert attacker.get("/account/").status_code == 200

    owner = tenant_client(acme)
    assert sign_in_with_code(owner, acme, victim)["Location"] == "/account/"
    page = owner.get("/account/").content.decode()
    assert "no longer works" in page and "Set a password" in page

    # The attacker's session is over and the attacker's password opens nothing.
    assert attacker.get("/account/")["Location"].startswith("/accounts/login/")
    again = sign_in(tenant_client(acme), victim, ATTACKER_PASSWORD)
    assert again.status_code == 200 and WRONG in again.content.decode()
    # The owner's own session goes on.
    assert owner.get("/account/").status_code == 200


def test_a_link_opened_in_another_browser_ends_the_password_set_at_sign_up(acme):
    victim = unique_email("victim")
    sign_up(tenant_client(acme), victim)
    link = link_in(emails_to(acme, victim)[-1])
    owner = tenant_client(acme)
    assert owner.post(urlsplit(link).path).status_code == 302
    again = sign_in(tenant_client(acme), victim, ATTACKER_PASSWORD)
    assert WRONG in again.content.decode()


def test_the_link_opened_in_the_browser_that_signed_up_keeps_its_password(acme):
    email = unique_email("honest")
    client = tenant_client(acme)
    sign_up(client, email)
    link = link_in(emails_to(acme, email)[-1])
    assert client.post(urlsplit(link).path).status_code == 302
    assert client.get("/account/").status_code == 200
    assert sign_in(tenant_client(acme), email, ATTACKER_PASSWORD)["Location"] == "/account/"


def test_a_later_code_sign_in_of_a_proven_account_keeps_its_password(acme):
    email = unique_email("proven")
    client = tenant_client(acme)
    sign_up(client, email)
    client.post(urlsplit(link_in(emails_to(acme, email)[-1])).path)
    assert sign_in_with_code(tenant_client(acme), acme, email)["Location"] == "/account/"
    assert sign_in(tenant_client(acme), email, ATTACKER_PASSWORD)["Location"] == "/account/"
    assert client.get("/account/").status_code == 200


def test_an_invitation_proof_ends_an_earlier_password_and_sessions(acme):
    user = make_user(acme, password=ATTACKER_PASSWORD)
    attacker = tenant_client(acme)
    sign_in(attacker, user.email, ATTACKER_PASSWORD)
    with tenant_context(acme.tenant):
        address_proven(user=user, email=user.email)
        assert not get_user_model().objects.get(pk=user.pk).has_usable_password()
        assert user.emailaddress_set.get().verified
    assert attacker.get("/account/")["Location"].startswith("/accounts/login/")
