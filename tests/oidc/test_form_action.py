"""Where the forms of a hosted page may lead (CSP `form-action`, SECURITY.md item 46): 'self'
plus exactly the origin the flow in progress names, once this tenant has validated it."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest

from ciam.csp import url_origin
from tests.oidc.helpers import authorize_path, form_action, register_app


def sign_in_page(client, next_url: str):
    return client.get("/accounts/login/?" + urlencode({"next": next_url}))


def test_sign_in_for_an_app_may_lead_to_its_redirect_uri_origin(acme, acme_web):
    response = sign_in_page(acme.client(), authorize_path(acme_web))
    assert response.status_code == 200
    assert form_action(response) == "form-action 'self' https://app.example"
    # The code step of the same sign-in carries the same request in `next`.
    response = acme.client().get(
        "/accounts/login/code/?" + urlencode({"next": authorize_path(acme_web)})
    )
    assert form_action(response) == "form-action 'self' https://app.example"


@pytest.mark.parametrize(
    "next_url",
    [
        "/account/",
        "https://evil.example/o/authorize/?client_id=x&redirect_uri=https://evil.example/",
        "//evil.example/o/authorize/",
    ],
)
def test_sign_in_without_an_app_request_leads_only_to_this_tenant(acme, next_url):
    assert form_action(sign_in_page(acme.client(), next_url)) == "form-action 'self'"


def test_an_unregistered_redirect_uri_is_not_allowed(acme, acme_web):
    for variant in (
        "https://evil.example/callback",
        "https://app.example/callback/",  # exact matching: no trailing-slash variant
        "https://app.example/callback?x=1",
    ):
        response = sign_in_page(acme.client(), authorize_path(acme_web, variant))
        assert form_action(response) == "form-action 'self'", variant


def test_another_tenants_app_names_no_origin_here(acme, globex):
    globex_app = register_app(globex, redirect_uri="https://globex-app.example/cb")
    response = sign_in_page(acme.client(), authorize_path(globex_app))
    assert form_action(response) == "form-action 'self'"


def test_consent_page_may_lead_to_the_third_party_apps_origin(acme):
    app = register_app(acme, first_party=False, redirect_uri="https://partner.example/cb")
    response = acme.client(user=acme.member).get(authorize_path(app))
    assert response.status_code == 200
    assert b"Allow" in response.content
    assert form_action(response) == "form-action 'self' https://partner.example"


def test_sign_out_prompt_may_lead_only_to_a_registered_post_logout_uri(acme):
    app = register_app(acme, post_logout="https://app.example/signed-out")
    client = acme.client(user=acme.member)
    response = client.get(
        "/o/logout/?"
        + urlencode(
            {
                "client_id": app.client_id,
                "post_logout_redirect_uri": "https://app.example/signed-out",
            }
        )  # fmt: skip
    )
    assert form_action(response) == "form-action 'self' https://app.example"
    response = client.get(
        "/o/logout/?"
        + urlencode(
            {
                "client_id": app.client_id,
                "post_logout_redirect_uri": "https://evil.example/",
            }
        )  # fmt: skip
    )
    assert form_action(response) == "form-action 'self'"


@pytest.mark.parametrize(
    ("url", "origin"),
    [
        ("https://app.example/callback?x=1", "https://app.example"),
        ("http://127.0.0.1:8400/cb", "http://127.0.0.1:8400"),
        ("HTTPS://App.Example:8443/cb", "https://app.example:8443"),
        ("com.example.app:/oauth2redirect", "com.example.app:"),
        ("javascript:alert(1)", None),
        ("data:text/html,x", None),
        ("https://*.example/cb", None),
        ("https://app.example;script-src/cb", None),
        ("/relative/path", None),
    ],
)
def test_url_origin_is_a_single_source_expression(url, origin):
    assert url_origin(url) == origin
