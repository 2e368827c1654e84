"""Sign in with Apple, Facebook and LinkedIn (OpenID Connect), each set up in the console's
way: the button's authorization redirect (URL, client id, scope, PKCE where the provider
takes it, state, nonce), and the callback against a stand-in of the provider's token and user
endpoints on loopback (its fixed hosts pointed there by FEDERATION_IDP_HOST_OVERRIDES): the
person is signed in and linked by (provider, subject); a wrong nonce signs nobody in."""

from __future__ import annotations

import html
import json
import re
import uuid
from urllib.parse import parse_qs, urlsplit

import pytest
from allauth.socialaccount.models import SocialAccount
from django_tenants.utils import tenant_context

from tests.federation.helpers import create_provider, log_rows
from tests.federation.social_stand_in import SocialStandIn, apple_private_key
from tests.helpers import unique_email

REFRESH = re.compile(r'<meta http-equiv="refresh" content="0;url=([^"]+)">')
TEAM_ID, KEY_ID = "TEAM12345A", "KEY123456B"


@pytest.fixture
def stand_in(settings):
    started = []

    def make(client_id: str, client_secret: str = "") -> SocialStandIn:
        person = {"sub": f"sub-{uuid.uuid4().hex[:10]}", "email": unique_email("social"),
                  "given_name": "Ada", "family_name": "Lovelace"}  # fmt: skip
        server = SocialStandIn(client_id=client_id, client_secret=client_secret, person=person)
        started.append(server.start())
        settings.FEDERATION_IDP_HOST_OVERRIDES = server.overrides
        return server

    yield make
    for server in started:
        server.stop()


def _query(location: str) -> dict:
    return {key: values[0] for key, values in parse_qs(urlsplit(location).query).items()}


def _setup(acme, stand_in, kind: str):
    """The provider as an admin sets it up, and its stand-in."""
    client_id = {"apple": "com.example.signin", "facebook": "1234567890"}.get(
        kind, "li-" + uuid.uuid4().hex[:8]
    )
    if kind == "apple":
        pem, public_key = apple_private_key()
        provider = create_provider(
            acme, kind="apple", name="Apple", client_id=client_id, secret=pem,
            apple_team_id=TEAM_ID, apple_key_id=KEY_ID, trust_verified_email=True,
        )  # fmt: skip
        server = stand_in(client_id)
        server.apple = {"team_id": TEAM_ID, "key_id": KEY_ID, "public_key": public_key}
        return provider, server
    secret = "secret-" + uuid.uuid4().hex
    provider = create_provider(
        acme, kind=kind, name=kind.title(), client_id=client_id, secret=secret,
        trust_verified_email=kind == "linkedin",
    )  # fmt: skip
    return provider, stand_in(client_id, secret)


LOGIN_URL = {
    "apple": "/accounts/apple/login/",
    "facebook": "/accounts/facebook/login/",
    "linkedin": "/accounts/oidc/linkedin/login/",
}
CALLBACK = {
    "apple": "/accounts/apple/login/callback/",
    "facebook": "/accounts/facebook/login/callback/",
    "linkedin": "/accounts/oidc/linkedin/login/callback/",
}


def _press_button(client, kind: str):
    page = client.get("/accounts/login/?next=/account/").content.decode()
    assert f'action="{LOGIN_URL[kind]}"' in page
    assert f"idp-button--{kind}" in page  # branded
    response = client.post(LOGIN_URL[kind], {"process": "login", "next": "/account/"})
    assert response.status_code == 302, response.content[:300]
    return page, response["Location"]


@pytest.mark.parametrize(
    ("kind", "endpoint", "scopes", "pkce", "nonce"),
    [
        ("apple", "https://appleid.apple.com/auth/authorize", {"name", "email"}, False, True),
        ("facebook", "https://www.facebook.com/", {"email", "public_profile"}, True, False),
        ("linkedin", "https://www.linkedin.com/oauth/v2/authorization",
         {"openid", "profile", "email"}, False, True),
    ],
    ids=["apple", "facebook", "linkedin"],
)  # fmt: skip
def test_the_button_sends_the_person_to_the_provider(
    acme, stand_in, kind, endpoint, scopes, pkce, nonce
):
    provider, _server = _setup(acme, stand_in, kind)
    client = acme.client()
    page, location = _press_button(client, kind)

    assert location.startswith(endpoint)
    query = _query(location)
    assert query["client_id"] == provider.client_id
    assert query["redirect_uri"] == f"http://{acme.host}{CALLBACK[kind]}"
    assert set(query["scope"].replace(",", " ").split()) == scopes
    assert len(query["state"]) >= 12
    # PKCE where the provider takes it from a web app (Facebook); Apple and LinkedIn do not.
    assert ("code_challenge" in query) is pkce
    if pkce:
        assert query["code_challenge_method"] == "S256" and len(query["code_challenge"]) == 43
    # A nonce where an ID token comes back (Apple, LinkedIn).
    assert (len(query.get("nonce", "")) >= 22) is nonce
    if kind == "apple":
        assert query["response_mode"] == "form_post"
    # The sign-in page's policy lets its form's redirect go there.
    form_action = next(p for p in page_csp(client).split(";") if "form-action" in p)
    assert "https://" + urlsplit(endpoint).hostname in form_action.split()


def page_csp(client) -> str:
    return client.get("/accounts/login/?next=/account/")["Content-Security-Policy"]


def _callback(client, kind: str, code: str, state: str, user_json: str = ""):
    """The provider's answer coming back, as the browser brings it; the page it ends on."""
    if kind == "apple":
        # Apple posts it (form_post), cross-site; allauth's callback redirects to its finish.
        posted = client.post(CALLBACK[kind], {"code": code, "state": state, "user": user_json})
        assert posted.status_code == 302
        response = client.get(posted["Location"])
    else:
        response = client.get(CALLBACK[kind], {"code": code, "state": state})
    return response


@pytest.mark.parametrize("kind", ["apple", "facebook", "linkedin"])
def test_the_callback_signs_the_person_in_through_the_providers_endpoints(acme, stand_in, kind):
    provider, server = _setup(acme, stand_in, kind)
    client = acme.client()
    _page, location = _press_button(client, kind)
    query = _query(location)
    code = server.authorize(query)
    name = json.dumps({"name": {"firstName": "Ada", "lastName": "Lovelace"}})

    response = _callback(client, kind, code, query["state"], name)

    assert response.status_code == 200, response.content[:500]
    assert server.problems == []
    landing = html.unescape(REFRESH.search(response.content.decode()).group(1))
    if kind == "facebook":
        # Facebook does not say whether the email is verified: the new account confirms it
        # by email first, as any sign-up does.
        assert landing == "/accounts/confirm-email/"
    else:
        assert landing == "/account/"
        assert client.get("/account/").status_code == 200
    with tenant_context(acme.tenant):
        account = SocialAccount.objects.get(provider=provider.slug, uid=server.person["sub"])
        assert account.user.email == server.person["email"]
        assert (account.user.first_name, account.user.last_name) == ("Ada", "Lovelace")
        # No upstream token is kept (Apple's user data carries its token response).
        stored = json.dumps(account.extra_data)
        assert "access_token" not in stored and "refresh_token" not in stored
    hosts = {host for host, _path, _form in server.requests}
    assert hosts  # the provider's fixed hosts were reached (on loopback)
    if kind != "facebook":
        row = log_rows(acme, idp=provider.slug, result="success")[-1]
        assert row.idp_subject == server.person["sub"]


@pytest.mark.parametrize("kind", ["apple", "linkedin"])
def test_a_returning_person_signs_in_to_the_linked_account_keeping_no_token(acme, stand_in, kind):
    provider, server = _setup(acme, stand_in, kind)
    name = json.dumps({"name": {"firstName": "Ada", "lastName": "Lovelace"}})
    for _visit in range(2):
        client = acme.client()
        _page, location = _press_button(client, kind)
        query = _query(location)
        response = _callback(client, kind, server.authorize(query), query["state"], name)
        landing = html.unescape(REFRESH.search(response.content.decode()).group(1))
        assert landing == "/account/"
        assert server.person["email"] in client.get("/account/").content.decode()
    with tenant_context(acme.tenant):
        account = SocialAccount.objects.get(provider=provider.slug, uid=server.person["sub"])
        assert account.user.socialaccount_set.count() == 1
        stored = json.dumps(account.extra_data)
        assert "access_token" not in stored and "refresh_token" not in stored
    assert len(log_rows(acme, idp=provider.slug, result="success")) == 2


@pytest.mark.parametrize("kind", ["apple", "linkedin"])
def test_an_id_token_with_another_nonce_signs_nobody_in(acme, stand_in, kind):
    provider, server = _setup(acme, stand_in, kind)
    client = acme.client()
    _page, location = _press_button(client, kind)
    query = _query(location)
    code = server.authorize({**query, "nonce": "a-nonce-of-another-request-0123456789"})

    response = _callback(client, kind, code, query["state"])

    assert (
        response.status_code != 200
        or "Sign-in failed" in response.content.decode()
        or ("Third-Party Login Failure" in response.content.decode())
    )
    with tenant_context(acme.tenant):
        assert not SocialAccount.objects.filter(
            provider=provider.slug, uid=server.person["sub"]
        ).exists()
    failure = log_rows(acme, idp=provider.slug, result="failure")[-1]
    assert "NonceMismatch" in failure.upstream_error


def test_facebook_is_sent_the_pkce_verifier_with_its_get_token_request(acme, stand_in):
    """allauth sends the verifier only in a POST body; Facebook's token request is a GET."""
    _provider, server = _setup(acme, stand_in, "facebook")
    client = acme.client()
    _page, location = _press_button(client, "facebook")
    query = _query(location)
    code = server.authorize(query)

    _callback(client, "facebook", code, query["state"])

    token_calls = [form for host, path, form in server.requests if path.endswith("access_token")]
    assert token_calls and token_calls[-1].get("code_verifier")
    assert server.problems == []


def test_console_forms_ask_each_provider_for_what_it_needs(acme):
    from tests.helpers import make_user

    admin = acme.client(make_user(acme, admin_roles=["security_administrator"]))
    apple = admin.get("/console/identity-providers/new/apple/").content.decode()
    for label in ("Services ID", "Team ID", "Key ID", "Private key"):
        assert label in apple
    facebook = admin.get("/console/identity-providers/new/facebook/").content.decode()
    assert "App ID" in facebook and "App secret" in facebook
    assert "trust_verified_email" not in facebook  # Facebook says nothing of verification
    linkedin = admin.get("/console/identity-providers/new/linkedin/").content.decode()
    assert "discovery_url" not in linkedin  # LinkedIn's is fixed

    pem, _public = apple_private_key()
    bad = admin.post(
        "/console/identity-providers/new/apple/",
        {"name": "Apple", "client_id": "com.example.signin", "apple_team_id": "short",
         "apple_key_id": KEY_ID, "client_secret": "not a key", "enabled": "on"},
    )  # fmt: skip
    assert bad.status_code == 400
    text = bad.content.decode()
    assert "10 letters and digits" in text and "com.example.signin" in text
    saved = admin.post(
        "/console/identity-providers/new/apple/",
        {"name": "Apple", "client_id": "com.example.signin", "apple_team_id": TEAM_ID,
         "apple_key_id": KEY_ID, "client_secret": pem, "enabled": "on", "show_on_sign_in": "on"},
    )  # fmt: skip
    assert saved.status_code == 303, saved.content.decode()[:2000]
    detail = admin.get(saved["Location"]).content.decode()
    assert f"http://{acme.host}/accounts/apple/login/callback/" in detail
    assert "PRIVATE KEY" not in detail
    with tenant_context(acme.tenant):
        from federation.models import IdentityProvider

        stored = IdentityProvider.objects.get(kind="apple")
        assert "PRIVATE KEY" not in stored.client_secret_sealed  # sealed at rest
