"""A generic OpenID Connect IdP whose ID tokens are wrong on purpose (a stand-in provider on
loopback signing real RS256 tokens): another issuer, another audience, expired, signed with
another key, several audiences without `azp`; and an authorization code bound to another
PKCE challenge. Each signs nobody in and leaves a failure in the sign-in log. allauth skips
the signature of a token from the token endpoint; federation.oidc checks it."""

from __future__ import annotations

import time
import uuid
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from allauth.socialaccount.models import SocialAccount
from django.contrib.auth import get_user_model
from django.db import connection
from django_tenants.utils import tenant_context

from tests.federation.helpers import CSRF, Browser, base, create_provider, log_rows, signed_in_as
from tests.federation.stand_in_op import StandInOP
from tests.helpers import unique_email

pytestmark = pytest.mark.server


@pytest.fixture
def stand_in(downstream):
    started = []

    def make() -> tuple[StandInOP, object]:
        email = unique_email("op")
        client_id, secret = f"client-{uuid.uuid4().hex[:8]}", uuid.uuid4().hex
        op = StandInOP(client_id, secret, {
            "sub": f"sub-{uuid.uuid4().hex[:8]}", "email": email, "email_verified": True,
            "given_name": "Grace", "family_name": "Hopper",
        }).start()  # fmt: skip
        started.append(op)
        provider = create_provider(
            downstream, discovery_url=op.issuer, client_id=client_id, secret=secret,
            trust_verified_email=True,
        )  # fmt: skip
        connection.close()
        return op, provider

    yield make
    for op in started:
        op.stop()


def _authorize_url(browser: Browser, world, port: int, provider) -> str:
    b = base(world, port)
    page = browser.go(f"{b}/accounts/login/?{urlencode({'next': '/account/'})}")
    redirect = browser.session.post(
        f"{b}/accounts/oidc/{provider.slug}/login/",
        data={"csrfmiddlewaretoken": CSRF.search(page.text).group(1), "process": "login",
              "next": "/account/"},
        allow_redirects=False, timeout=20,
    )  # fmt: skip
    assert redirect.status_code == 302
    return redirect.headers["Location"]


def _refused(page) -> bool:
    return "Sign-in failed" in page.text or "Third-Party Login Failure" in page.text


def test_a_correct_id_token_signs_in_with_pkce_checked_by_the_provider(
    running_server, downstream, stand_in
):
    op, provider = stand_in()
    browser = Browser()
    authorize = _authorize_url(browser, downstream, running_server.port, provider)

    query = parse_qs(urlsplit(authorize).query)
    assert query["code_challenge_method"] == ["S256"] and len(query["code_challenge"][0]) == 43
    browser.go(authorize)
    assert op.token_errors == [] and op.token_requests[-1]["code_verifier"]
    assert signed_in_as(browser, downstream, running_server.port) == op.claims["email"]


DEFECTS = {
    "wrong iss": lambda op: op.id_token_changes.update(iss="https://impostor.example"),
    "wrong aud": lambda op: op.id_token_changes.update(aud="another-client"),
    "several aud, no azp": lambda op: op.id_token_changes.update(aud=[op.client_id, "other"]),
    "expired": lambda op: op.id_token_changes.update(
        iat=int(time.time()) - 3600, exp=int(time.time()) - 600
    ),
    "bad signature": lambda op: setattr(op, "sign_with_other_key", True),
}


@pytest.mark.parametrize("defect", list(DEFECTS))
def test_a_wrong_id_token_signs_nobody_in(running_server, downstream, stand_in, defect):
    from audit.models import SignInEvent

    op, provider = stand_in()
    DEFECTS[defect](op)
    browser = Browser()
    authorize = _authorize_url(browser, downstream, running_server.port, provider)

    page = browser.go(authorize)

    assert _refused(page), page.text[:500]
    assert signed_in_as(browser, downstream, running_server.port) is None
    with tenant_context(downstream.tenant):
        assert not SocialAccount.objects.filter(provider=provider.slug).exists()
        assert not get_user_model().objects.filter(email=op.claims["email"]).exists()
    rows = log_rows(downstream, idp=provider.slug)
    assert [(row.result, row.failure_reason) for row in rows] == [
        (SignInEvent.Result.FAILURE, SignInEvent.FailureReason.IDP_ERROR)
    ]


def test_a_code_bound_to_another_pkce_challenge_is_refused(running_server, downstream, stand_in):
    """An attacker's authorization code, injected into someone's callback (with that person's
    own state): the provider refuses it, the person's code verifier does not match."""
    op, provider = stand_in()
    port = running_server.port
    callback = f"{base(downstream, port)}/accounts/oidc/{provider.slug}/login/callback/"
    victim, attacker = Browser(), Browser()
    victim_state = parse_qs(urlsplit(_authorize_url(victim, downstream, port, provider)).query)[
        "state"
    ][0]
    attacker.go(_authorize_url(attacker, downstream, port, provider), stop_at=callback)
    attacker_code = parse_qs(urlsplit(attacker.visited[-1]).query)["code"][0]

    page = victim.go(f"{callback}?{urlencode({'code': attacker_code, 'state': victim_state})}")

    assert _refused(page)
    assert op.token_errors == ["PKCE verification failed"]
    assert signed_in_as(victim, downstream, port) is None


def test_sign_ins_keep_the_discovery_document_and_keys_and_take_a_rotated_key_at_once(
    running_server, downstream, stand_in
):
    """The server keeps the discovery document (federation.http) and the keys
    (federation.oidc): a second sign-in fetches neither again. A token signed with a key the
    provider just rotated in names a key id the kept keys do not have: they are fetched again
    at once and the sign-in goes through; the next one uses them as kept."""
    op, provider = stand_in()
    discovery, jwks = "/.well-known/openid-configuration", "/jwks"

    def sign_in() -> str:
        browser = Browser()
        browser.go(_authorize_url(browser, downstream, running_server.port, provider))
        return signed_in_as(browser, downstream, running_server.port)

    assert sign_in() == op.claims["email"]
    fetched, keys = op.gets[discovery], op.gets[jwks]
    tokens = len(op.token_requests)
    assert sign_in() == op.claims["email"]
    assert op.gets[discovery] == fetched and op.gets[jwks] == keys
    assert len(op.token_requests) == tokens + 1

    op.rotate_keys()
    assert sign_in() == op.claims["email"]
    assert op.gets[jwks] == keys + 1
    assert sign_in() == op.claims["email"]
    assert op.gets[jwks] == keys + 1
