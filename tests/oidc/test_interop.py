"""Independent clients against the real server over HTTPS: Authlib, MSAL Python and node
openid-client complete authorization code + PKCE (sign-in through the hosted pages by
scripted form posts), client credentials and refresh."""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import shutil
import subprocess
import time
import uuid
from html import unescape
from pathlib import Path
from unittest import mock
from urllib.parse import parse_qsl, urlsplit

import msal
import pytest
import requests
from authlib.integrations.requests_client import OAuth2Session
from django_tenants.utils import tenant_context
from joserfc import jwt as jose_jwt
from joserfc.jwk import KeySet

from tests.helpers import PASSWORD
from tests.mfa.helpers import code_for, make_user, with_authenticator
from tests.oidc.helpers import jwt_parts, register_app
from tests.oidc.interop import https_gunicorn, sign_in_at, tenant_hosts_resolve_to_loopback
from tests.server import free_port

pytestmark = [pytest.mark.server, pytest.mark.slow]

NODE_DIR = Path(__file__).parent / "node"
REDIRECT_URI = "http://127.0.0.1:8765/callback"


@pytest.fixture(scope="module")
def provider(worlds, subprocess_env, django_db_blocker, tmp_path_factory):
    """The real server (HTTPS) and, committed in acme, a web app and a daemon app."""
    acme = worlds["acme"]
    suffix = uuid.uuid4().hex[:8]
    with django_db_blocker.unblock():
        web = register_app(acme, name=f"Interop web {suffix}", redirect_uri=REDIRECT_URI)
        daemon = register_app(
            acme, app_type="daemon", name=f"Interop daemon {suffix}",
            permissions=["User.Invite.All"],
        )  # fmt: skip
    port = free_port()
    with (
        tenant_hosts_resolve_to_loopback(),
        https_gunicorn(subprocess_env, port, [acme.host], tmp_path_factory.mktemp("tls")) as ca,
    ):
        yield {
            "acme": acme,
            "web": web,
            "daemon": daemon,
            "ca": ca,
            "issuer": f"https://{acme.host}:{port}/o",
        }


def https_session(provider) -> requests.Session:
    session = requests.Session()
    session.trust_env = False  # REQUESTS_CA_BUNDLE in the environment would replace our CA
    session.verify = provider["ca"]
    return session


def test_discovery_issuer_is_the_https_authority(provider):
    data = https_session(provider).get(provider["issuer"] + "/.well-known/openid-configuration")
    assert data.json()["issuer"] == provider["issuer"]


def authlib_sign_in(
    provider, *, email: str, second_factor=None
) -> tuple[OAuth2Session, dict, dict]:
    """Authorization code + PKCE with Authlib, the sign-in scripted through the hosted pages;
    the client, the token response and the ID token's claims (signature, issuer, audience,
    nonce and expiry verified)."""
    web, issuer = provider["web"], provider["issuer"]
    metadata = https_session(provider).get(issuer + "/.well-known/openid-configuration").json()
    client = OAuth2Session(
        web.client_id, web.secret, scope="openid email offline_access",
        redirect_uri=REDIRECT_URI, code_challenge_method="S256",
    )  # fmt: skip
    client.trust_env = False
    client.verify = provider["ca"]
    client.metadata["token_endpoint"] = metadata["token_endpoint"]
    verifier = uuid.uuid4().hex + uuid.uuid4().hex
    nonce = uuid.uuid4().hex
    url, state = client.create_authorization_url(
        metadata["authorization_endpoint"], code_verifier=verifier, nonce=nonce
    )
    callback = sign_in_at(
        https_session(provider), url, email=email, password=PASSWORD, redirect_uri=REDIRECT_URI,
        second_factor=second_factor,
    )  # fmt: skip
    token = client.fetch_token(
        metadata["token_endpoint"], authorization_response=callback, code_verifier=verifier,
        state=state,
    )  # fmt: skip
    keys = KeySet.import_key_set(https_session(provider).get(metadata["jwks_uri"]).json())
    decoded = jose_jwt.decode(token["id_token"], keys, algorithms=["RS256"])
    jose_jwt.JWTClaimsRegistry(
        iss={"essential": True, "value": issuer},
        aud={"essential": True, "value": web.client_id},
        nonce={"essential": True, "value": nonce},
        exp={"essential": True},
    ).validate(decoded.claims)
    return client, token, decoded.claims


def test_authlib_code_pkce_id_token_and_refresh(provider):
    """A member without a second factor is not asked for one (sign_in_at would fail)."""
    acme = provider["acme"]
    client, token, claims = authlib_sign_in(provider, email=acme.member.email)
    assert claims["sub"] == str(acme.member.public_id)
    refreshed = client.refresh_token(client.metadata["token_endpoint"], token["refresh_token"])
    assert refreshed["refresh_token"] != token["refresh_token"]
    assert jwt_parts(refreshed["access_token"])[1]["sub"] == str(acme.member.public_id)


def test_authlib_sign_in_with_an_authenticator_app_code(provider, committed):
    """A member with an authenticator app types its code after the password (computed as the
    app does, from the device's key), and Authlib completes the sign-in."""
    acme = provider["acme"]
    user = make_user(acme)
    device = with_authenticator(acme, user)
    # The server's processes learn that acme now has an authenticator app within a second
    # (mfa.selectors.tenant_mfa, a ProcessCache checked at most once a second).
    time.sleep(1.1)
    codes_typed = []

    def app_code() -> str:
        codes_typed.append(code_for(device))
        return codes_typed[-1]

    _client, _token, claims = authlib_sign_in(provider, email=user.email, second_factor=app_code)
    assert claims["sub"] == str(user.public_id)
    assert len(codes_typed) == 1
    with tenant_context(acme.tenant):
        device.refresh_from_db()
    assert device.last_used_at is not None


def test_authlib_client_credentials(provider):
    daemon = provider["daemon"]
    client = OAuth2Session(daemon.client_id, daemon.secret)
    client.trust_env = False
    client.verify = provider["ca"]
    token = client.fetch_token(provider["issuer"] + "/token/", grant_type="client_credentials")
    assert jwt_parts(token["access_token"])[1]["roles"] == ["User.Invite.All"]


def test_token_endpoint_is_served_without_the_browser_middleware(provider):
    """Token calls skip sessions, CSRF, locale and allauth (ciam.handlers) but keep the
    security headers and the request id; hosted pages keep the full stack."""
    daemon, session = provider["daemon"], https_session(provider)
    answer = session.post(
        provider["issuer"] + "/token/",
        data={"grant_type": "client_credentials"},
        auth=(daemon.client_id, daemon.secret),
    )
    assert answer.status_code == 200, answer.text
    assert answer.headers["X-Content-Type-Options"] == "nosniff"
    assert answer.headers["X-Request-ID"] and "Set-Cookie" not in answer.headers
    assert "Content-Language" not in answer.headers  # no LocaleMiddleware: the API stack
    page = session.get(provider["issuer"].removesuffix("/o") + "/accounts/login/")
    assert page.status_code == 200 and page.headers["Content-Language"] == "en"
    assert "csrftoken" in page.cookies


QUICKSTART = re.compile(
    r'<h3 class="h6" id="quickstart-[^"]+">([^<]+)</h3>\s*<pre[^>]*><code>(.*?)</code></pre>', re.S
)


def quickstart(provider, app) -> dict[str, str]:
    """The app's quickstart snippets as its admin reads them on the console of the real
    server, by heading."""
    session = https_session(provider)
    page_url = f"{provider['issuer'].removesuffix('/o')}/console/apps/{app.application.public_id}/"
    acme = provider["acme"]
    signed_in = sign_in_at(
        session, page_url, email=acme.admin.email, password=PASSWORD, redirect_uri=page_url
    )
    page = session.get(signed_in)
    assert page.status_code == 200
    return {name: unescape(code) for name, code in QUICKSTART.findall(page.text)}


def run_snippet(code: str, provider, registered, namespace=None) -> tuple[str, dict]:
    """Run a snippet as pasted (in `namespace`, given), with the app's secret in place of the
    placeholder, trusting the test CA; returns what it printed and its variables."""
    if registered.secret:
        code = code.replace("<client secret>", registered.secret)
    namespace = {} if namespace is None else namespace
    printed = io.StringIO()
    environment = {"REQUESTS_CA_BUNDLE": provider["ca"], "NO_PROXY": ".localhost,127.0.0.1",
                   "no_proxy": ".localhost,127.0.0.1"}  # fmt: skip
    with mock.patch.dict(os.environ, environment), contextlib.redirect_stdout(printed):
        exec(compile(code, "quickstart", "exec"), namespace)  # noqa: S102 (our page's snippet)
    return printed.getvalue().strip(), namespace


def test_daemon_quickstart_snippets_get_an_app_token_as_pasted(provider):
    daemon = provider["daemon"]
    snippets = quickstart(provider, daemon)
    assert set(snippets) == {"MSAL Python", "Authlib"}
    for name, code in snippets.items():
        assert "<client secret>" in code  # the secret itself is never on the page
        printed, _ = run_snippet(code, provider, daemon)
        claims = jwt_parts(printed)[1]
        assert claims["roles"] == ["User.Invite.All"], name
        assert claims["iss"] == provider["issuer"], name


@pytest.mark.parametrize("app_type", ["web", "native"])
def test_quickstart_snippets_sign_a_user_in_as_pasted(provider, app_type, committed):
    """Each snippet runs to its comment, the user signs in where it sends them, and the rest
    runs with what the redirect URI received: with the secret (web) and without (native)."""
    acme = provider["acme"]
    app = provider["web"] if app_type == "web" else register_app(
        acme, app_type="native", name=f"Interop native {uuid.uuid4().hex[:8]}",
        redirect_uri=REDIRECT_URI,
    )  # fmt: skip
    snippets = quickstart(provider, app)
    assert set(snippets) == {"MSAL Python", "Authlib"}
    assert ("<client secret>" in snippets["Authlib"]) == (app_type == "web")
    for name, sign_in_url in (("MSAL Python", 'flow["auth_uri"]'), ("Authlib", "uri")):
        before, after = snippets[name].split("# Send the user to")
        _, namespace = run_snippet(before, provider, app)
        callback = sign_in_at(
            https_session(provider), eval(sign_in_url, namespace),  # noqa: S307
            email=acme.member.email, password=PASSWORD, redirect_uri=REDIRECT_URI,
        )  # fmt: skip
        namespace.update(
            auth_response=dict(parse_qsl(urlsplit(callback).query)), callback_url=callback
        )
        printed, _ = run_snippet("# Send the user to" + after, provider, app, namespace)
        if name == "MSAL Python":
            assert printed == str(acme.member.public_id)
        else:
            claims = jwt_parts(printed)[1]
            assert claims["sub"] == str(acme.member.public_id)
            assert claims["aud"] == app.client_id and claims["nonce"] == namespace["nonce"]
            # The app stays signed in: its snippet asks for a refresh token, and gets one.
            assert namespace["token"]["refresh_token"]


def test_single_page_app_quickstart_is_msal_browser_with_this_authority(provider, committed):
    spa = register_app(
        provider["acme"], app_type="spa", name=f"Interop SPA {uuid.uuid4().hex[:8]}",
        redirect_uri="https://spa.example/",
    )  # fmt: skip
    (snippet,) = quickstart(provider, spa).values()
    assert 'from "@azure/msal-browser"' in snippet
    assert f'clientId: "{spa.client_id}"' in snippet
    assert f'authority: "{provider["issuer"]}"' in snippet
    assert f'knownAuthorities: ["{urlsplit(provider["issuer"]).netloc}"]' in snippet
    assert 'redirectUri: "https://spa.example/"' in snippet
    assert "secret" not in snippet


def test_msal_python_code_pkce_refresh_and_client_credentials(provider):
    web, daemon, acme, issuer = (provider[k] for k in ("web", "daemon", "acme", "issuer"))
    app = msal.ConfidentialClientApplication(
        web.client_id, client_credential=web.secret, oidc_authority=issuer,
        http_client=https_session(provider),
    )  # fmt: skip
    flow = app.initiate_auth_code_flow(["email"], redirect_uri=REDIRECT_URI)
    callback = sign_in_at(
        https_session(provider), flow["auth_uri"], email=acme.member.email, password=PASSWORD,
        redirect_uri=REDIRECT_URI,
    )  # fmt: skip
    from urllib.parse import parse_qsl, urlsplit

    result = app.acquire_token_by_auth_code_flow(flow, dict(parse_qsl(urlsplit(callback).query)))
    assert "access_token" in result, result
    assert result["id_token_claims"]["iss"] == issuer
    assert result["id_token_claims"]["sub"] == str(acme.member.public_id)
    account = app.get_accounts()[0]
    refreshed = app.acquire_token_silent_with_error(["email"], account, force_refresh=True)
    assert refreshed and "access_token" in refreshed, refreshed
    assert refreshed["access_token"] != result["access_token"]
    service = msal.ConfidentialClientApplication(
        daemon.client_id, client_credential=daemon.secret, oidc_authority=issuer,
        http_client=https_session(provider),
    )  # fmt: skip
    app_token = service.acquire_token_for_client([f"{issuer}/api/.default"])
    assert "access_token" in app_token, app_token
    assert jwt_parts(app_token["access_token"])[1]["roles"] == ["User.Invite.All"]


def _npm_ready() -> None:
    if not (NODE_DIR / "node_modules" / "openid-client").exists():
        subprocess.run(
            [shutil.which("npm") or "npm", "ci", "--no-audit", "--no-fund"],
            cwd=NODE_DIR, check=True, capture_output=True, timeout=300,
        )  # fmt: skip


def test_node_openid_client_code_pkce_refresh_and_client_credentials(provider, committed):
    _npm_ready()
    web, daemon, acme, issuer = (provider[k] for k in ("web", "daemon", "acme", "issuer"))
    process = subprocess.Popen(
        ["node", "interop.mjs"],
        cwd=NODE_DIR,
        env={
            "PATH": "/usr/local/bin:/usr/bin:/bin",
            "ISSUER": issuer, "CA_FILE": provider["ca"], "REDIRECT_URI": REDIRECT_URI,
            "CLIENT_ID": web.client_id, "CLIENT_SECRET": web.secret,
            "DAEMON_ID": daemon.client_id, "DAEMON_SECRET": daemon.secret,
            "API_SCOPE": f"{issuer}/api/.default",
        },
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        first = process.stdout.readline()
        assert first, process.stderr.read()
        auth_url = json.loads(first)["auth_url"]
        callback = sign_in_at(
            https_session(provider), auth_url, email=acme.member.email, password=PASSWORD,
            redirect_uri=REDIRECT_URI,
        )  # fmt: skip
        process.stdin.write(callback + "\n")
        process.stdin.flush()
        result_line = process.stdout.readline()
        assert result_line, process.stderr.read()
        result = json.loads(result_line)
    finally:
        process.kill()
        process.wait()
    assert result["id_claims"]["iss"] == issuer
    assert result["id_claims"]["aud"] == web.client_id
    assert result["id_claims"]["sub"] == str(acme.member.public_id)
    assert result["refresh_rotated"] is True
    assert jwt_parts(result["refreshed_access_token"])[1]["sub"] == str(acme.member.public_id)
    assert jwt_parts(result["app_access_token"])[1]["roles"] == ["User.Invite.All"]
    with tenant_context(acme.tenant):
        from audit.models import SignInEvent

        grants = set(
            SignInEvent.objects.filter(app_id=web.client_id, result="success").values_list(
                "grant", flat=True
            )
        )
    assert {"authorization_code", "refresh_token"} <= grants


def _node_reads_the_error(provider, app, extra: dict, browse) -> dict:
    """Run node/errors.mjs for `app`; `browse(auth_url)` returns the callback URL."""
    _npm_ready()
    process = subprocess.Popen(
        ["node", "errors.mjs"],
        cwd=NODE_DIR,
        env={
            "PATH": "/usr/local/bin:/usr/bin:/bin", "ISSUER": provider["issuer"],
            "CA_FILE": provider["ca"], "REDIRECT_URI": REDIRECT_URI,
            "CLIENT_ID": app.client_id, "CLIENT_SECRET": app.secret, "EXTRA": json.dumps(extra),
        },
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        first = process.stdout.readline()
        assert first, process.stderr.read()
        process.stdin.write(browse(json.loads(first)["auth_url"]) + "\n")
        process.stdin.flush()
        result = process.stdout.readline()
        assert result, process.stderr.read()
        return json.loads(result)
    finally:
        process.kill()
        process.wait()


def test_node_openid_client_reads_login_required_from_a_silent_sign_in(provider):
    def browse(auth_url: str) -> str:
        answer = https_session(provider).get(auth_url, allow_redirects=False)
        return answer.headers["Location"]

    result = _node_reads_the_error(provider, provider["web"], {"prompt": "none"}, browse)
    assert result["error"] == "login_required", result


def test_node_openid_client_reads_access_denied_from_a_cancelled_consent(provider, committed):
    acme = provider["acme"]
    partner = register_app(
        acme, first_party=False, name=f"Interop partner {uuid.uuid4().hex[:6]}",
        redirect_uri=REDIRECT_URI,
    )  # fmt: skip

    def browse(auth_url: str) -> str:
        session = https_session(provider)
        consent = sign_in_until_page(session, auth_url, acme.member.email)
        fields = dict(re.findall(r'type="hidden" name="([^"]+)" value="([^"]*)"', consent.text))
        cancelled = session.post(
            consent.url, data={name: unescape(value) for name, value in fields.items()},
            headers={"Referer": consent.url}, allow_redirects=False,
        )  # fmt: skip
        return cancelled.headers["Location"]

    result = _node_reads_the_error(provider, partner, {}, browse)
    assert result["error"] == "access_denied", result


def sign_in_until_page(session: requests.Session, auth_url: str, email: str):
    """Sign in on the hosted page and follow the redirects to the next page (consent)."""
    login = session.get(auth_url)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', login.text).group(1)
    return session.post(
        login.url,
        data={"csrfmiddlewaretoken": unescape(token), "login": email, "password": PASSWORD},
        headers={"Referer": login.url},
    )


def test_authlib_completes_the_form_post_response_mode(provider):
    web, acme, issuer = provider["web"], provider["acme"], provider["issuer"]
    metadata = https_session(provider).get(issuer + "/.well-known/openid-configuration").json()
    assert "form_post" in metadata["response_modes_supported"]
    client = OAuth2Session(
        web.client_id, web.secret, scope="openid email", redirect_uri=REDIRECT_URI,
        code_challenge_method="S256",
    )  # fmt: skip
    client.trust_env = False
    client.verify = provider["ca"]
    verifier = uuid.uuid4().hex + uuid.uuid4().hex
    url, state = client.create_authorization_url(
        metadata["authorization_endpoint"], code_verifier=verifier, response_mode="form_post"
    )
    page = sign_in_until_page(https_session(provider), url, acme.member.email)
    # The answer is a form that posts to the app; the app reads it from the POST body.
    assert f'action="{REDIRECT_URI}"' in page.text
    posted = {
        name: unescape(value)
        for name, value in re.findall(r'type="hidden" name="([^"]+)" value="([^"]*)"', page.text)
    }
    assert posted["state"] == state and posted["iss"] == issuer
    token = client.fetch_token(
        metadata["token_endpoint"], code=posted["code"], code_verifier=verifier
    )
    assert jwt_parts(token["id_token"])[1]["aud"] == web.client_id
