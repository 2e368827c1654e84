"""/api/v1/users writes with Microsoft Graph's names, for daemon apps holding
User.ReadWrite.All: create (the person chooses their own password), change, soft delete."""

from __future__ import annotations

import json

import pytest
from django.contrib.auth import get_user_model
from django_tenants.utils import tenant_context

from accounts.roles import AdminRole
from audit.models import AuditEvent
from tests.helpers import emails_to, make_user, unique_email
from tests.oidc.helpers import Flow, register_app


def app_token(world, *permissions, admin=None) -> str:
    from oidc.services import application_create

    if admin is None:
        app = register_app(world, app_type="daemon", permissions=list(permissions), name="HR")
    else:  # granted by another admin: the app acts with that admin's authority
        with tenant_context(world.tenant):
            application, secret = application_create(
                actor=admin, name="HR by user admin", app_type="daemon", redirect_uris="",
                post_logout_redirect_uris="", is_first_party=True, access_token_lifetime=3600,
                id_token_lifetime=3600, refresh_token_lifetime=3600,
                api_permissions=list(permissions), claim_mappings="",
            )  # fmt: skip
        from tests.oidc.helpers import RegisteredApp

        app = RegisteredApp(application, secret, "")
    status, token = Flow(world).token(app, {"grant_type": "client_credentials"})
    assert status == 200, token
    return token["access_token"]


@pytest.fixture
def writer(acme):
    return app_token(acme, "User.ReadWrite.All", "User.Read.All")


def call(world, token, method, path, body=None):
    client = world.client()
    data = json.dumps(body) if body is not None else ""
    return getattr(client, method)(
        path, data=data, content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {token}"
    )


def user_of(world, email):
    with tenant_context(world.tenant):
        return get_user_model().objects.filter(email=email).first()


def test_post_creates_a_member_who_is_emailed_to_choose_a_password(acme, writer):
    email = unique_email("api", "acme.test")
    created = call(acme, writer, "post", "/api/v1/users", {
        "accountEnabled": True, "mail": email, "givenName": "Ada", "surname": "Lovelace",
        "displayName": "Ada L.", "city": "London",
    })  # fmt: skip
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["mail"] == email and body["givenName"] == "Ada" and body["city"] == "London"
    assert created["Location"].endswith(f"/api/v1/users/{body['id']}")
    user = user_of(acme, email)
    assert not user.has_usable_password()
    (text,) = emails_to(acme, email)
    assert "/accounts/password/reset/key/" in text
    with tenant_context(acme.tenant):
        assert AuditEvent.objects.filter(action="user.create", target_id=body["id"]).exists()
    # Graph's identities spelling works too; an existing address is a conflict.
    again = call(acme, writer, "post", "/api/v1/users", {"identities": [
        {"signInType": "emailAddress", "issuer": "acme", "issuerAssignedId": email}
    ]})  # fmt: skip
    assert again.status_code == 409 and again.json()["error"]["code"] == "conflict"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"mail": "p@acme.test", "passwordProfile": {"password": "x"}}, "passwordProfile"),
        ({"displayName": "No address"}, "mail"),
        ({"mail": "not-an-address"}, "mail"),
        ({"mail": "p@acme.test", "adminRoles": ["global_administrator"]}, "adminRoles"),
        (
            {"mail": "p@acme.test", "customAttributes": {"unknownThing": 1}},
            "customAttributes.unknownThing",
        ),
        ({"mail": "p@acme.test", "accountEnabled": "yes"}, "accountEnabled"),
        ({"mail": "p@acme.test", "userType": "Guest"}, "userType"),
    ],
)
def test_bad_bodies_get_a_400_naming_the_field(acme, writer, body, field):
    answer = call(acme, writer, "post", "/api/v1/users", body)
    assert answer.status_code == 400, answer.content
    assert answer.json()["error"]["field"] == field
    assert user_of(acme, "p@acme.test") is None


def test_patch_changes_names_attributes_and_state(acme, writer):
    from accounts.models import SignUpAttribute, UserFlow

    with tenant_context(acme.tenant):
        SignUpAttribute.objects.create(flow=UserFlow.objects.first(), key="tier", label="Tier",
                                       data_type="integer", position=8)  # fmt: skip
    user = make_user(acme)
    url = f"/api/v1/users/{user.public_id}"
    change = {"surname": "Hopper", "customAttributes": {"tier": 3}, "accountEnabled": False}
    answer = call(acme, writer, "patch", url, change)
    assert answer.status_code == 204, answer.content
    read = call(acme, writer, "get", url).json()
    assert read["surname"] == "Hopper" and read["customAttributes"] == {"tier": 3}
    assert read["accountEnabled"] is False
    bad = call(acme, writer, "patch", url, {"customAttributes": {"tier": "many"}})
    assert bad.status_code == 400 and bad.json()["error"]["field"] == "customAttributes.tier"
    moved = call(acme, writer, "patch", url, {"mail": "elsewhere@acme.test"})
    assert moved.status_code == 400 and moved.json()["error"]["field"] == "mail"


def test_delete_is_soft_and_the_user_leaves_the_directory(acme, writer):
    user = make_user(acme)
    url = f"/api/v1/users/{user.public_id}"
    assert call(acme, writer, "delete", url).status_code == 204
    assert call(acme, writer, "get", url).status_code == 404
    listed = call(acme, writer, "get", "/api/v1/users?%24filter=mail+eq+%27" + user.email + "%27")
    assert listed.json()["value"] == []
    kept = user_of(acme, user.email)
    assert kept is not None and kept.deleted_at is not None and not kept.is_active
    assert call(acme, writer, "delete", url).status_code == 404


def test_writes_need_user_readwrite_all_of_this_tenant(acme, globex):
    reader = app_token(acme, "User.Read.All")
    email = unique_email("api", "acme.test")
    refused = call(acme, reader, "post", "/api/v1/users", {"mail": email})
    assert refused.status_code == 403 and "User.ReadWrite.All" in refused.json()["error"]["message"]
    assert call(acme, reader, "delete", f"/api/v1/users/{acme.member.public_id}").status_code == 403
    assert (
        acme.client().post("/api/v1/users", "{}", content_type="application/json").status_code
        == 401
    )
    writer = app_token(acme, "User.ReadWrite.All")
    assert call(globex, writer, "post", "/api/v1/users", {"mail": email}).status_code == 401
    web = register_app(acme, name="Portal")
    person = Flow(acme, user=acme.admin).sign_in(web)["access_token"]
    assert call(acme, person, "post", "/api/v1/users", {"mail": email}).status_code == 401
    assert user_of(acme, email) is None


def test_an_app_granted_by_a_user_administrator_cannot_touch_administrators(acme):
    user_admin = make_user(acme, admin_roles=[AdminRole.USER_ADMINISTRATOR])
    token = app_token(acme, "User.ReadWrite.All", admin=user_admin)
    for method, body in (("delete", None), ("patch", {"accountEnabled": False})):
        answer = call(acme, token, method, f"/api/v1/users/{acme.admin.public_id}", body)
        assert answer.status_code == 403, answer.content
    admin = user_of(acme, acme.admin.email)
    assert admin.is_active and admin.deleted_at is None
    # It manages members.
    assert call(acme, token, "delete", f"/api/v1/users/{acme.member.public_id}").status_code == 204


def test_the_last_global_administrator_cannot_be_deleted_through_the_api(acme, writer):
    answer = call(acme, writer, "delete", f"/api/v1/users/{acme.admin.public_id}")
    assert answer.status_code == 403
    assert user_of(acme, acme.admin.email).deleted_at is None
