"""What each admin role sees and may do in the console: the overview shows a role only what it
may read, buttons appear only for those allowed to use them, disabling says how long issued
access tokens live on, and admin roles are assigned by Global administrators only."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django_tenants.utils import tenant_context

from audit.models import AuditEvent
from audit.services import audit_record
from tests.helpers import sole_global_administrator


def make_admin(world, email: str, *roles: str):
    with tenant_context(world.tenant):
        return get_user_model().objects.create_user(email=email, admin_roles=list(roles))


def roles_of(world, user) -> list[str]:
    with tenant_context(world.tenant):
        return get_user_model().objects.get(pk=user.pk).admin_roles


def test_overview_shows_recent_audit_events_only_to_log_readers(acme):
    with tenant_context(acme.tenant):
        audit_record(actor=acme.admin, action="secret.overview_probe", target=acme.member)
    branding = make_admin(acme, "branding@acme.test", "branding_administrator")
    reader = make_admin(acme, "reader@acme.test", "reports_reader")

    hidden = acme.client(branding).get("/console/")
    assert hidden.status_code == 200
    body = hidden.content.decode()
    assert "Recent changes" not in body and "secret.overview_probe" not in body
    # Nor the directory's counts: a Branding administrator cannot open Users either.
    assert "Directory" not in body
    assert "Branding administrator" in body  # what the role is, and the tenant card
    assert str(acme.tenant.public_id) in body

    shown = acme.client(reader).get("/console/").content.decode()
    assert "Recent changes" in shown and "secret.overview_probe" in shown
    assert "Directory" in shown
    assert 'href="/console/logs/audit/"' in shown


def test_overview_shows_application_administrators_their_apps(acme):
    app_admin = make_admin(acme, "apps@acme.test", "application_administrator")
    body = acme.client(app_admin).get("/console/").content.decode()
    assert "App registrations" in body and 'href="/console/apps/"' in body
    assert "Recent changes" not in body and "Directory" not in body


def test_signing_keys_page_offers_rotation_only_to_security_administrators(acme):
    rotate = 'href="/console/apps/signing-keys/rotate/"'
    app_admin = make_admin(acme, "apps-keys@acme.test", "application_administrator")
    security = make_admin(acme, "security-keys@acme.test", "security_administrator")

    page = acme.client(app_admin).get("/console/apps/signing-keys/")
    assert page.status_code == 200
    assert rotate not in page.content.decode()
    assert "A Security administrator can rotate the key." in page.content.decode()
    assert acme.client(app_admin).get("/console/apps/signing-keys/rotate/").status_code == 403

    assert rotate in acme.client(security).get("/console/apps/signing-keys/").content.decode()
    assert acme.client(security).get("/console/apps/signing-keys/rotate/").status_code == 200


def test_sign_in_log_links_users_only_for_those_who_may_open_them(acme):
    from audit.models import SignInEvent

    with tenant_context(acme.tenant):
        SignInEvent.objects.create(
            user=acme.member, email_typed=acme.member.email, method="password", result="success"
        )
    reader = make_admin(acme, "reader-links@acme.test", "reports_reader")
    user_page = f'href="/console/users/{acme.member.public_id}/"'

    page = acme.client(reader).get("/console/logs/sign-ins/").content.decode()
    assert acme.member.email in page and user_page not in page
    assert acme.client(reader).get(f"/console/users/{acme.member.public_id}/").status_code == 403

    assert user_page in acme.client(acme.admin).get("/console/logs/sign-ins/").content.decode()


def test_user_administrator_sees_no_disable_button_for_an_administrator(acme):
    user_admin = make_admin(acme, "ua-button@acme.test", "user_administrator")
    disable = f'href="/console/users/{acme.admin.public_id}/enabled/"'
    page = acme.client(user_admin).get(f"/console/users/{acme.admin.public_id}/")
    assert disable not in page.content.decode()
    member_page = acme.client(user_admin).get(f"/console/users/{acme.member.public_id}/")
    assert f'href="/console/users/{acme.member.public_id}/enabled/"' in member_page.content.decode()
    # The URL typed by hand shows no confirmation the submit would refuse, but the reason.
    client = acme.client(user_admin)
    typed = client.get(f"/console/users/{acme.admin.public_id}/enabled/")
    assert typed["Location"] == f"/console/users/{acme.admin.public_id}/"
    page = client.get(typed["Location"]).content.decode()
    assert "Only a Global administrator can disable or enable an administrator." in page
    own = acme.client(acme.admin).get(f"/console/users/{acme.admin.public_id}/enabled/")
    assert own["Location"] == f"/console/users/{acme.admin.public_id}/"


def test_disabling_states_how_long_issued_access_tokens_keep_working(acme):
    from oidc.services import application_create

    with tenant_context(acme.tenant):
        application_create(
            actor=acme.admin, name="Long tokens", app_type="web",
            redirect_uris="https://app.example/callback", post_logout_redirect_uris="",
            is_first_party=True, access_token_lifetime=2 * 3600, id_token_lifetime=3600,
            refresh_token_lifetime=14 * 24 * 3600, api_permissions=[], claim_mappings="",
        )  # fmt: skip
    client = acme.client(acme.admin)
    url = f"/console/users/{acme.member.public_id}/enabled/"
    bound = "Access tokens already issued keep working until they expire, at most 120 minutes"

    assert bound in client.get(f"/console/users/{acme.member.public_id}/").content.decode()
    confirmation = client.get(url)
    body = confirmation.content.decode()
    assert confirmation.status_code == 200 and bound in body
    assert f'<form method="post" action="{url}"' in body
    with tenant_context(acme.tenant):
        assert get_user_model().objects.get(pk=acme.member.pk).is_active  # asking changed nothing

    done = client.post(url, {"enabled": "false"}, follow=True).content.decode()
    assert "is disabled" in done and "at most 120 minutes" in done
    with tenant_context(acme.tenant):
        assert not get_user_model().objects.get(pk=acme.member.pk).is_active


def test_the_default_access_token_lifetime_is_an_hour_and_the_maximum_a_day(acme):
    from oidc.forms import ApplicationForm

    field = ApplicationForm.base_fields["access_token_hours"]
    assert field.initial == 1 and field.max_value == 24
    client = acme.client(acme.admin)
    assert (
        "at most 60 minutes"
        in client.get(f"/console/users/{acme.member.public_id}/").content.decode()
    )


def test_global_administrator_assigns_and_removes_any_role_with_an_audit_row(acme):
    client = acme.client(acme.admin)
    url = f"/console/users/{acme.member.public_id}/roles/"
    page = client.get(f"/console/users/{acme.member.public_id}/").content.decode()
    assert f'action="{url}"' in page and 'value="global_administrator"' in page

    response = client.post(url, {"roles": ["security_administrator", "reports_reader"]})
    assert response.status_code == 302
    assert roles_of(acme, acme.member) == ["security_administrator", "reports_reader"]
    with tenant_context(acme.tenant):
        event = AuditEvent.objects.get(action="user.admin_roles_update")
    assert event.actor_label == acme.admin.email
    assert event.target_label == acme.member.email
    assert event.before == {"admin_roles": []}
    assert event.after == {"admin_roles": ["security_administrator", "reports_reader"]}

    client.post(url, {"roles": ["reports_reader"]})
    assert roles_of(acme, acme.member) == ["reports_reader"]


def test_a_user_administrator_assigns_no_role_not_even_one_they_could_use(acme):
    """Issue 17: only a Global administrator assigns admin roles (nobody grants a role they
    do not hold); a User administrator manages users, not their roles."""
    user_admin = make_admin(acme, "ua-roles@acme.test", "user_administrator")
    security = make_admin(acme, "sec-target@acme.test", "security_administrator")
    client = acme.client(user_admin)

    page = client.get(f"/console/users/{acme.member.public_id}/").content.decode()
    assert "Only a Global administrator assigns admin roles." in page
    assert f'action="/console/users/{acme.member.public_id}/roles/"' not in page
    for target, roles in (
        (acme.member, ["guest_inviter"]), (security, ["reports_reader"]),
        (user_admin, ["user_administrator", "guest_inviter"]), (acme.admin, []),
    ):  # fmt: skip
        before = roles_of(acme, target)
        refused = client.post(f"/console/users/{target.public_id}/roles/", {"roles": roles})
        assert refused.status_code == 302
        assert roles_of(acme, target) == before
    with tenant_context(acme.tenant):
        assert not AuditEvent.objects.filter(action="user.admin_roles_update").exists()


@pytest.mark.parametrize("role", ["guest_inviter", "application_administrator", "reports_reader"])
def test_other_roles_cannot_assign_roles(acme, role):
    admin = make_admin(acme, f"{role}@acme.test", role)
    response = acme.client(admin).post(
        f"/console/users/{acme.member.public_id}/roles/", {"roles": [role]}
    )
    assert response.status_code == 403
    assert roles_of(acme, acme.member) == []


def test_the_last_global_administrator_cannot_remove_their_own_role(acme):
    sole_global_administrator(acme)
    client = acme.client(acme.admin)
    url = f"/console/users/{acme.admin.public_id}/roles/"
    refused = client.post(url, {"roles": ["user_administrator"]}, follow=True)
    assert "The tenant needs at least one Global administrator" in refused.content.decode()
    assert roles_of(acme, acme.admin) == ["global_administrator"]

    # With a second Global administrator, the first may step down.
    make_admin(acme, "second-global@acme.test", "global_administrator")
    client.post(url, {"roles": ["user_administrator"]})
    assert roles_of(acme, acme.admin) == ["user_administrator"]


def test_an_admin_of_one_tenant_cannot_change_roles_of_another_tenants_user(acme, globex):
    response = acme.client(acme.admin).post(
        f"/console/users/{globex.member.public_id}/roles/", {"roles": ["global_administrator"]}
    )
    assert response.status_code == 404
    assert roles_of(globex, globex.member) == []
