"""Refresh tokens only with offline_access (OIDC Core 11), or for first-party apps set to
always get one; third-party apps only when the user allowed "Stay signed in"."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django_tenants.utils import tenant_context

from tests.oidc.helpers import APP_FORM, Flow, consent_form, query_of, register_app


def consent_allowed(flow: Flow, app, **extra) -> tuple[str, str, str]:
    """Shows the consent page, allows it; returns the page's text, the code and verifier."""
    page, verifier = flow.authorize(app, **extra)
    assert page.status_code == 200
    posted = flow.browser.post("/o/authorize/", {**consent_form(page), "allow": "on"})
    assert posted.status_code in (302, 303)
    return page.content.decode(), query_of(posted["Location"])["code"], verifier


def test_first_party_app_gets_a_refresh_token_only_with_offline_access(acme, acme_web):
    flow = Flow(acme, user=acme.member)
    without = flow.sign_in(acme_web, scope="openid email")
    assert "refresh_token" not in without
    assert without["access_token"] and without["id_token"]
    with_offline = flow.sign_in(acme_web, scope="openid email offline_access")
    status, refreshed = flow.token(
        acme_web, {"grant_type": "refresh_token", "refresh_token": with_offline["refresh_token"]}
    )
    assert status == 200 and refreshed["refresh_token"]


def test_first_party_app_set_to_always_refresh_gets_one_without_offline_access(acme):
    app = register_app(acme, always_refresh=True)
    flow = Flow(acme, user=acme.member)
    body = flow.sign_in(app, scope="openid")
    status, refreshed = flow.token(
        app, {"grant_type": "refresh_token", "refresh_token": body["refresh_token"]}
    )
    assert status == 200 and refreshed["refresh_token"] != body["refresh_token"]


def test_third_party_app_gets_a_refresh_token_once_the_user_allows_staying_signed_in(acme):
    partner = register_app(acme, first_party=False, name="Partner app")
    flow = Flow(acme, user=acme.member)
    page, code, verifier = consent_allowed(flow, partner, scope="openid email")
    assert "Stay signed in" not in page
    status, body = flow.exchange(partner, code, verifier)
    assert status == 200 and "refresh_token" not in body
    page, code, verifier = consent_allowed(flow, partner, scope="openid email offline_access")
    assert "Stay signed in" in page
    status, body = flow.exchange(partner, code, verifier)
    assert status == 200 and body["refresh_token"]


def test_third_party_app_cannot_be_set_to_always_refresh(acme):
    with pytest.raises(ValidationError) as error:
        register_app(acme, first_party=False, always_refresh=True)
    assert "always_refresh" in error.value.message_dict


def test_admin_sets_always_refresh_and_the_app_page_says_so(acme):
    from oidc.models import Application

    client = acme.client(user=acme.admin)
    response = client.post("/console/apps/new/", APP_FORM)
    assert response.status_code == 303
    page = client.get(response["Location"]).content.decode()
    assert "Only when the app asks for offline_access." in page
    with tenant_context(acme.tenant):
        application = Application.objects.get(name=APP_FORM["name"])
    edit = f"/console/apps/{application.public_id}/edit/"
    assert 'name="always_refresh"' in client.get(edit).content.decode()
    saved = client.post(edit, {**APP_FORM, "always_refresh": "on"})
    assert saved.status_code == 303
    assert "Always: every sign-in gets one." in client.get(saved["Location"]).content.decode()
    refused = client.post(edit, {**APP_FORM, "is_first_party": "", "always_refresh": "on"})
    assert refused.status_code == 200
    assert "Only first-party apps can always get refresh tokens." in refused.content.decode()


def test_apps_you_allowed_says_what_each_app_may_do_in_words_in_the_persons_language(acme):
    from django.conf import settings

    partner = register_app(acme, first_party=False, name="Partner app")
    flow = Flow(acme, user=acme.member)
    flow.browser.cookies[settings.LANGUAGE_COOKIE_NAME] = "fr"
    page, _code, _verifier = consent_allowed(flow, partner, scope="openid email offline_access")
    assert "Voir votre adresse e-mail" in page
    listing = flow.browser.get("/account/apps/").content.decode()
    assert "Partner app" in listing
    assert "Vous connecter, Voir votre adresse e-mail, Rester connecté" in listing
    assert "offline_access" not in listing and "openid" not in listing
