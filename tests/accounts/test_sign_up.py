"""Sign-up form: password policy, bad input, enumeration-safe answers."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django_tenants.utils import tenant_context

from tests.accounts.hashers import CountingArgon2PasswordHasher
from tests.helpers import make_user, sign_in, tenant_client, unique_email


def sign_up(world, email, password):
    return tenant_client(world).post("/accounts/signup/", {"email": email, "password1": password})


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("short one", "Use at least 12 characters"),
        ("password1234", "too common"),
        ("my name is {local} ok", "must not contain your email"),
        ("acme corporation rules", "or the organisation"),
        ("x" * 1025, "at most 1024"),
    ],
)
def test_weak_passwords_are_refused_with_a_clear_reason(acme, password, message):
    email = unique_email("policy")
    password = password.format(local=email.split("@")[0])
    response = sign_up(acme, email, password)
    body = response.content.decode()
    assert response.status_code == 200
    assert message in body
    assert 'id="id_password1_error"' in body
    assert f'value="{email}"' in body


def test_a_128_character_password_works_untruncated(acme):
    email = unique_email("long")
    password = "correct horse battery staple " * 4 + "and more words"
    password = password[:128]
    assert sign_up(acme, email, password).status_code == 302
    with tenant_context(acme.tenant):
        user = get_user_model().objects.get(email=email)
        assert user.check_password(password) and not user.check_password(password[:127])
    assert sign_in(tenant_client(acme), email, password)["Location"] == "/account/"


def test_bad_input_on_the_sign_up_form_never_fails(acme):
    for data in (
        {},
        {"email": "not an email", "password1": "a fine long passphrase"},
        {"email": "", "password1": ""},
        {"email": "x" * 300 + "@example.org", "password1": "a fine long passphrase"},
        {
            "email": "a@example.org",
            "password1": "a fine long passphrase",
            "attr_givenName": "x" * 65,
        },
    ):
        response = tenant_client(acme).post("/accounts/signup/", data)
        assert response.status_code == 200, data
        assert "invalid-feedback" in response.content.decode()


def test_sign_up_answers_alike_for_new_and_registered_emails(acme, settings):
    settings.PASSWORD_HASHERS = ["tests.accounts.hashers.CountingArgon2PasswordHasher"]
    registered = make_user(acme)
    answers, hashes = [], []
    for email in (unique_email("new"), registered.email):
        before = CountingArgon2PasswordHasher.hashes
        response = sign_up(acme, email, "a fine long passphrase")
        hashes.append(CountingArgon2PasswordHasher.hashes - before)
        answers.append((response.status_code, response["Location"]))
    assert answers[0] == answers[1] == (302, "/accounts/confirm-email/")
    assert hashes == [1, 1]


def test_platform_host_has_no_sign_up(platform_client):
    response = platform_client.get("/accounts/signup/")
    assert response.status_code == 404


GUESSABLE = ["Welcome12345!", "P@ssw0rd2024!", "123456789012", "passwordpassword"]
TOO_EASY = "too easy to guess"


@pytest.mark.parametrize("password", GUESSABLE)
def test_guessable_and_breached_passwords_are_refused_on_sign_up(acme, password):
    email = unique_email("weak")
    response = sign_up(acme, email, password)
    assert response.status_code == 200
    assert TOO_EASY in response.content.decode()
    with tenant_context(acme.tenant):
        assert not get_user_model().objects.filter(email=email).exists()


@pytest.mark.parametrize(
    "password", ["correct horse battery staple velvet", "orbit lantern mosaic thimble"]
)
def test_strong_passphrases_pass(acme, password):
    assert sign_up(acme, unique_email("strong"), password)["Location"] == (
        "/accounts/confirm-email/"
    )


@pytest.mark.parametrize("password", GUESSABLE)
def test_guessable_passwords_are_refused_on_change_and_reset(acme, password):
    from urllib.parse import urlsplit

    from tests.helpers import PASSWORD, emails_to, link_in

    user = make_user(acme)
    client = tenant_client(acme)
    sign_in(client, user.email, PASSWORD)
    changed = client.post(
        "/accounts/password/change/",
        {"oldpassword": PASSWORD, "password1": password, "password2": password},
    )
    assert changed.status_code == 200 and TOO_EASY in changed.content.decode()

    resetting = tenant_client(acme)
    resetting.post("/accounts/password/reset/", {"email": user.email})
    form_page = resetting.get(urlsplit(link_in(emails_to(acme, user.email)[-1])).path, follow=True)
    set_url = form_page.redirect_chain[-1][0]
    reset = resetting.post(set_url, {"password1": password, "password2": password})
    assert reset.status_code == 200 and TOO_EASY in reset.content.decode()
    with tenant_context(acme.tenant):
        assert get_user_model().objects.get(pk=user.pk).check_password(PASSWORD)
