"""Against the real server: Authlib (an independent client) gets `roles` from the user's own
and their group's assignments in verified tokens, and loses the group's at refresh once the
user leaves the group; in headless Chromium, with the Content Security Policy the server
sends, a user an app does not let in (assignment required) sees a clear page, and the
sign-in log has the row."""

from __future__ import annotations

import uuid
from urllib.parse import urlencode

import pytest
import requests
from authlib.integrations.requests_client import OAuth2Session
from django_tenants.utils import tenant_context
from joserfc import jwt as jose_jwt
from joserfc.jwk import KeySet

from audit.models import SignInEvent
from groups import services
from tests.browser import AXE, in_own_thread
from tests.groups.helpers import app_settings, make_group, make_role, make_user
from tests.helpers import PASSWORD, eventually
from tests.oidc.helpers import jwt_parts, pkce_pair, register_app
from tests.oidc.interop import https_gunicorn, sign_in_at, tenant_hosts_resolve_to_loopback
from tests.server import free_port, start_gunicorn, stop

pytestmark = [pytest.mark.server]

REDIRECT_URI = "http://127.0.0.1:8765/callback"


@pytest.fixture(scope="module")
def https_provider(worlds, subprocess_env, django_db_blocker, tmp_path_factory):
    """The real server (HTTPS, for Authlib) and, committed in acme, an app requiring
    assignment whose roles go to a user and to a group."""
    acme = worlds["acme"]
    suffix = uuid.uuid4().hex[:8]
    with django_db_blocker.unblock():
        app = register_app(acme, name=f"Groups interop {suffix}", redirect_uri=REDIRECT_URI)
        user = make_user(acme)
        team = make_group(acme, name=f"Interop team {suffix}", members=[user])
        make_role(acme, app.application, "reader", users=[user])
        make_role(acme, app.application, "approver", groups=[team])
        app_settings(acme, app.application, assignment_required=True, groups_claim=True)
    port = free_port()
    with (
        tenant_hosts_resolve_to_loopback(),
        https_gunicorn(subprocess_env, port, [acme.host], tmp_path_factory.mktemp("tls")) as ca,
    ):
        yield {"acme": acme, "app": app, "user": user, "team": team, "ca": ca,
               "issuer": f"https://{acme.host}:{port}/o"}  # fmt: skip


def _session(provider) -> requests.Session:
    session = requests.Session()
    session.trust_env = False
    session.verify = provider["ca"]
    return session


def test_authlib_gets_roles_from_direct_and_group_assignments(https_provider, committed):
    provider = https_provider
    app, issuer, user = provider["app"], provider["issuer"], provider["user"]
    metadata = _session(provider).get(issuer + "/.well-known/openid-configuration").json()
    assert "groups" in metadata["claims_supported"]
    client = OAuth2Session(
        app.client_id, app.secret, scope="openid email offline_access",
        redirect_uri=REDIRECT_URI, code_challenge_method="S256",
    )  # fmt: skip
    client.trust_env = False
    client.verify = provider["ca"]
    verifier, nonce = uuid.uuid4().hex * 2, uuid.uuid4().hex
    url, state = client.create_authorization_url(
        metadata["authorization_endpoint"], code_verifier=verifier, nonce=nonce
    )
    callback = sign_in_at(
        _session(provider), url, email=user.email, password=PASSWORD, redirect_uri=REDIRECT_URI
    )
    token = client.fetch_token(
        metadata["token_endpoint"], authorization_response=callback, code_verifier=verifier,
        state=state,
    )  # fmt: skip
    keys = KeySet.import_key_set(_session(provider).get(metadata["jwks_uri"]).json())
    claims = jose_jwt.decode(token["id_token"], keys, algorithms=["RS256"]).claims
    jose_jwt.JWTClaimsRegistry(
        iss={"essential": True, "value": issuer},
        aud={"essential": True, "value": app.client_id},
        nonce={"essential": True, "value": nonce},
    ).validate(claims)
    assert claims["roles"] == ["approver", "reader"]
    assert claims["groups"] == [str(provider["team"].public_id)]
    access = jose_jwt.decode(token["access_token"], keys, algorithms=["RS256"]).claims
    assert access["roles"] == ["approver", "reader"]

    with tenant_context(provider["acme"].tenant):
        services.group_member_remove(
            actor=provider["acme"].admin, group=provider["team"], user=user
        )
    refreshed = client.refresh_token(metadata["token_endpoint"], token["refresh_token"])
    assert jwt_parts(refreshed["access_token"])[1]["roles"] == ["reader"]
    assert jwt_parts(refreshed["id_token"])[1]["groups"] == []


@pytest.fixture(scope="module")
def http_server(worlds, subprocess_env):
    port = free_port()
    process = start_gunicorn(subprocess_env, port)
    yield port
    stop(process)


@pytest.mark.browser
def test_an_unassigned_user_sees_a_clear_page_and_the_log_has_the_row(
    worlds, committed, http_server
):
    acme = worlds["acme"]
    app = register_app(acme, name=f"Assigned only {uuid.uuid4().hex[:6]}",
                       redirect_uri="http://127.0.0.1:9/callback")  # fmt: skip
    make_role(acme, app.application, "employee")
    app_settings(acme, app.application, assignment_required=True)
    user = make_user(acme)
    _verifier, challenge = pkce_pair()
    query = urlencode({
        "response_type": "code", "client_id": app.client_id, "redirect_uri": app.redirect_uri,
        "scope": "openid", "state": "s", "code_challenge": challenge,
        "code_challenge_method": "S256",
    })  # fmt: skip
    base = f"http://{acme.host}:{http_server}"
    seen: dict = {}

    def scenario(page) -> None:
        violations: list[str] = []
        page.on(
            "console",
            lambda message: (
                violations.append(message.text)
                if "Content Security Policy" in message.text
                else None
            ),
        )
        page.goto(f"{base}/o/authorize/?{query}")
        page.wait_for_url("**/accounts/login/**")
        page.get_by_label("Email").fill(user.email)
        page.get_by_label("Password").fill(PASSWORD)
        with page.expect_response(lambda response: "/o/authorize/" in response.url) as answer:
            page.get_by_role("button", name="Sign in", exact=True).click()
        heading = page.get_by_role("heading", name="You don't have access to this app")
        heading.wait_for()
        seen["status"] = answer.value.status
        seen["csp"] = answer.value.headers.get("content-security-policy", "")
        seen["text"] = page.locator("main").inner_text()
        seen["fits"] = page.evaluate("document.documentElement.scrollWidth <= innerWidth")
        page.set_viewport_size({"width": 375, "height": 700})
        seen["fits_phone"] = page.evaluate("document.documentElement.scrollWidth <= innerWidth")
        page.evaluate(AXE.read_text())
        result = page.evaluate("async () => await axe.run(document)")
        seen["axe"] = [
            violation["id"]
            for violation in result["violations"]
            if violation["impact"] in ("serious", "critical")
        ]
        seen["violations"] = violations
        seen["url"] = page.url

    in_own_thread(scenario)
    assert seen["status"] == 403
    assert "script-src" in seen["csp"] and "unsafe-inline" not in seen["csp"]
    assert seen["violations"] == []
    assert f"You are signed in as {user.email}" in seen["text"]
    assert app.application.name in seen["text"]
    assert "Ask your administrator to give you access" in seen["text"]
    assert seen["fits_phone"] and seen["axe"] == []
    assert "code=" not in seen["url"]

    def logged():
        with tenant_context(acme.tenant):
            return SignInEvent.objects.filter(
                user=user, app_id=app.client_id, failure_reason="not_assigned"
            ).first()

    row = eventually(logged, message="the sign-in log row")
    assert row.result == "failure" and row.app_name == app.application.name


@pytest.mark.browser
def test_the_groups_pages_are_accessible_and_fit_a_phone(worlds, committed, http_server):
    acme = worlds["acme"]
    marker = uuid.uuid4().hex[:8]
    admin = make_user(acme, email=f"groups-admin-{marker}@example.org",
                      admin_roles=["user_administrator"])  # fmt: skip
    member = make_user(acme, email=f"a-rather-long-mailbox-name-{marker}@subdomain.example.org")
    group = make_group(
        acme, name=f"Northern region field sales team {marker}",
        description="Everyone selling in the north " * 5, members=[member],
    )  # fmt: skip
    base = f"http://{acme.host}:{http_server}"
    paths = ["/console/groups/", f"/console/groups/{group.public_id}/", "/console/groups/new/",
             f"/console/users/{member.public_id}/"]  # fmt: skip
    found: dict = {}

    def scenario(page) -> None:
        page.goto(f"{base}/console/groups/")
        page.wait_for_url("**/accounts/login/**")
        page.get_by_label("Email").fill(admin.email)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in", exact=True).click()
        page.get_by_role("heading", name="Groups", exact=True).wait_for()
        page.evaluate(AXE.read_text())
        for width in (390, 1366):
            page.set_viewport_size({"width": width, "height": 800})
            for path in paths:
                page.goto(base + path)
                page.locator("h1").wait_for()
                if not page.evaluate("typeof window.axe !== 'undefined'"):
                    page.evaluate(AXE.read_text())
                result = page.evaluate("async () => await axe.run(document)")
                found[(width, path)] = (
                    page.evaluate("document.documentElement.scrollWidth <= innerWidth"),
                    [v["id"] for v in result["violations"]
                     if v["impact"] in ("serious", "critical")],
                    page.locator("main").inner_text(),
                )  # fmt: skip

    in_own_thread(scenario)
    for (width, path), (fits, violations, _text) in found.items():
        assert fits, (width, path)
        assert violations == [], (width, path, violations)
    assert member.email in found[(390, f"/console/groups/{group.public_id}/")][2]
    assert group.display_name in found[(390, f"/console/users/{member.public_id}/")][2]
