""" "Trust the IdP's MFA": with the tenant requiring MFA of everyone, a person signing in again
through an IdP the tenant trusts for MFA, whose ID token says `amr: [..., "mfa"]`, is not
asked for a second factor here; the same person is asked when the IdP is not trusted for it
or its token says one factor only."""

from __future__ import annotations

import uuid
from urllib.parse import urlencode, urlsplit

import pytest
from django.db import connection

from tests.federation.helpers import CSRF, Browser, base, create_provider, log_rows, signed_in_as
from tests.federation.stand_in_op import StandInOP
from tests.helpers import unique_email
from tests.mfa.helpers import set_policy

pytestmark = pytest.mark.server


def _sign_in(world, port: int, provider, op: StandInOP) -> Browser:
    browser = Browser()
    b = base(world, port)
    page = browser.go(f"{b}/accounts/login/?{urlencode({'next': '/account/'})}")
    redirect = browser.session.post(
        f"{b}/accounts/oidc/{provider.slug}/login/",
        data={"csrfmiddlewaretoken": CSRF.search(page.text).group(1), "process": "login",
              "next": "/account/"},
        allow_redirects=False, timeout=20,
    )  # fmt: skip
    browser.go(redirect.headers["Location"])
    return browser


CASES = {
    "trusted, upstream MFA": (True, ["pwd", "otp", "mfa"], True),
    "trusted, one factor upstream": (True, ["pwd"], False),
    "not trusted, upstream MFA": (False, ["pwd", "otp", "mfa"], False),
}


@pytest.mark.parametrize("case", list(CASES))
def test_the_idps_mfa_counts_only_when_trusted_and_said(running_server, downstream, case):
    trusted, amr, counts = CASES[case]
    port = running_server.port
    set_policy(downstream, requirement="required_all")
    client_id, secret = f"client-{uuid.uuid4().hex[:8]}", uuid.uuid4().hex
    email = unique_email("mfa")
    op = StandInOP(client_id, secret, {
        "sub": f"sub-{uuid.uuid4().hex[:8]}", "email": email, "email_verified": True,
    }).start()  # fmt: skip
    try:
        provider = create_provider(
            downstream, discovery_url=op.issuer, client_id=client_id, secret=secret,
            trust_verified_email=True, trust_idp_mfa=trusted,
        )  # fmt: skip
        connection.close()
        # The first sign-in creates the account (a sign-up: the next sign-in asks for MFA).
        assert signed_in_as(_sign_in(downstream, port, provider, op), downstream, port) == email

        op.id_token_changes = {"amr": amr}
        again = _sign_in(downstream, port, provider, op)

        if counts:
            assert signed_in_as(again, downstream, port) == email
            last = log_rows(downstream, idp=provider.slug, result="success")[-1]
            assert last.mfa_method == "idp"
        else:
            assert urlsplit(again.visited[-1]).path.startswith("/account/mfa/") or (
                "/mfa/" in again.visited[-1]
            ), again.visited[-1]
            assert signed_in_as(again, downstream, port) is None
    finally:
        op.stop()
