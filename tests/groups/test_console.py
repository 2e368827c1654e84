"""Console > Groups: User administrators create, rename, describe and delete groups, add and
remove members (members and guests) and owners; Application administrators give a group's
members app roles. Every change is audited; other roles are refused; a user's page lists
their groups."""

from __future__ import annotations

import pytest
from django_tenants.utils import tenant_context

from audit.models import AuditEvent
from groups.models import Group, GroupMembership
from tests.groups.helpers import make_group, make_role, make_user
from tests.oidc.helpers import register_app

BASE = "/console/groups/"


def audit_actions(world, target_id) -> list[str]:
    with tenant_context(world.tenant):
        return list(
            AuditEvent.objects.filter(target_id=str(target_id))
            .order_by("id")
            .values_list("action", flat=True)
        )


@pytest.fixture
def user_admin(acme):
    return make_user(acme, admin_roles=["user_administrator"])


def test_user_administrator_creates_renames_describes_and_deletes_a_group(acme, user_admin):
    client = acme.client(user_admin)
    owner = make_user(acme)
    response = client.post(
        BASE + "new/",
        {"display_name": "  Sales   team ", "description": "Everyone in sales",
         "owners": owner.email},
    )  # fmt: skip
    assert response.status_code == 303
    with tenant_context(acme.tenant):
        group = Group.objects.get(display_name="Sales team")
        assert list(group.owners.all()) == [owner]
    assert response["Location"] == f"{BASE}{group.public_id}/"
    page = client.get(response["Location"])
    assert "Sales team" in page.content.decode() and "Everyone in sales" in page.content.decode()

    response = client.post(
        f"{BASE}{group.public_id}/edit/",
        {"display_name": "Sales EMEA", "description": "Sales in Europe"},
    )
    assert response.status_code == 303
    with tenant_context(acme.tenant):
        event = AuditEvent.objects.get(target_id=str(group.public_id), action="group.update")
    assert event.before == {"display_name": "Sales team", "description": "Everyone in sales"}
    assert event.after == {"display_name": "Sales EMEA", "description": "Sales in Europe"}

    confirm = client.get(f"{BASE}{group.public_id}/delete/")
    assert "Delete the group Sales EMEA?" in confirm.content.decode()
    assert client.post(f"{BASE}{group.public_id}/delete/").status_code == 303
    with tenant_context(acme.tenant):
        assert not Group.objects.filter(pk=group.pk).exists()
    assert audit_actions(acme, group.public_id) == ["group.create", "group.update", "group.delete"]


def test_a_second_group_with_the_same_name_is_refused_next_to_the_field(acme, user_admin):
    make_group(acme, name="Partners")
    response = acme.client(user_admin).post(
        BASE + "new/", {"display_name": "partners", "description": "typed"}
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert "A group with this name exists already." in body
    assert 'value="partners"' in body and "typed" in body  # what was typed stays


def test_members_and_guests_are_added_and_removed_and_audited(acme, user_admin):
    group = make_group(acme)
    member = make_user(acme)
    guest = make_user(acme, user_type="guest")
    client = acme.client(user_admin)
    response = client.post(
        f"{BASE}{group.public_id}/members/", {"emails": f"{member.email}\n{guest.email.upper()}"}
    )
    assert response.status_code == 303
    page = client.get(f"{BASE}{group.public_id}/").content.decode()
    assert member.email in page and guest.email in page
    with tenant_context(acme.tenant):
        assert set(group.members.all()) == {member, guest}

    response = client.post(f"{BASE}{group.public_id}/members/{guest.public_id}/remove/")
    assert response.status_code == 303
    with tenant_context(acme.tenant):
        assert list(group.members.all()) == [member]
    assert audit_actions(acme, guest.public_id) == ["group.member.add", "group.member.remove"]


def test_an_unknown_address_is_named_and_nothing_is_added(acme, user_admin):
    group = make_group(acme)
    member = make_user(acme)
    response = acme.client(user_admin).post(
        f"{BASE}{group.public_id}/members/", {"emails": f"{member.email}\nnobody@example.org"}
    )
    assert response.status_code == 400
    assert "No user with the address nobody@example.org" in response.content.decode()
    with tenant_context(acme.tenant):
        assert not GroupMembership.objects.filter(group=group).exists()


def test_owners_are_added_and_removed(acme, user_admin):
    group = make_group(acme)
    owner = make_user(acme)
    client = acme.client(user_admin)
    assert (
        client.post(f"{BASE}{group.public_id}/owners/", {"email": owner.email}).status_code == 303
    )
    with tenant_context(acme.tenant):
        assert list(group.owners.all()) == [owner]
    client.post(f"{BASE}{group.public_id}/owners/{owner.public_id}/remove/")
    with tenant_context(acme.tenant):
        assert not group.owners.exists()
    assert audit_actions(acme, group.public_id)[-2:] == ["group.owner.add", "group.owner.remove"]


@pytest.mark.parametrize("role", ["guest_inviter", "branding_administrator", "reports_reader",
                                  "security_administrator"])  # fmt: skip
def test_other_admin_roles_are_refused(acme, role):
    group = make_group(acme)
    client = acme.client(make_user(acme, admin_roles=[role]))
    assert client.get(BASE).status_code == 403
    assert client.get(f"{BASE}{group.public_id}/").status_code == 403
    assert client.post(BASE + "new/", {"display_name": "Nope"}).status_code == 403
    response = client.post(f"{BASE}{group.public_id}/members/", {"emails": acme.member.email})
    assert response.status_code == 403
    with tenant_context(acme.tenant):
        assert not Group.objects.filter(display_name="Nope").exists()
        assert not group.members.exists()


def test_an_application_administrator_gives_roles_but_cannot_change_members(acme):
    app_admin = make_user(acme, admin_roles=["application_administrator"])
    app = register_app(acme, name="Payroll")
    role = make_role(acme, app.application, "approver")
    group = make_group(acme)
    client = acme.client(app_admin)
    page = client.get(f"{BASE}{group.public_id}/").content.decode()
    assert "Add members" not in page and "Payroll: Approver (approver)" in page
    response = client.post(f"{BASE}{group.public_id}/app-roles/", {"role": str(role.public_id)})
    assert response.status_code == 303
    with tenant_context(acme.tenant):
        assert list(role.group_assignments.values_list("group_id", flat=True)) == [group.pk]
    app_page = acme.client(acme.admin).get(f"/console/apps/{app.application.public_id}/")
    assert group.display_name in app_page.content.decode()
    forbidden = client.post(f"{BASE}{group.public_id}/members/", {"emails": acme.member.email})
    assert forbidden.status_code == 403
    # A User administrator manages members but not app roles.
    user_admin = make_user(acme, admin_roles=["user_administrator"])
    refused = acme.client(user_admin).post(
        f"{BASE}{group.public_id}/app-roles/{role.public_id}/remove/"
    )
    assert refused.status_code == 403


def test_the_list_searches_filters_by_member_and_pages(acme, user_admin):
    member = make_user(acme)
    wanted = make_group(acme, name="Zeta searchable", members=[member])
    make_group(acme, name="Zeta other")
    client = acme.client(user_admin)
    found = client.get(BASE, {"q": "searchable"})
    assert [row.record for row in found.context["table"].page.object_list] == [wanted]
    by_member = client.get(BASE, {"member": member.email.upper()})
    assert [row.record for row in by_member.context["table"].page.object_list] == [wanted]
    fragment = client.get(BASE, {"q": "Zeta"}, HTTP_HX_REQUEST="true")
    assert "<html" not in fragment.content.decode() and "Zeta other" in fragment.content.decode()


def test_a_users_page_lists_their_groups(acme, user_admin):
    user = make_user(acme)
    group = make_group(acme, name="Visible on the user page", members=[user])
    page = acme.client(user_admin).get(f"/console/users/{user.public_id}/").content.decode()
    assert "Visible on the user page" in page
    assert f"/console/groups/{group.public_id}/" in page
    other = make_user(acme)
    page = acme.client(user_admin).get(f"/console/users/{other.public_id}/").content.decode()
    assert "Not a member of any group." in page


def test_another_tenants_groups_are_out_of_reach(acme, globex):
    group = make_group(globex, name="Globex only")
    client = acme.client(acme.admin)
    assert client.get(f"{BASE}{group.public_id}/").status_code == 404
    assert "Globex only" not in client.get(BASE).content.decode()
    assert client.post(f"{BASE}{group.public_id}/delete/").status_code == 404


def test_the_users_list_filters_by_group(acme):
    """Console > Users offers the tenant's groups as a filter (registered by the groups app)."""
    import re
    import uuid

    from django.contrib.auth import get_user_model
    from django_tenants.utils import tenant_context

    from groups import services

    domain = f"by-group-{uuid.uuid4().hex[:6]}.example"
    with tenant_context(acme.tenant):
        inside, outside = (
            get_user_model().objects.create_user(email=f"{name}@{domain}", password=None)
            for name in ("inside", "outside")
        )
        group = services.group_create(actor=acme.admin, display_name=f"Team {domain}")
        services.group_members_add(actor=acme.admin, group=group, users=[inside])
    client = acme.client(acme.admin)
    page = client.get("/console/users/", {"q": domain}).content.decode()
    assert f'<option value="{group.pk}">Team {domain}</option>' in page
    fragment = client.get(
        "/console/users/", {"q": domain, "group": group.pk}, HTTP_HX_REQUEST="true"
    ).content.decode()
    shown = set(re.findall(r'<a href="/console/users/[0-9a-f-]+/">([^<]+)</a>', fragment))
    assert shown == {inside.email}
