"""/api/v1/groups with Graph's names: Group.Read.All reads, Group.ReadWrite.All reads and
changes; a token without them is refused, and so is a token whose granting admin no longer
holds the role."""

from __future__ import annotations

import json

from django_tenants.utils import tenant_context

from audit.models import AuditEvent
from groups.models import Group
from tests.groups.helpers import make_group, make_user
from tests.helpers import tenant_client
from tests.oidc.helpers import register_app


def app_token(world, *permissions) -> str:
    daemon = register_app(world, app_type="daemon", name="Provisioning", permissions=permissions)
    response = tenant_client(world).post(
        "/o/token/",
        {"grant_type": "client_credentials", "client_id": daemon.client_id,
         "client_secret": daemon.secret},
    )  # fmt: skip
    return response.json()["access_token"]


def call(world, method, path, token, body=None):
    client = tenant_client(world)
    extra = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}
    if body is not None:
        extra.update(data=json.dumps(body), content_type="application/json")
    return getattr(client, method)(path, **extra)


def test_read_write_permission_creates_renames_lists_and_deletes_a_group(acme):
    token = app_token(acme, "Group.ReadWrite.All")
    body = {"displayName": "API made", "description": "by a script", "mailEnabled": False,
            "securityEnabled": True, "mailNickname": "apimade"}  # fmt: skip
    created = call(acme, "post", "/api/v1/groups", token, body)
    assert created.status_code == 201, created.content
    group = created.json()
    assert group["displayName"] == "API made" and group["securityEnabled"] is True
    assert created["Location"].endswith(f"/api/v1/groups/{group['id']}")
    path = f"/api/v1/groups/{group['id']}"
    assert call(acme, "patch", path, token, {"displayName": "API renamed"}).status_code == 204
    read = call(acme, "get", path, token).json()
    assert read["displayName"] == "API renamed" and read["description"] == "by a script"
    listed = call(acme, "get", "/api/v1/groups?$filter=displayName eq 'API renamed'", token)
    assert [row["id"] for row in listed.json()["value"]] == [group["id"]]
    assert call(acme, "delete", path, token).status_code == 204
    assert call(acme, "get", path, token).status_code == 404
    with tenant_context(acme.tenant):
        actions = list(
            AuditEvent.objects.filter(target_id=group["id"])
            .order_by("id")
            .values_list("action", "actor_label")
        )
    assert [action for action, _actor in actions] == ["group.create", "group.update",
                                                      "group.delete"]  # fmt: skip
    assert all(actor == "Provisioning (API)" for _action, actor in actions)


def test_members_are_added_listed_and_removed_by_reference(acme):
    token = app_token(acme, "Group.ReadWrite.All")
    group = make_group(acme)
    guest = make_user(acme, user_type="guest")
    path = f"/api/v1/groups/{group.public_id}/members"
    reference = {"@odata.id": f"https://graph.example/v1.0/users/{guest.public_id}"}
    assert call(acme, "post", path + "/$ref", token, reference).status_code == 204
    again = call(acme, "post", path + "/$ref", token, reference)
    assert again.status_code == 400 and "already exist" in again.json()["error"]["message"]
    members = call(acme, "get", path, token).json()["value"]
    assert [(m["id"], m["userType"]) for m in members] == [(str(guest.public_id), "Guest")]
    removed = call(acme, "delete", f"{path}/{guest.public_id}/$ref", token)
    assert removed.status_code == 204
    assert call(acme, "get", path, token).json()["value"] == []


def test_read_permission_reads_but_cannot_change(acme):
    token = app_token(acme, "Group.Read.All")
    group = make_group(acme, name="Readable")
    assert call(acme, "get", f"/api/v1/groups/{group.public_id}", token).status_code == 200
    refused = call(acme, "post", "/api/v1/groups", token, {"displayName": "Not allowed"})
    assert refused.status_code == 403
    assert "Group.ReadWrite.All" in refused.json()["error"]["message"]
    assert call(acme, "delete", f"/api/v1/groups/{group.public_id}", token).status_code == 403
    member_add = call(acme, "post", f"/api/v1/groups/{group.public_id}/members/$ref", token,
                      {"@odata.id": f"users/{acme.member.public_id}"})  # fmt: skip
    assert member_add.status_code == 403
    with tenant_context(acme.tenant):
        assert not Group.objects.filter(display_name="Not allowed").exists()
        assert Group.objects.filter(pk=group.pk).exists()


def test_other_permissions_and_no_token_are_refused(acme):
    token = app_token(acme, "User.Read.All")
    refused = call(acme, "get", "/api/v1/groups", token)
    assert refused.status_code == 403 and "Group.Read.All" in refused.json()["error"]["message"]
    assert call(acme, "get", "/api/v1/groups", None).status_code == 401


def test_a_permission_stops_when_its_granting_admin_loses_the_role(acme):
    granting = make_user(acme, admin_roles=["user_administrator"])
    daemon = None
    from oidc.services import application_create

    with tenant_context(acme.tenant):
        daemon, secret = application_create(
            actor=granting, name="Granted by a user admin", app_type="daemon",
            redirect_uris="", post_logout_redirect_uris="", is_first_party=True,
            access_token_lifetime=3600, id_token_lifetime=3600,
            refresh_token_lifetime=14 * 86400, api_permissions=["Group.Read.All"],
        )  # fmt: skip
    token = tenant_client(acme).post(
        "/o/token/",
        {"grant_type": "client_credentials", "client_id": daemon.client_id,
         "client_secret": secret},
    ).json()["access_token"]  # fmt: skip
    assert call(acme, "get", "/api/v1/groups", token).status_code == 200
    with tenant_context(acme.tenant):
        granting.admin_roles = []
        granting.save(update_fields=["admin_roles"])
    assert call(acme, "get", "/api/v1/groups", token).status_code == 403


def test_bad_input_gets_a_clear_4xx(acme):
    token = app_token(acme, "Group.ReadWrite.All")
    make_group(acme, name="Taken name")
    cases = [
        ("post", "/api/v1/groups", {"description": "no name"}, 400, "displayName is required."),
        ("post", "/api/v1/groups", {"displayName": "taken NAME"}, 409, "exists already"),
        ("post", "/api/v1/groups", {"displayName": "x", "mailEnabled": True}, 400, "mailEnabled"),
        ("post", "/api/v1/groups", {"displayName": "x", "id": "mine"}, 400, "id cannot be set"),
        ("get", "/api/v1/groups?$top=0", None, 400, "$top"),
        ("get", "/api/v1/groups?$skiptoken=forged", None, 400, "nextLink"),
        ("get", "/api/v1/groups?$filter=members/any()", None, 400, "Supported"),
        ("get", "/api/v1/groups/not-a-uuid", None, 404, "No group"),
    ]
    for method, path, body, status, text in cases:
        response = call(acme, method, path, token, body)
        assert response.status_code == status, (path, body, response.content)
        assert text in response.json()["error"]["message"], (path, body)
    broken = tenant_client(acme).post(
        "/api/v1/groups", data="{", content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )  # fmt: skip
    assert broken.status_code == 400


def test_pages_follow_the_next_link(acme):
    token = app_token(acme, "Group.Read.All")
    for number in range(3):
        make_group(acme, name=f"Paged {number}")
    first = call(acme, "get", "/api/v1/groups?$top=2&$filter=startswith(displayName,'Paged')",
                 token).json()  # fmt: skip
    assert [row["displayName"] for row in first["value"]] == ["Paged 0", "Paged 1"]
    following = first["@odata.nextLink"].split("acme.localhost", 1)[1]
    second = call(acme, "get", following, token).json()
    assert [row["displayName"] for row in second["value"]] == ["Paged 2"]
    assert "@odata.nextLink" not in second


def test_a_token_of_another_tenant_is_refused(acme, globex):
    token = app_token(globex, "Group.ReadWrite.All")
    assert call(acme, "get", "/api/v1/groups", token).status_code == 401


def test_machine_calls_need_no_csrf_token(acme):
    from django.test import Client

    token = app_token(acme, "Group.ReadWrite.All")
    client = Client(HTTP_HOST=acme.host, enforce_csrf_checks=True)
    created = client.post(
        "/api/v1/groups", data=json.dumps({"displayName": "No CSRF here"}),
        content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {token}",
    )  # fmt: skip
    assert created.status_code == 201
    group_id = created.json()["id"]
    response = client.patch(
        f"/api/v1/groups/{group_id}", data=json.dumps({"description": "still none"}),
        content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {token}",
    )  # fmt: skip
    assert response.status_code == 204
    reference = {"@odata.id": f"users/{acme.member.public_id}"}
    response = client.post(
        f"/api/v1/groups/{group_id}/members/$ref", data=json.dumps(reference),
        content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {token}",
    )  # fmt: skip
    assert response.status_code == 204
