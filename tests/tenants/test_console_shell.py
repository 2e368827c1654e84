from __future__ import annotations

import re
from urllib.parse import unquote

from django.contrib.auth import get_user_model
from django_tenants.utils import tenant_context


def test_anonymous_visitor_is_sent_to_the_tenant_sign_in(acme):
    response = acme.client().get("/console/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/console/"


def test_member_who_is_not_an_admin_gets_a_403_page(acme):
    client = acme.client(acme.member)
    response = client.get("/console/")
    assert response.status_code == 403
    assert "You don't have access to this page" in response.content.decode()


def test_global_administrator_sees_the_overview_and_navigation(acme):
    client = acme.client(acme.admin)
    response = client.get("/console/")
    body = response.content.decode()
    assert response.status_code == 200
    nav = body.split('<nav class="console-nav"', 1)[1].split("</nav>", 1)[0]
    links = [
        ("/console/", "Overview"),
        ("/console/users/", "Users"),
        ("/console/apps/", "Apps"),
        ("/console/identity-providers/", "Identity providers"),
        ("/console/user-flows/", "User flows"),
        ("/console/branding/", "Branding"),
        ("/console/guests/", "Guests"),
        ("/console/policies/", "Policies"),
        ("/console/logs/sign-ins/", "Sign-in log"),
        ("/console/logs/audit/", "Audit log"),
    ]
    for href, label in links:
        assert f'href="{href}"' in nav and f">{label}<" in nav
    # In this order, and no area whose pages have not been built (no "soon" placeholders).
    positions = [nav.index(f'href="{href}"') for href, _ in links]
    assert positions == sorted(positions)
    assert ">Logs<" in nav
    assert "soon" not in nav
    assert str(acme.tenant.public_id) in body


def test_role_decorator_limits_a_page_to_its_roles(acme):
    with tenant_context(acme.tenant):
        reader = get_user_model().objects.create_user(
            email="reader@acme.test", password="x" * 20, admin_roles=["reports_reader"]
        )
    client = acme.client(reader)
    assert client.get("/console/").status_code == 200
    assert client.get("/console/logs/", follow=True).status_code == 200
    assert client.get("/console/users/").status_code == 403
    nav = client.get("/console/").content.decode()
    assert 'href="/console/users/"' not in nav


def test_user_list_searches_and_paginates(acme):
    with tenant_context(acme.tenant):
        for number in range(30):
            get_user_model().objects.create_user(email=f"bulk{number:02}@acme.test")
    client = acme.client(acme.admin)
    first = client.get("/console/users/", {"q": "bulk"}).content.decode()
    assert "bulk24@acme.test" in first and "bulk25@acme.test" not in first
    # Keyset pages (the list may hold a million users): the next page starts after the last
    # row shown.
    next_page = re.search(r'rel="next" href="\?q=bulk&amp;page=(a\.[^"]+)"', first).group(1)
    second = client.get("/console/users/", {"q": "bulk", "page": unquote(next_page)})
    second = second.content.decode()
    assert "bulk29@acme.test" in second and "bulk24@acme.test" not in second
    fragment = client.get("/console/users/", {"q": "bulk07"}, HTTP_HX_REQUEST="true")
    assert "<html" not in fragment.content.decode()
    assert "bulk07@acme.test" in fragment.content.decode()


def test_admin_session_of_one_tenant_means_nothing_at_another(acme, globex):
    client = acme.client(acme.admin)
    session_cookie = client.cookies["sessionid"].value
    other = globex.client()
    other.cookies["sessionid"] = session_cookie
    response = other.get("/console/")
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_console_user_data_is_escaped(acme):
    with tenant_context(acme.tenant):
        get_user_model().objects.create_user(
            email="xss@acme.test", display_name="<script>alert(1)</script>"
        )
    client = acme.client(acme.admin)
    body = client.get("/console/users/", {"q": "xss"}).content.decode()
    assert "<script>alert(1)</script>" not in body
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body


def test_user_administrator_disables_a_member_whose_sessions_end(acme):
    from allauth.usersessions.models import UserSession

    from audit.models import AuditEvent
    from tests.helpers import PASSWORD

    member_browser = acme.client()
    member_browser.post("/accounts/login/", {"login": acme.member.email, "password": PASSWORD})
    assert member_browser.get("/account/").status_code == 200
    with tenant_context(acme.tenant):
        # Other tests in this run may have left sessions of the shared member: all of them end.
        sessions_before = UserSession.objects.filter(user=acme.member).count()
        assert sessions_before >= 1
        user_admin = get_user_model().objects.create_user(
            email="useradmin@acme.test", admin_roles=["user_administrator"]
        )

    console = acme.client(user_admin)
    response = console.post(
        f"/console/users/{acme.member.public_id}/enabled/", {"enabled": "false"}
    )
    assert response.status_code == 302
    page = console.get(response["Location"]).content.decode()
    assert "is disabled: their sessions ended" in page
    assert "Enable user" in page

    assert member_browser.get("/account/").status_code == 302  # signed out
    again = acme.client()
    again.post("/accounts/login/", {"login": acme.member.email, "password": PASSWORD})
    assert again.get("/account/").status_code == 302  # a disabled user cannot sign in
    with tenant_context(acme.tenant):
        assert not UserSession.objects.filter(user=acme.member).exists()
        event = AuditEvent.objects.get(action="user.disable", target_label=acme.member.email)
        assert event.actor_label == "useradmin@acme.test"
        assert event.after["sessions_ended"] == sessions_before

    console.post(f"/console/users/{acme.member.public_id}/enabled/", {"enabled": "true"})
    back = acme.client()
    back.post("/accounts/login/", {"login": acme.member.email, "password": PASSWORD})
    assert back.get("/account/").status_code == 200


def test_admins_cannot_disable_themselves_or_administrators_above_them(acme):
    with tenant_context(acme.tenant):
        user_admin = get_user_model().objects.create_user(
            email="ua2@acme.test", admin_roles=["user_administrator"]
        )
    own = acme.client(user_admin).post(
        f"/console/users/{user_admin.public_id}/enabled/", {"enabled": "false"}, follow=True
    )
    assert "You cannot disable your own account." in own.content.decode()
    above = acme.client(user_admin).post(
        f"/console/users/{acme.admin.public_id}/enabled/", {"enabled": "false"}, follow=True
    )
    assert "Only a Global administrator" in above.content.decode()
    with tenant_context(acme.tenant):
        assert get_user_model().objects.filter(is_active=True, pk__in=[
            user_admin.pk, acme.admin.pk
        ]).count() == 2  # fmt: skip


def test_members_and_other_tenants_cannot_disable_users(acme, globex):
    member = acme.client(acme.member).post(
        f"/console/users/{acme.admin.public_id}/enabled/", {"enabled": "false"}
    )
    assert member.status_code == 403
    other = globex.client(globex.admin).post(
        f"/console/users/{acme.member.public_id}/enabled/", {"enabled": "false"}
    )
    assert other.status_code == 404
    with tenant_context(acme.tenant):
        assert get_user_model().objects.get(pk=acme.member.pk).is_active
