"""A refreshed ID token names the identity provider of the sign-in, as the first one did;
refresh tokens issued before they carried it still work (no `idp` then)."""

from __future__ import annotations

from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import requests

from oidc import tokens
from tests.federation.helpers import Browser, federate, sign_in_upstream
from tests.mfa.helpers import make_user
from tests.oidc.helpers import jwt_parts, pkce_pair, register_app


@pytest.mark.server
def test_a_refreshed_id_token_keeps_the_idp_of_the_sign_in(worlds, downstream, running_server):
    acme = worlds["acme"]
    person = make_user(acme)
    fed = federate(acme, downstream, running_server.port)
    app = register_app(downstream, redirect_uri="http://127.0.0.1:9/callback")
    verifier, challenge = pkce_pair()
    authorize = "/o/authorize/?" + urlencode(
        {"response_type": "code", "client_id": app.client_id, "redirect_uri": app.redirect_uri,
         "scope": "openid email offline_access", "state": "s1", "code_challenge": challenge,
         "code_challenge_method": "S256"}
    )  # fmt: skip
    redirect = sign_in_upstream(
        Browser(), fed, running_server.port, person.email,
        start={"next_url": authorize}, stop_at=app.redirect_uri,
    )  # fmt: skip
    code = parse_qs(urlsplit(redirect.headers["Location"]).query)["code"][0]
    token_url = f"http://127.0.0.1:{running_server.port}/o/token/"
    host = {"Host": f"{downstream.host}:{running_server.port}"}
    first = requests.post(
        token_url,
        data={"grant_type": "authorization_code", "code": code, "redirect_uri": app.redirect_uri,
              "code_verifier": verifier, "client_id": app.client_id, "client_secret": app.secret},
        headers=host, timeout=20,
    ).json()  # fmt: skip

    refreshed = requests.post(
        token_url,
        data={"grant_type": "refresh_token", "refresh_token": first["refresh_token"],
              "client_id": app.client_id, "client_secret": app.secret},
        headers=host, timeout=20,
    ).json()  # fmt: skip
    again = requests.post(
        token_url,
        data={"grant_type": "refresh_token", "refresh_token": refreshed["refresh_token"],
              "client_id": app.client_id, "client_secret": app.secret},
        headers=host, timeout=20,
    ).json()  # fmt: skip

    first_claims = jwt_parts(first["id_token"])[1]
    for body in (refreshed, again):
        claims = jwt_parts(body["id_token"])[1]
        assert claims["idp"] == fed.issuer
        assert claims["auth_time"] == first_claims["auth_time"]
        assert claims.get("amr") == first_claims.get("amr")


def test_refresh_tokens_carry_the_idp_and_older_ones_read_as_none():
    issuer = "https://login.microsoftonline.com/contoso.example/v2.0"
    value = tokens.refresh_token_generate(100, 200, ["pwd", "mfa"], issuer)
    assert tokens.refresh_token_idp(value) == issuer
    assert tokens.refresh_token_auth_time(value) == 200
    assert tokens.refresh_token_amr(value) == ["pwd", "mfa"]
    assert tokens.refresh_token_started(value) == 100
    without_auth_time = tokens.refresh_token_generate(100, None, (), "local")
    assert tokens.refresh_token_idp(without_auth_time) == "local"
    assert tokens.refresh_token_auth_time(without_auth_time) is None
    # Issued before `idp` (and before `amr`, and before `auth_time`):
    for older in ("abc.100.200.pwd-mfa", "abc.100.200", "abc.100"):
        assert tokens.refresh_token_idp(older) == ""
    assert tokens.refresh_token_amr("abc.100.200.pwd-mfa") == ["pwd", "mfa"]
    assert tokens.refresh_token_generate(100, 200, ["pwd"]).count(".") == 3  # as before
