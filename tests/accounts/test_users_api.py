"""/api/v1/users: the directory for the tenant's systems, in Microsoft Graph's names, for
daemon apps holding User.Read.All."""

from __future__ import annotations

import uuid
from urllib.parse import urlsplit

import pytest
from django.contrib.auth import get_user_model
from django_tenants.utils import tenant_context

from guests import services as guest_services
from tests.helpers import unique_email
from tests.oidc.helpers import Flow, register_app


@pytest.fixture
def reader(acme):
    app = register_app(acme, app_type="daemon", permissions=["User.Read.All"], name="HR sync")
    status, token = Flow(acme).token(app, {"grant_type": "client_credentials"})
    assert status == 200
    return token["access_token"]


def get(world, token, path, **query):
    return world.client().get(path, query, HTTP_AUTHORIZATION=f"Bearer {token}")


def test_a_user_in_graphs_names_by_id_and_by_email(acme, reader):
    with tenant_context(acme.tenant):
        user = get_user_model().objects.create_user(
            email=unique_email("ada", "acme.test"), password=None, first_name="Ada",
            last_name="Lovelace", display_name="Countess",
            attributes={"city": "London", "loyaltyNumber": "L-42"},
        )  # fmt: skip
    by_id = get(acme, reader, f"/api/v1/users/{user.public_id}")
    assert by_id.status_code == 200
    body = by_id.json()
    assert body["id"] == str(user.public_id) and body["mail"] == user.email
    assert (body["givenName"], body["surname"], body["displayName"]) == (
        "Ada", "Lovelace", "Countess"
    )  # fmt: skip
    assert body["userType"] == "Member" and body["accountEnabled"] is True
    assert body["city"] == "London" and body["jobTitle"] is None
    assert body["customAttributes"] == {"loyaltyNumber": "L-42"}
    assert body["externalUserState"] is None
    assert "password" not in by_id.content.decode() and "admin_roles" not in body
    by_email = get(acme, reader, f"/api/v1/users/{user.email.upper()}")
    assert by_email.json()["id"] == str(user.public_id)
    missing = get(acme, reader, f"/api/v1/users/{uuid.uuid4()}")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "notFound"


def test_pages_follow_next_links_through_the_whole_directory(acme, reader):
    with tenant_context(acme.tenant):
        for _ in range(3):
            get_user_model().objects.create_user(
                email=unique_email("p", "acme.test"), password=None
            )
        everyone = set(get_user_model().objects.values_list("email", flat=True))
    seen, pages = [], 0
    url = "/api/v1/users?%24top=2"
    while url:
        path = urlsplit(url)
        answer = acme.client().get(
            f"{path.path}?{path.query}", HTTP_AUTHORIZATION=f"Bearer {reader}"
        )
        assert answer.status_code == 200, answer.content
        body = answer.json()
        assert len(body["value"]) <= 2
        seen += [user["mail"] for user in body["value"]]
        url, pages = body.get("@odata.nextLink"), pages + 1
        assert url is None or url.startswith(f"http://{acme.host}/api/v1/users?")
    assert sorted(seen) == sorted(everyone)  # each once
    assert pages >= 3


def test_filters_by_type_state_and_email(acme, reader):
    with tenant_context(acme.tenant):
        invitation = guest_services.invitation_create(
            invited_by=acme.admin, email=unique_email(), redirect_url="https://a.example/"
        )
        guest = guest_services.invitation_accept(invitation=invitation)
        off = get_user_model().objects.create_user(
            email=unique_email("off", "acme.test"), password=None, is_active=False
        )
    guests = get(acme, reader, "/api/v1/users", **{"$filter": "userType eq 'Guest'"}).json()
    assert guest.email in [user["mail"] for user in guests["value"]]
    assert {user["userType"] for user in guests["value"]} == {"Guest"}
    (listed,) = [user for user in guests["value"] if user["mail"] == guest.email]
    assert listed["externalUserState"] == "Accepted"
    disabled = get(
        acme, reader, "/api/v1/users",
        **{"$filter": f"accountEnabled eq false and startswith(mail,'{off.email[:6]}')"},
    ).json()  # fmt: skip
    assert [user["mail"] for user in disabled["value"]] == [off.email]
    exact = get(acme, reader, "/api/v1/users", **{"$filter": f"mail eq '{acme.member.email}'"})
    assert [user["id"] for user in exact.json()["value"]] == [str(acme.member.public_id)]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"$top": "0"}, "$top"),
        ({"$top": "1000"}, "$top"),
        ({"$top": "ten"}, "$top"),
        ({"$filter": "admin_roles eq 'x'"}, "$filter"),
        ({"$filter": "userType eq 'Owner'"}, "$filter"),
        ({"$filter": "mail eq x"}, "$filter"),
        ({"$skiptoken": "made-up"}, "$skiptoken"),
    ],
)
def test_bad_queries_get_a_400_naming_the_parameter(acme, reader, query, field):
    answer = get(acme, reader, "/api/v1/users", **query)
    assert answer.status_code == 400
    assert answer.json()["error"]["field"] == field
    assert answer.json()["error"]["message"]


def test_only_apps_holding_user_read_all_of_this_tenant_read_the_directory(acme, globex, reader):
    assert acme.client().get("/api/v1/users").status_code == 401
    assert acme.client().get("/api/v1/users")["WWW-Authenticate"] == 'Bearer realm="api"'
    inviter = register_app(acme, app_type="daemon", permissions=["User.Invite.All"], name="CRM")
    _status, token = Flow(acme).token(inviter, {"grant_type": "client_credentials"})
    refused = get(acme, token["access_token"], "/api/v1/users")
    assert refused.status_code == 403 and "User.Read.All" in refused.json()["error"]["message"]
    # A signed-in person's token is not an app's, whatever they may do in the console.
    web = register_app(acme, name="Portal")
    user_tokens = Flow(acme, user=acme.admin).sign_in(web)
    assert get(acme, user_tokens["access_token"], "/api/v1/users").status_code == 401
    # acme's token at globex (SECURITY item 31).
    assert get(globex, reader, "/api/v1/users").status_code == 401


def test_an_invitations_api_key_does_not_read_the_directory(acme):
    with tenant_context(acme.tenant):
        _key, secret = guest_services.api_key_create(actor=acme.admin, name="Partner portal")
    assert get(acme, secret, "/api/v1/users").status_code == 401
    assert get(acme, secret, f"/api/v1/users/{acme.member.public_id}").status_code == 401
