"""The built-in providers' authorization redirects: where they go and what they carry (client
id, scopes, PKCE S256, state), for a tenant that set each up in the console."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from tests.federation.helpers import create_provider


@pytest.mark.parametrize(
    ("kind", "fields", "endpoint", "scopes"),
    [
        ("google", {}, "https://accounts.google.com/o/oauth2/v2/auth",
         {"openid", "profile", "email"}),
        ("microsoft", {"entra_tenant": "contoso.onmicrosoft.com"},
         "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/authorize",
         {"openid", "profile", "email", "User.Read"}),
        ("github", {}, "https://github.com/login/oauth/authorize", {"read:user", "user:email"}),
    ],
    ids=["google", "microsoft", "github"],
)  # fmt: skip
def test_the_button_sends_the_person_to_the_provider_with_pkce_and_state(
    acme, kind, fields, endpoint, scopes
):
    provider = create_provider(acme, kind=kind, name=kind.title(), **fields)
    client = acme.client()
    page = client.get("/accounts/login/?next=/account/")
    assert f'action="/accounts/{kind}/login/"' in page.content.decode()
    # The form's answer redirects there: the sign-in page's policy lets it.
    origin = "https://" + urlsplit(endpoint).hostname
    form_action = next(
        part for part in page["Content-Security-Policy"].split(";") if "form-action" in part
    )
    assert origin in form_action.split()

    response = client.post(f"/accounts/{kind}/login/", {"process": "login", "next": "/account/"})

    assert response.status_code == 302
    location = response["Location"]
    assert location.startswith(endpoint + "?")
    query = {key: values[0] for key, values in parse_qs(urlsplit(location).query).items()}
    assert query["client_id"] == provider.client_id
    assert query["redirect_uri"] == f"http://{acme.host}/accounts/{kind}/login/callback/"
    assert set(query["scope"].replace(",", " ").split()) == scopes
    assert query["code_challenge_method"] == "S256" and len(query["code_challenge"]) == 43
    assert len(query["state"]) >= 12
    assert query["response_type"] == "code"
