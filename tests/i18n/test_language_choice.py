"""Which language a hosted page speaks: ui_locales, the switcher, the user's saved language,
Accept-Language, then the tenant's default (ciam/locale.py)."""

from __future__ import annotations

from django.test import Client
from django_tenants.utils import tenant_context

from audit.models import AuditEvent
from tests.helpers import make_user, tenant_client
from tests.i18n.helpers import html_lang_dir, own_tenant
from tests.oidc.helpers import authorize_path, register_app


def login_page(client, **headers) -> str:
    response = client.get("/accounts/login/", **headers)
    assert response.status_code == 200
    return response.content.decode()


def test_accept_language_picks_the_catalogue(acme):
    page = login_page(tenant_client(acme), HTTP_ACCEPT_LANGUAGE="de-CH,fr;q=0.8,en;q=0.5")
    assert html_lang_dir(page) == ("de", "ltr")
    assert "Anmelden" in page and "Passwort vergessen?" in page

    page = login_page(tenant_client(acme), HTTP_ACCEPT_LANGUAGE="zh;q=1, es;q=0.9, fr;q=0.4")
    assert html_lang_dir(page) == ("es", "ltr")
    assert "¿Olvidaste tu contraseña?" in page


def test_brazilian_portuguese_is_served_for_pt_and_pt_br(acme):
    for header in ("pt-BR", "pt", "pt-PT;q=0.9"):
        page = login_page(tenant_client(acme), HTTP_ACCEPT_LANGUAGE=header)
        assert html_lang_dir(page) == ("pt-br", "ltr"), header
        assert "Esqueceu sua senha?" in page


def test_ui_locales_of_the_authorization_request_outranks_the_browser_through_the_sign_in(
    acme,
):
    app = register_app(acme)
    client = tenant_client(acme)
    french_browser = {"HTTP_ACCEPT_LANGUAGE": "fr-FR,fr;q=0.9"}
    response = client.get(authorize_path(app, ui_locales="xx-YY ja en"), **french_browser)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]

    page = client.get(response["Location"], **french_browser).content.decode()
    assert html_lang_dir(page) == ("ja", "ltr")
    assert "パスワードをお忘れですか?" in page
    # Every page of the sign-in keeps it, the wrong password's answer included.
    page = client.post(
        "/accounts/login/", {"login": "nobody@acme.test", "password": "wrong one"}, **french_browser
    ).content.decode()
    assert "メールアドレスまたはパスワードが正しくありません。" in page


def test_the_users_saved_language_outranks_the_browser(acme):
    user = make_user(acme, language="es")
    client = acme.client(user)
    page = client.get("/account/", HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert html_lang_dir(page) == ("es", "ltr")
    assert "Mi cuenta" in page and "Español" in page


def test_the_tenants_default_language_when_the_browser_asks_for_nothing_we_ship(acme):
    world = own_tenant()
    response = world.client(world.admin).post(
        "/console/branding/languages/default/", {"default_language": "de"}
    )
    assert response.status_code == 302
    with tenant_context(world.tenant):
        assert AuditEvent.objects.filter(action="tenant.default_language_set").count() == 1

    page = login_page(tenant_client(world), HTTP_ACCEPT_LANGUAGE="zh-CN,ko;q=0.5")
    assert html_lang_dir(page) == ("de", "ltr")
    assert "Passwort vergessen?" in page
    # A browser language we ship still wins over it, and other tenants keep English.
    assert html_lang_dir(login_page(tenant_client(world), HTTP_ACCEPT_LANGUAGE="fr")) == (
        "fr",
        "ltr",
    )
    assert html_lang_dir(login_page(tenant_client(acme), HTTP_ACCEPT_LANGUAGE="zh-CN")) == (
        "en",
        "ltr",
    )


def test_only_a_language_we_ship_can_be_the_default(acme):
    world = own_tenant()
    response = world.client(world.admin).post(
        "/console/branding/languages/default/", {"default_language": "xx"}
    )
    assert response.status_code == 400
    assert "Select a valid choice" in response.content.decode()
    assert acme.client(acme.member).get("/console/branding/languages/").status_code in (302, 403)


def test_the_switcher_changes_the_language_and_returns_to_the_sign_in_it_came_from(acme):
    client = tenant_client(acme)
    login_page(client, HTTP_ACCEPT_LANGUAGE="fr")
    next_path = "/accounts/login/?next=/account/"
    page = login_page(client, QUERY_STRING="next=/account/")
    # The switcher carries only the language; it returns to the page it was on (its
    # Referer), the sign-in's `next` included.
    assert 'action="/language/"' in page and "return_to" not in page
    response = client.get(
        "/language/", {"language": "ar"}, HTTP_REFERER=f"http://{acme.host}{next_path}"
    )
    assert response.status_code == 303 and response["Location"] == f"http://{acme.host}{next_path}"
    response = client.get("/language/", {"language": "ar", "return_to": next_path})
    assert response.status_code == 303 and response["Location"] == next_path

    page = login_page(client, HTTP_ACCEPT_LANGUAGE="fr")
    assert html_lang_dir(page) == ("ar", "rtl")
    assert "تسجيل الدخول" in page
    # A POST works too; an outside address is never a destination; an unknown language
    # changes nothing.
    response = client.post("/language/", {"language": "xx", "return_to": "https://evil.example/"})
    assert response.status_code == 303 and response["Location"] == "/"
    response = client.get(
        "/language/", {"language": "xx"}, HTTP_REFERER="https://evil.example/accounts/login/"
    )
    assert response.status_code == 303 and response["Location"] == "/"
    assert html_lang_dir(login_page(client)) == ("ar", "rtl")


def test_the_switcher_replaces_ui_locales_for_the_rest_of_the_sign_in(acme):
    client = tenant_client(acme)
    assert html_lang_dir(login_page(client, QUERY_STRING="ui_locales=ja")) == ("ja", "ltr")
    client.get("/language/", {"language": "fr", "return_to": "/accounts/login/"})
    assert html_lang_dir(login_page(client)) == ("fr", "ltr")


def test_the_switcher_refuses_a_post_without_the_csrf_token(acme):
    client = Client(HTTP_HOST=acme.host, enforce_csrf_checks=True)
    assert client.post("/language/", {"language": "ar", "return_to": "/"}).status_code == 403


def test_a_user_saves_a_language_in_my_account(acme):
    user = make_user(acme)
    client = acme.client(user)
    form = client.get("/account/language/").content.decode()
    assert 'value="ja"' in form and "日本語" in form
    response = client.post("/account/language/", {"language": "ja"})
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.language == "ja"
    page = client.get("/account/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert html_lang_dir(page) == ("ja", "ltr")
    assert "言語を保存しました。" in page
    with tenant_context(acme.tenant):
        event = AuditEvent.objects.filter(action="user.language_set").latest("id")
        assert event.after == {"language": "ja"}

    # Another browser, without the cookie, follows the saved language too.
    other = acme.client(user)
    assert html_lang_dir(other.get("/account/").content.decode()) == ("ja", "ltr")

    # Blank: back to the browser's language.
    client.post("/account/language/", {"language": ""})
    user.refresh_from_db()
    assert user.language == ""
    page = client.get("/account/", HTTP_ACCEPT_LANGUAGE="de").content.decode()
    assert html_lang_dir(page) == ("de", "ltr")

    assert client.post("/account/language/", {"language": "xx"}).status_code == 200
    user.refresh_from_db()
    assert user.language == ""


def test_dates_and_plurals_follow_the_language(acme):
    from tests.helpers import fail

    client = tenant_client(acme)
    email = "locked-out@acme.test"
    fail(client, email, 10)
    answer = client.post(
        "/accounts/login/",
        {"login": email, "password": "another guess"},
        HTTP_ACCEPT_LANGUAGE="fr",
    ).content.decode()
    # "try again in 1 minute" / "60 secondes": the count's plural in the page's language.
    assert "réessayez dans" in answer
    assert ("minute" in answer) or ("secondes" in answer)
