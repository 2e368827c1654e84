"""My account: profile, security info, sessions, apps, deleting the account."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django_tenants.utils import tenant_context

from audit.models import SignInEvent
from tests.helpers import PASSWORD, make_user, sign_in, tenant_client


def signed_in(world, user):
    client = tenant_client(world)
    assert sign_in(client, user.email, PASSWORD)["Location"] == "/account/"
    return client


def test_my_account_needs_a_signed_in_user(acme):
    response = tenant_client(acme).get("/account/")
    assert response["Location"] == "/accounts/login/?next=/account/"


def test_my_account_shows_profile_security_sessions_and_apps(acme):
    user = make_user(acme, first_name="Ada", attributes={"givenName": "Ada"})
    with tenant_context(acme.tenant):
        SignInEvent.objects.create(
            user=user, method="password", result="success", app_id="shop", app_name="Acme Shop"
        )
        SignInEvent.objects.create(
            user=user, method="password", result="failure", app_id="vault", app_name="Vault"
        )
    body = signed_in(acme, user).get("/account/").content.decode()
    assert user.email in body and "Ada" in body
    assert "Change password" in body and "Change email" in body
    assert "this browser" in body
    assert "Acme Shop" in body and "Vault" not in body
    # Recent activity lists the attempts, failures included, with their results.
    assert "Recent sign-in activity" in body and "Failure" in body and "Success" in body
    assert "not verified" in body


def test_editing_the_profile_keeps_input_on_errors_and_saves(acme):
    user = make_user(acme)
    client = signed_in(acme, user)
    too_long = client.post(
        "/account/profile/", {"attr_givenName": "x" * 65, "attr_surname": "Lovelace"}
    )
    assert too_long.status_code == 200
    body = too_long.content.decode()
    assert 'id="id_attr_givenName_error"' in body and 'value="Lovelace"' in body
    saved = client.post(
        "/account/profile/",
        {"attr_givenName": "Ada", "attr_surname": "Lovelace", "attr_displayName": "Countess"},
    )
    assert saved["Location"] == "/account/"
    with tenant_context(acme.tenant):
        user.refresh_from_db()
    assert (user.first_name, user.last_name, user.display_name) == ("Ada", "Lovelace", "Countess")


def test_sign_out_other_sessions_ends_the_other_browser(acme):
    user = make_user(acme)
    laptop, phone = signed_in(acme, user), signed_in(acme, user)
    page = laptop.get("/account/").content.decode()
    assert "Sign out other sessions" in page
    assert laptop.post("/accounts/sessions/").status_code == 302
    assert laptop.get("/account/").status_code == 200
    assert phone.get("/account/").status_code == 302


def test_deleting_the_account_asks_for_the_password_then_removes_it(acme):
    user = make_user(acme)
    client = signed_in(acme, user)
    assert client.get("/account/delete/")["Location"].startswith("/accounts/reauthenticate/")
    client.post("/accounts/reauthenticate/", {"password": PASSWORD})
    assert client.post("/account/delete/", {}).status_code == 400
    response = client.post("/account/delete/", {"confirm": "delete"})
    assert response["Location"] == "/"
    with tenant_context(acme.tenant):
        assert not get_user_model().objects.filter(pk=user.pk).exists()
    assert sign_in(tenant_client(acme), user.email, PASSWORD).status_code == 200
