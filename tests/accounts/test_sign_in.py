"""Password sign-in on the hosted page: success, failure, enumeration, sign-in log rows."""

from __future__ import annotations

from django_tenants.utils import tenant_context

from audit.models import SignInEvent
from tests.helpers import PASSWORD, events, make_user, sign_in, tenant_client, unique_email


def test_sign_in_page_shows_password_and_code_options(acme):
    response = tenant_client(acme).get("/accounts/login/")
    body = response.content.decode()
    assert response.status_code == 200
    assert 'name="login"' in body and 'name="password"' in body
    assert "Email me a sign-in code" in body
    assert "Create one" in body


def test_correct_password_signs_in_and_lands_on_my_account(acme):
    user = make_user(acme)
    client = tenant_client(acme)
    client.get("/accounts/login/")
    anonymous_session = client.cookies.get("sessionid")
    response = sign_in(client, user.email.upper(), PASSWORD)
    assert response.status_code == 302
    assert response["Location"] == "/account/"
    assert client.cookies["sessionid"].value != getattr(anonymous_session, "value", None)
    page = client.get("/account/")
    assert page.status_code == 200
    assert user.email in page.content.decode()
    assert events(acme, user=user) == [("success", "")]


def test_next_parameter_is_followed_after_sign_in(acme):
    user = make_user(acme)
    client = tenant_client(acme)
    response = client.post(
        "/accounts/login/", {"login": user.email, "password": PASSWORD, "next": "/console/"}
    )
    assert response["Location"] == "/console/"


def test_wrong_password_and_unknown_email_get_the_same_answer(acme):
    user = make_user(acme)
    known = sign_in(tenant_client(acme), user.email, "not the right passphrase")
    unknown_email = unique_email("nobody")
    unknown = sign_in(tenant_client(acme), unknown_email, "not the right passphrase")
    assert known.status_code == unknown.status_code == 200
    message = "The email address or password is not correct."
    assert message in known.content.decode() and message in unknown.content.decode()
    # What was typed stays in the form.
    assert f'value="{unknown_email}"' in unknown.content.decode()
    assert events(acme, email_typed=user.email) == [("failure", "wrong_password")]
    assert events(acme, email_typed=unknown_email) == [("failure", "unknown_account")]


def test_sign_in_log_never_holds_the_password(acme):
    user = make_user(acme)
    sign_in(tenant_client(acme), user.email, "secret-guess-123456")
    with tenant_context(acme.tenant):
        row = SignInEvent.objects.get(email_typed=user.email)
    assert "secret-guess" not in str(row.__dict__)
    assert row.ip_address and row.method == "password"


def test_disabled_account_cannot_sign_in(acme):
    user = make_user(acme, is_active=False)
    response = sign_in(tenant_client(acme), user.email, PASSWORD)
    assert response.status_code == 302
    assert response["Location"] == "/accounts/inactive/"
    assert ("failure", "account_disabled") in events(acme, user=user)


def test_same_email_at_two_tenants_is_two_accounts(acme, globex):
    email = unique_email("twin")
    make_user(acme, email=email, password="acme passphrase for twin")
    make_user(globex, email=email, password="globex passphrase for twin")
    assert sign_in(tenant_client(acme), email, "acme passphrase for twin").status_code == 302
    at_globex = sign_in(tenant_client(globex), email, "acme passphrase for twin")
    assert at_globex.status_code == 200
    assert sign_in(tenant_client(globex), email, "globex passphrase for twin").status_code == 302


def test_user_of_one_tenant_cannot_sign_in_at_another(acme, globex):
    user = make_user(acme)
    response = sign_in(tenant_client(globex), user.email, PASSWORD)
    assert response.status_code == 200
    assert "The email address or password is not correct." in response.content.decode()


def test_bad_input_on_the_sign_in_form_gets_a_clear_error(acme):
    client = tenant_client(acme)
    for data in (
        {},
        {"login": "not an email", "password": "x"},
        {"login": "", "password": ""},
        {"login": "a@b.c" * 100, "password": "x" * 5000},
    ):
        response = client.post("/accounts/login/", data)
        assert response.status_code == 200, data
        assert "invalid-feedback" in response.content.decode() or "alert-danger" in (
            response.content.decode()
        )
    # NUL is refused before the form sees it (ciam.bad_input), as on every page.
    response = client.post("/accounts/login/", {"login": "\x00@example.org", "password": "x"})
    assert response.status_code == 400
    assert "characters we cannot accept" in response.content.decode()


def test_sign_out_makes_the_old_cookie_anonymous(acme):
    user = make_user(acme)
    client = tenant_client(acme)
    sign_in(client, user.email, PASSWORD)
    old_cookie = client.cookies["sessionid"].value
    assert client.post("/accounts/logout/").status_code == 302
    replay = tenant_client(acme)
    replay.cookies["sessionid"] = old_cookie
    assert replay.get("/account/")["Location"].startswith("/accounts/login/")
