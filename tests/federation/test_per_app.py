"""Which identity providers show and may be used: the user flow shows a provider's button
or not, and an app may allow only some providers (console > Identity providers > Per app):
its sign-in page shows only their buttons, home-realm discovery does not lead elsewhere, and
a sign-in for it through another provider is refused."""

from __future__ import annotations

import uuid
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from django.db import connection
from django_tenants.utils import tenant_context

from tests.federation.helpers import CSRF, Browser, base, create_provider, log_rows, signed_in_as
from tests.federation.stand_in_op import StandInOP
from tests.helpers import make_user, unique_email
from tests.oidc.helpers import register_app

LIST = "/console/identity-providers/"


def _authorize(app) -> str:
    return "/o/authorize/?" + urlencode(
        {"client_id": app.client_id, "response_type": "code", "scope": "openid",
         "redirect_uri": "https://app.example/callback"}
    )  # fmt: skip


def _app_allowing_only_another_provider(downstream, op, client_id, secret, name):
    """A provider at `op`, and an app that allows only another provider: (provider, app)."""
    from federation.services import app_identity_providers_set

    provider = create_provider(
        downstream, discovery_url=op.issuer, client_id=client_id, secret=secret,
        trust_verified_email=True,
    )  # fmt: skip
    allowed = create_provider(downstream, name=f"Allowed {uuid.uuid4().hex[:6]}")
    app = register_app(downstream, name=f"{name} {uuid.uuid4().hex[:6]}")
    with tenant_context(downstream.tenant):
        app_identity_providers_set(
            actor=downstream.admin, application=app.application, providers=[allowed]
        )
    connection.close()
    return provider, app


def _sign_in_through(browser, b: str, provider) -> None:
    """Press the provider's button on the sign-in page and follow it there and back."""
    page = browser.go(f"{b}/accounts/login/?{urlencode({'next': '/account/'})}")
    redirect = browser.session.post(
        f"{b}/accounts/oidc/{provider.slug}/login/",
        data={"csrfmiddlewaretoken": CSRF.search(page.text).group(1), "process": "login",
              "next": "/account/"},
        allow_redirects=False, timeout=20,
    )  # fmt: skip
    browser.go(redirect.headers["Location"])


def _sign_in_page(client, next_url: str) -> str:
    return client.get("/accounts/login/", {"next": next_url}).content.decode()


def test_an_app_shows_only_the_providers_it_allows_and_the_flow_can_hide_one(acme):
    from audit.models import AuditEvent
    from federation.services import identity_provider_update

    allowed = create_provider(acme, name=f"Allowed {uuid.uuid4().hex[:6]}")
    other = create_provider(acme, name=f"Other {uuid.uuid4().hex[:6]}")
    hidden = create_provider(acme, name=f"Hidden {uuid.uuid4().hex[:6]}")
    domain = f"h{uuid.uuid4().hex[:8]}.example"
    with tenant_context(acme.tenant):
        identity_provider_update(
            actor=acme.admin, provider=hidden, show_on_sign_in=False, email_domains=[domain]
        )
    app = register_app(acme, name=f"Only allowed {uuid.uuid4().hex[:6]}")
    admin = acme.client(make_user(acme, admin_roles=["security_administrator"]))

    listing = admin.get(f"{LIST}apps/").content.decode()
    assert app.application.name in listing
    saved = admin.post(
        f"{LIST}apps/{app.client_id}/", {"restrict": "on", "identity_providers": [allowed.pk]}
    )
    assert saved.status_code == 303
    with tenant_context(acme.tenant):
        assert AuditEvent.objects.filter(
            action="application.identity_providers",
            after={"identity_providers": [allowed.slug]},
        ).exists()

    visitor = acme.client()
    for_app = _sign_in_page(visitor, _authorize(app))
    assert f"Sign in with {allowed.name}" in for_app
    assert f"Sign in with {other.name}" not in for_app
    plain = _sign_in_page(visitor, "/account/")
    assert f"Sign in with {allowed.name}" in plain and f"Sign in with {other.name}" in plain
    assert f"Sign in with {hidden.name}" not in plain  # the flow hides its button...
    # ...but its domain still leads to it (home-realm discovery), except for an app that
    # does not allow it: that sign-in stays on the page.
    page = visitor.get("/accounts/login/", {"next": "/account/"})
    token = CSRF.search(page.content.decode()).group(1)
    to_hidden = visitor.post(
        "/accounts/login/?next=/account/",
        {"csrfmiddlewaretoken": token, "login": f"ada@{domain}"},
    )
    # It went for the IdP (whose made-up discovery URL cannot be reached: allauth's
    # "sign-in failed" page, 401), where an address without a mapped domain would not.
    assert to_hidden.status_code in (302, 401)
    stays = visitor.post(
        "/accounts/login/?" + urlencode({"next": _authorize(app)}),
        {"csrfmiddlewaretoken": token, "login": f"ada@{domain}"},
    )
    assert stays.status_code == 200

    everything = admin.post(f"{LIST}apps/{app.client_id}/", {"restrict": ""})
    assert everything.status_code == 303
    assert f"Sign in with {other.name}" in _sign_in_page(visitor, _authorize(app))


@pytest.mark.server
def test_a_sign_in_for_an_app_through_a_provider_it_does_not_allow_is_refused(
    running_server, downstream
):
    client_id, secret = f"client-{uuid.uuid4().hex[:8]}", uuid.uuid4().hex
    email = unique_email("app")
    op = StandInOP(client_id, secret, {"sub": "s-1", "email": email, "email_verified": True})
    op.start()
    try:
        provider, app = _app_allowing_only_another_provider(
            downstream, op, client_id, secret, "Strict app"
        )
        port = running_server.port
        b = base(downstream, port)
        browser = Browser()
        page = browser.go(f"{b}/accounts/login/?{urlencode({'next': _authorize(app)})}")
        assert f"Sign in with {provider.name}" not in page.text
        # A crafted request to the other provider's login URL, for the app.
        redirect = browser.session.post(
            f"{b}/accounts/oidc/{provider.slug}/login/",
            data={"csrfmiddlewaretoken": CSRF.search(page.text).group(1), "process": "login",
                  "next": _authorize(app)},
            allow_redirects=False, timeout=20,
        )  # fmt: skip
        refused = browser.go(redirect.headers["Location"])
        assert refused.status_code == 403
        assert "does not allow signing in with" in refused.text
        assert signed_in_as(browser, downstream, port) is None
        rows = log_rows(downstream, idp=provider.slug)
        assert [(row.result, row.app_id) for row in rows] == [("failure", app.client_id)]
    finally:
        op.stop()


@pytest.mark.server
def test_a_session_signed_in_through_a_provider_an_app_does_not_allow_gets_no_code(
    running_server, downstream
):
    """Signed in through provider X for My account, then an app that allows only another
    provider asks: no code, a page saying so, a way to sign in again, a log row. An app that
    allows X gets its code at once."""
    from federation.services import app_identity_providers_set

    client_id, secret = f"client-{uuid.uuid4().hex[:8]}", uuid.uuid4().hex
    email = unique_email("sso")
    op = StandInOP(client_id, secret, {"sub": "s-2", "email": email, "email_verified": True})
    op.start()
    try:
        provider = create_provider(
            downstream, discovery_url=op.issuer, client_id=client_id, secret=secret,
            trust_verified_email=True,
        )  # fmt: skip
        allowed = create_provider(downstream, name=f"Allowed {uuid.uuid4().hex[:6]}")
        strict = register_app(downstream, name=f"Strict {uuid.uuid4().hex[:6]}")
        friendly = register_app(downstream, name=f"Friendly {uuid.uuid4().hex[:6]}")
        with tenant_context(downstream.tenant):
            app_identity_providers_set(
                actor=downstream.admin, application=strict.application, providers=[allowed]
            )
            app_identity_providers_set(
                actor=downstream.admin, application=friendly.application, providers=[provider]
            )
        connection.close()
        port = running_server.port
        b = base(downstream, port)
        browser = Browser()
        _sign_in_through(browser, b, provider)
        assert signed_in_as(browser, downstream, port) == email

        refused = browser.go(f"{b}{_authorize(strict)}", stop_at="https://app.example/")
        assert refused.status_code == 403
        assert "does not accept" in refused.text and "Sign in another way" in refused.text
        assert not any(url.startswith("https://app.example/") for url in browser.visited)
        row = log_rows(downstream, idp=provider.slug, app_id=strict.client_id)[-1]
        assert (row.result, row.idp_subject) == ("failure", "s-2")
        assert row.method == "federated"

        pkce = urlencode({"code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
                          "code_challenge_method": "S256"})  # fmt: skip
        browser.go(f"{b}{_authorize(friendly)}&{pkce}", stop_at="https://app.example/")
        assert browser.visited[-1].startswith("https://app.example/callback?code=")

        # "Sign in another way": signed out, back to the strict app's request, which asks
        # for a sign-in with the ways it accepts.
        token = CSRF.search(refused.text).group(1)
        again = browser.submit(
            f"{b}/accounts/logout/",
            refused,
            {"next": _authorize(strict)},
            stop_at="https://app.example/",
        )
        assert urlsplit(browser.visited[-1]).path == "/accounts/login/"
        assert f"Sign in with {allowed.name}" in again.text
        assert f"Sign in with {provider.name}" not in again.text
        assert token
    finally:
        op.stop()


@pytest.mark.server
def test_prompt_none_for_an_app_that_does_not_accept_the_sessions_provider_asks_for_a_sign_in(
    running_server, downstream
):
    """prompt=none may show no page: a session signed in through a provider the app does not
    allow goes back to the app with error=login_required and its state (and a log row)."""
    client_id, secret = f"client-{uuid.uuid4().hex[:8]}", uuid.uuid4().hex
    email = unique_email("silent")
    op = StandInOP(client_id, secret, {"sub": "s-3", "email": email, "email_verified": True})
    op.start()
    try:
        provider, strict = _app_allowing_only_another_provider(
            downstream, op, client_id, secret, "Strict"
        )
        port = running_server.port
        b = base(downstream, port)
        browser = Browser()
        _sign_in_through(browser, b, provider)
        assert signed_in_as(browser, downstream, port) == email

        silent = f"{_authorize(strict)}&" + urlencode(
            {"prompt": "none", "state": "st-42", "code_challenge_method": "S256",
             "code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"}
        )  # fmt: skip
        browser.go(f"{b}{silent}", stop_at="https://app.example/")

        back = urlsplit(browser.visited[-1])
        assert f"{back.scheme}://{back.netloc}{back.path}" == "https://app.example/callback"
        query = parse_qs(back.query)
        assert query["error"] == ["login_required"] and query["state"] == ["st-42"]
        assert "code" not in query
        row = log_rows(downstream, idp=provider.slug, app_id=strict.client_id)[-1]
        assert (row.result, row.idp_subject) == ("failure", "s-3")

        # A request the app could not have sent (another redirect URI) is no redirect.
        wrong = silent.replace("app.example%2Fcallback", "evil.example%2Fcallback")
        answer = browser.go(f"{b}{wrong}", stop_at="https://evil.example/")
        assert not any(url.startswith("https://evil.example/") for url in browser.visited)
        assert answer.status_code == 400
    finally:
        op.stop()
