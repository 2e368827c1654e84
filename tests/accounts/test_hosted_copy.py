"""allauth's pages speak in our words: sentence case, one message at a time, a way back to
sign-in (or to the app) at the end of each journey, and `next` carried once."""

from __future__ import annotations

import re

import pytest

from tests.helpers import PASSWORD, make_user, sign_in, tenant_client, unique_email

CHROME_ON_WINDOWS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36"
)
STOCK_WORDING = [
    "Request Code",
    "Enter Sign-In Code",
    "Password Reset",
    "Reset My Password",
    "Change Password",
    "New Password",
    "Bad Token",
    "Confirm Email Address",
    "Please reauthenticate",
    "Confirm Access",
    "Account Inactive",
    "Sign Out",
    "Started At",
]


def heading(body: str) -> str:
    (text,) = re.findall(r"<h1[^>]*>(.*?)</h1>", body, re.S)
    return text.strip()


def assert_our_wording(body: str) -> None:
    for stock in STOCK_WORDING:
        assert stock not in body, stock


@pytest.mark.parametrize(
    ("path", "title", "action"),
    [
        ("/accounts/login/code/", "Sign in with a code", "Send a code"),
        ("/accounts/password/reset/", "Reset your password", "Send a reset link"),
        ("/accounts/password/reset/done/", "Check your email", "Back to sign in"),
        ("/accounts/password/reset/key/done/", "Your password is reset", "Sign in"),
        ("/accounts/password/reset/key/1-bogus/", "This link can't be used", "Send a new link"),
        ("/accounts/confirm-email/bogus-key/", "Confirm your email address", "Back to sign in"),
        ("/accounts/inactive/", "This account is disabled", "Back to sign in"),
    ],
)
def test_entrance_pages_use_our_headings_and_buttons(acme, path, title, action):
    body = tenant_client(acme).get(path).content.decode()
    assert heading(body) == title
    assert f">{action}</" in body
    assert_our_wording(body)


@pytest.mark.parametrize(
    "path",
    [
        "/accounts/password/reset/done/",
        "/accounts/password/reset/key/done/",
        "/accounts/password/reset/key/1-bogus/",
        "/accounts/password/reset/",
    ],
)
def test_every_password_reset_page_leads_back_to_sign_in(acme, path):
    body = tenant_client(acme).get(path).content.decode()
    assert 'href="/accounts/login/"' in body


def test_the_new_password_page_uses_our_labels(acme):
    from allauth.account.forms import default_token_generator
    from allauth.account.utils import user_pk_to_url_str
    from django_tenants.utils import tenant_context

    user = make_user(acme)
    with tenant_context(acme.tenant):
        key = f"{user_pk_to_url_str(user)}-{default_token_generator.make_token(user)}"
    page = tenant_client(acme).get(f"/accounts/password/reset/key/{key}/", follow=True)
    body = page.content.decode()
    assert heading(body) == "Choose a new password"
    assert ">New password<" in body and ">Confirm new password<" in body
    assert ">Reset password</button>" in body
    assert_our_wording(body)


def test_next_is_carried_once_from_sign_in_to_the_code_pages(acme):
    user = make_user(acme)
    client = tenant_client(acme)
    login = client.get("/accounts/login/?next=/console/").content.decode()
    assert 'href="/accounts/login/code/?next=%2Fconsole%2F"' in login
    assert "next=%2Fconsole%2F?next" not in login and "?next=/console/?" not in login

    request_page = client.get("/accounts/login/code/?next=/console/").content.decode()
    assert 'action="/accounts/login/code/"' in request_page
    assert request_page.count('name="next"') == 1
    assert 'href="/accounts/login/?next=%2Fconsole%2F"' in request_page

    sent = client.post("/accounts/login/code/", {"email": user.email, "next": "/console/"})
    assert sent["Location"] == "/accounts/login/code/confirm/?next=%2Fconsole%2F"
    code_page = client.get(sent["Location"]).content.decode()
    assert heading(code_page) == "Enter your code"
    assert code_page.count('name="next"') == 1
    assert 'href="/accounts/login/?next=%2Fconsole%2F"' in code_page
    # Said once, on the page: no "code sent" message above it.
    assert code_page.count(user.email) == 1
    assert 'class="messages"' not in code_page
    assert_our_wording(code_page)


def test_signed_in_pages_use_our_words_and_a_readable_device(acme):
    user = make_user(acme)
    client = tenant_client(acme)
    client.defaults["HTTP_USER_AGENT"] = CHROME_ON_WINDOWS
    sign_in(client, user.email, PASSWORD)

    reauthenticate = client.get("/accounts/reauthenticate/?next=/account/delete/")
    body = reauthenticate.content.decode()
    assert heading(body) == "Confirm it's you"
    assert ">Continue</button>" in body and 'href="/account/"' in body
    assert body.count('name="next"') == 1
    assert_our_wording(body)

    sessions = client.get("/accounts/sessions/").content.decode()
    assert heading(sessions) == "Where you're signed in"
    assert ">Chrome on Windows<" in sessions
    assert f">{CHROME_ON_WINDOWS}<" not in sessions  # the raw header only as a tooltip
    assert_our_wording(sessions)

    change = client.get("/accounts/password/change/").content.decode()
    assert heading(change) == "Change password"
    assert ">Current password<" in change and ">Confirm new password<" in change
    assert_our_wording(change)

    logout = client.get("/accounts/logout/").content.decode()
    assert heading(logout) == "Sign out" and ">Sign out</button>" in logout
    assert_our_wording(logout)


def test_after_sign_up_the_page_says_once_where_the_link_went(acme):
    email = unique_email()
    response = tenant_client(acme).post(
        "/accounts/signup/",
        {"email": email, "password1": "a brand new passphrase for today", "accept_terms": "on"},
        follow=True,
    )
    body = response.content.decode()
    assert heading(body) == "Check your email"
    assert body.count(email) == 1
    assert len(re.findall(r"(?i)\b(?:sent|emailed)\b", body)) == 1
