"""My account > Groups you own: a group's owner adds and removes its members (members and
guests) without an admin role, each change audited with the owner as actor; nobody else sees
or changes the group from there (another group's owner, a member, a stranger)."""

from __future__ import annotations

from django_tenants.utils import tenant_context

from audit.models import AuditEvent
from groups import services
from groups.models import GroupMembership
from tests.groups.helpers import make_group, make_user


def _owned_group(world, owner, members=()):
    group = make_group(world, members=members)
    with tenant_context(world.tenant):
        services.group_owner_add(actor=world.admin, group=group, user=owner)
    return group


def test_an_owner_adds_and_removes_members_from_my_account_and_each_change_is_audited(acme):
    owner, member, newcomer = make_user(acme), make_user(acme), make_user(acme)
    guest = make_user(acme, user_type="guest")
    group = _owned_group(acme, owner, members=[member])
    client = acme.client(owner)

    home = client.get("/account/").content.decode()
    assert "/account/groups/" in home
    listing = client.get("/account/groups/").content.decode()
    assert group.display_name in listing and "1 member" in listing
    page = client.get(f"/account/groups/{group.public_id}/").content.decode()
    assert member.email in page and f"/console/users/{member.public_id}" not in page

    added = client.post(
        f"/account/groups/{group.public_id}/members/add/",
        {"emails": f"{newcomer.email}\n{guest.email}"},
    )
    assert added.status_code == 302
    assert "2 member(s) added." in client.get(added["Location"]).content.decode()
    removed = client.post(f"/account/groups/{group.public_id}/members/{member.public_id}/remove/")
    assert removed.status_code == 302
    with tenant_context(acme.tenant):
        assert set(
            GroupMembership.objects.filter(group=group).values_list("user_id", flat=True)
        ) == {newcomer.pk, guest.pk}
        events = AuditEvent.objects.filter(actor_label=owner.email).values_list(
            "action", "target_id"
        )
        assert ("group.member.add", str(newcomer.public_id)) in events
        assert ("group.member.add", str(guest.public_id)) in events
        assert ("group.member.remove", str(member.public_id)) in events

    # An address nobody has is refused next to the field.
    refused = client.post(
        f"/account/groups/{group.public_id}/members/add/", {"emails": "nobody@nowhere.example"}
    )
    assert refused.status_code == 400


def test_only_the_groups_owners_manage_it_from_my_account(acme):
    owner, member, other_owner = make_user(acme), make_user(acme), make_user(acme)
    group = _owned_group(acme, owner, members=[member])
    _owned_group(acme, other_owner)
    detail = f"/account/groups/{group.public_id}/"
    add = f"{detail}members/add/"
    remove = f"{detail}members/{member.public_id}/remove/"

    for person in (member, other_owner):  # a member, the owner of another group
        client = acme.client(person)
        assert group.display_name not in client.get("/account/groups/").content.decode()
        assert client.get(detail).status_code == 404
        assert client.post(add, {"emails": person.email}).status_code == 404
        assert client.post(remove).status_code == 404
    # Someone who owns no group is not offered the page.
    assert "/account/groups/" not in acme.client(member).get("/account/").content.decode()
    # Signed out: to the sign-in page.
    anonymous = acme.client()
    response = anonymous.get(detail)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert anonymous.post(remove).status_code == 302

    with tenant_context(acme.tenant):
        assert GroupMembership.objects.filter(group=group, user=member).exists()
        assert not GroupMembership.objects.filter(group=group, user=other_owner).exists()
        assert not AuditEvent.objects.filter(
            action__startswith="group.member", actor_label__in=[member.email, other_owner.email]
        ).exists()
