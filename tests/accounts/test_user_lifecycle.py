"""Console > Users: a user's life as admins run it. Created with an email to choose a password
(never one an admin picks), edited, signed out everywhere, sent a password reset, deleted
(disabled and hidden at once), restored within 30 days and purged after, with what they owned;
the last Global administrator stays; each action for the right role only."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone
from django_tenants.utils import tenant_context

from accounts import lifecycle
from accounts.roles import AdminRole
from audit.models import AuditEvent, SignInEvent
from tests.helpers import (
    PASSWORD,
    emails_to,
    link_in,
    make_user,
    sign_in,
    sole_global_administrator,
    tenant_client,
    unique_email,
)
from tests.oidc.helpers import Flow, register_app

NEW_PASSWORD = "a brand new passphrase 2026"


def make_admin(world, *roles, email=None):
    return make_user(
        world, email=email or unique_email("admin", "acme.test"), admin_roles=list(roles)
    )


def fresh(world, user):
    with tenant_context(world.tenant):
        return get_user_model().objects.filter(pk=user.pk).first()


def actions(world, action, user=None):
    with tenant_context(world.tenant):
        rows = AuditEvent.objects.filter(action=action)
        if user is not None:
            rows = rows.filter(target_id=str(user.public_id))
        return list(rows)


# Creation ------------------------------------------------------------------------------------


def test_a_created_user_chooses_their_own_password_from_the_email_and_signs_in(acme):
    email = unique_email("new", "acme.test")
    client = acme.client(acme.admin)
    form = client.get("/console/users/new/").content.decode()
    assert 'name="email"' in form
    assert 'type="password"' not in form  # no admin-chosen password, ever
    response = client.post(
        "/console/users/new/",
        {"email": email.upper(), "attr_givenName": "Grace", "attr_surname": "Hopper"},
    )
    assert response.status_code == 302
    with tenant_context(acme.tenant):
        user = get_user_model().objects.get(email=email)
    assert response["Location"] == f"/console/users/{user.public_id}/"
    assert (user.first_name, user.last_name) == ("Grace", "Hopper")
    assert not user.has_usable_password() and user.is_active
    (created,) = actions(acme, "user.create", user)
    assert created.actor_label == acme.admin.email

    (text,) = emails_to(acme, email)
    assert "Choose your password" in text and "ask for a code" in text
    link = link_in(text.split("Choose your password")[1])
    assert link.startswith(f"http://{acme.host}") and "/accounts/password/reset/key/" in link
    browser = tenant_client(acme)
    form_page = browser.get(link.split(acme.host, 1)[1], follow=True)
    set_url = form_page.redirect_chain[-1][0]
    done = browser.post(set_url, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD})
    assert done.status_code == 302 and done["Location"] == "/accounts/password/reset/key/done/"
    signed_in = sign_in(tenant_client(acme), email, NEW_PASSWORD)
    assert signed_in.status_code == 302 and "/accounts/login/" not in signed_in["Location"]


def test_creating_an_address_that_exists_or_is_deleted_says_so_next_to_the_field(acme):
    client = acme.client(acme.admin)
    taken = client.post("/console/users/new/", {"email": acme.member.email})
    assert taken.status_code == 400
    assert "A user with this address already exists." in taken.content.decode()
    assert 'value="' + acme.member.email + '"' in taken.content.decode()  # keeps what was typed
    deleted = make_user(acme)
    with tenant_context(acme.tenant):
        lifecycle.user_delete(actor=acme.admin, user=deleted)
    again = client.post("/console/users/new/", {"email": deleted.email})
    assert again.status_code == 400 and "A deleted user has this address" in again.content.decode()
    bad = client.post("/console/users/new/", {"email": "not-an-address"})
    assert bad.status_code == 400 and "valid email" in bad.content.decode()


@pytest.mark.parametrize(
    "role", [None, "guest_inviter", "reports_reader", "branding_administrator"]
)
def test_only_user_administrators_create_edit_delete_or_reset(acme, role):
    outsider = make_admin(acme, role) if role else make_user(acme)
    target = make_user(acme)
    client = acme.client(outsider)
    base = f"/console/users/{target.public_id}/"
    for method, url, data in (
        ("get", "/console/users/new/", None),
        ("post", "/console/users/new/", {"email": unique_email("x", "acme.test")}),
        ("post", base + "edit/", {"attr_givenName": "Mallory"}),
        ("post", base + "delete/", {}),
        ("post", base + "restore/", {}),
        ("post", base + "password-reset/", {}),
        ("post", base + "sessions/revoke/", {}),
        ("get", "/console/users/export.csv", None),
        ("get", "/console/users/import/", None),
    ):
        response = getattr(client, method)(url, data or {})
        assert response.status_code in (302, 403), (url, response.status_code)
        if response.status_code == 302:  # no console at all for a member: the sign-in page
            assert "/console/" not in response["Location"] or "login" in response["Location"]
    after = fresh(acme, target)
    assert after.first_name == "" and after.deleted_at is None
    assert emails_to(acme, target.email) == []


# Profile -------------------------------------------------------------------------------------


def test_a_user_administrator_edits_names_and_custom_attributes(acme):
    from accounts.models import SignUpAttribute, UserFlow

    with tenant_context(acme.tenant):
        flow = UserFlow.objects.first()
        SignUpAttribute.objects.create(
            flow=flow, key="loyaltyLevel", label="Loyalty level", data_type="choice",
            choices=["silver", "gold"], position=9,
        )  # fmt: skip
    user_admin = make_admin(acme, AdminRole.USER_ADMINISTRATOR)
    target = make_user(acme, attributes={"legacyId": "L-1"})
    client = acme.client(user_admin)
    url = f"/console/users/{target.public_id}/edit/"
    page = client.get(url).content.decode()
    assert 'name="attr_loyaltyLevel"' in page and 'name="attr_givenName"' in page
    refused = client.post(url, {"attr_loyaltyLevel": "platinum", "attr_givenName": "Ada"})
    assert refused.status_code == 400 and 'value="Ada"' in refused.content.decode()
    saved = client.post(
        url, {"attr_loyaltyLevel": "gold", "attr_givenName": "Ada", "attr_displayName": "Countess"}
    )
    assert saved.status_code == 302
    after = fresh(acme, target)
    assert (after.first_name, after.display_name) == ("Ada", "Countess")
    assert after.attributes == {"legacyId": "L-1", "loyaltyLevel": "gold", "givenName": "Ada",
                                "displayName": "Countess"}  # fmt: skip
    (event,) = actions(acme, "user.update", target)
    assert event.after["first_name"] == "Ada" and event.before["first_name"] == ""


def test_a_user_administrator_does_not_touch_administrators(acme):
    user_admin = make_admin(acme, AdminRole.USER_ADMINISTRATOR)
    other_admin = make_admin(acme, AdminRole.REPORTS_READER)
    client = acme.client(user_admin)
    page = client.get(f"/console/users/{other_admin.public_id}/").content.decode()
    assert "Only a Global administrator can change an administrator." in page
    assert f"/console/users/{other_admin.public_id}/delete/" not in page
    client.post(f"/console/users/{other_admin.public_id}/edit/", {"attr_givenName": "X"})
    client.post(f"/console/users/{other_admin.public_id}/delete/")
    client.post(f"/console/users/{other_admin.public_id}/password-reset/")
    after = fresh(acme, other_admin)
    assert after.first_name == "" and after.deleted_at is None
    assert emails_to(acme, other_admin.email) == []
    # A Global administrator does.
    acme.client(acme.admin).post(f"/console/users/{other_admin.public_id}/delete/")
    assert fresh(acme, other_admin).deleted_at is not None


# Sessions, tokens, password reset ------------------------------------------------------------


def _signed_in_with_tokens(world, user):
    """A browser session of `user` and a refresh token an app holds for them."""
    browser = world.client(user)
    assert browser.get("/account/").status_code == 200
    app = register_app(world, name="Portal")
    tokens = Flow(world, user=user).sign_in(app)
    assert "refresh_token" in tokens
    return browser, app, tokens


def test_revoking_sessions_signs_the_user_out_everywhere_and_ends_refresh_tokens(acme):
    user = make_user(acme)
    browser, app, tokens = _signed_in_with_tokens(acme, user)
    client = acme.client(acme.admin)
    url = f"/console/users/{user.public_id}/sessions/revoke/"
    assert "Revoke sessions" in client.get(url).content.decode()  # asks first
    response = client.post(url, follow=True)
    assert "sessions ended" in response.content.decode()
    assert browser.get("/account/").status_code == 302  # signed out
    status, body = Flow(acme).token(
        app, {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]}
    )
    assert status == 400 and body["error"] == "invalid_grant"
    (event,) = actions(acme, "user.sessions_revoke", user)
    assert event.after["refresh_tokens_revoked"] >= 1


def test_a_password_reset_is_emailed_limited_and_never_offered_to_guests(acme):
    user = make_user(acme)
    client = acme.client(acme.admin)
    url = f"/console/users/{user.public_id}/password-reset/"
    assert f'action="{url}"' in client.get(f"/console/users/{user.public_id}/").content.decode()
    for _ in range(3):
        assert client.post(url).status_code == 302
    texts = emails_to(acme, user.email)
    assert len(texts) == 3 and "/accounts/password/reset/key/" in texts[0]
    limited = client.post(url)
    assert limited.status_code == 429
    assert "Nothing was sent" in limited.content.decode()
    assert len(emails_to(acme, user.email)) == 3
    assert len(actions(acme, "user.password_reset_send", user)) == 3

    guest = make_user(acme, password=None, user_type="guest")
    page = client.get(f"/console/users/{guest.public_id}/").content.decode()
    assert f"/console/users/{guest.public_id}/password-reset/" not in page
    refused = client.post(f"/console/users/{guest.public_id}/password-reset/", follow=True)
    assert "Guests have no password here" in refused.content.decode()
    assert emails_to(acme, guest.email) == []


# Deletion, restore, purge --------------------------------------------------------------------


def test_a_deleted_user_is_disabled_and_hidden_at_once_and_restorable(acme):
    user = make_user(acme, display_name="Soon Gone")
    browser, app, tokens = _signed_in_with_tokens(acme, user)
    client = acme.client(acme.admin)
    url = f"/console/users/{user.public_id}/delete/"
    confirm = client.get(url).content.decode()
    assert "restore them for 30 days" in confirm
    response = client.post(url)
    assert response.status_code == 302 and response["Location"] == "/console/users/"

    after = fresh(acme, user)
    assert not after.is_active and after.deleted_at is not None
    assert browser.get("/account/").status_code == 302
    status, _body = Flow(acme).token(
        app, {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]}
    )
    assert status == 400
    assert sign_in(tenant_client(acme), user.email, PASSWORD)["Location"] == "/accounts/inactive/"
    listed = client.get("/console/users/", {"q": user.email}, HTTP_HX_REQUEST="true")
    assert user.email not in listed.content.decode()
    deleted_list = client.get(
        "/console/users/", {"q": user.email, "state": "deleted"}, HTTP_HX_REQUEST="true"
    )
    assert user.email in deleted_list.content.decode()
    page = client.get(f"/console/users/{user.public_id}/").content.decode()
    assert "restorable until" in page and "Restore user" in page

    restored = client.post(f"/console/users/{user.public_id}/restore/")
    assert restored.status_code == 302
    back = fresh(acme, user)
    assert back.is_active and back.deleted_at is None
    assert sign_in(tenant_client(acme), user.email, PASSWORD).status_code == 302
    assert [event.action for event in actions(acme, "user.delete", user)] == ["user.delete"]
    assert len(actions(acme, "user.restore", user)) == 1


def test_a_disabled_user_deleted_and_restored_stays_disabled(acme):
    user = make_user(acme, is_active=False)
    with tenant_context(acme.tenant):
        lifecycle.user_delete(actor=acme.admin, user=user)
        lifecycle.user_restore(actor=acme.admin, user=fresh(acme, user))
    assert fresh(acme, user).is_active is False


def test_restore_works_for_30_days_only(acme):
    user = make_user(acme)
    deleted_at = timezone.now() - timedelta(days=31)
    with tenant_context(acme.tenant):
        lifecycle.user_delete(actor=acme.admin, user=user, now=deleted_at)
        target = fresh(acme, user)
        lifecycle.user_restore(
            actor=acme.admin, user=target, now=deleted_at + timedelta(days=29, hours=23)
        )
        assert fresh(acme, user).deleted_at is None
        lifecycle.user_delete(actor=acme.admin, user=fresh(acme, user), now=deleted_at)
    refused = acme.client(acme.admin).post(f"/console/users/{user.public_id}/restore/", follow=True)
    assert "can no longer be restored" in refused.content.decode()
    assert fresh(acme, user).deleted_at is not None


def test_purge_after_30_days_removes_the_user_and_what_they_owned_the_log_keeps_who(acme):
    from allauth.socialaccount.models import SocialAccount
    from allauth.usersessions.models import UserSession
    from oauth2_provider.models import get_refresh_token_model

    from mfa.models import TOTPDevice
    from tenants.models import TenantWork
    from tenants.work import tenants_with_work_due
    from tests.helpers import work_index_clear

    def purge_due(now) -> bool:
        found = tenants_with_work_due(TenantWork.Kind.DELETED_USERS_PURGE, now=now)
        return acme.tenant.pk in {tenant.pk for tenant in found}

    user = make_user(acme, display_name="Purged Person")
    keeper = make_user(acme)
    _signed_in_with_tokens(acme, user)
    deleted_at = timezone.now() - timedelta(days=10)
    work_index_clear()
    with tenant_context(acme.tenant):
        SocialAccount.objects.create(user=user, provider="google", uid=f"g-{user.pk}")
        TOTPDevice.objects.create(user=user, name="phone", confirmed=True)
        SignInEvent.objects.create(user=user, email_typed=user.email, method="password",
                                   result="success")  # fmt: skip
        lifecycle.user_delete(actor=acme.admin, user=user, now=deleted_at)
        lifecycle.user_delete(actor=acme.admin, user=keeper, now=timezone.now())
        # Day 29 after deletion: nothing is purged yet.
        assert lifecycle.deleted_users_purge(now=deleted_at + timedelta(days=29)) == 0
        # The deletion told the public work index when the purge is due (tenants/work.py).
        assert not purge_due(deleted_at + timedelta(days=29))
        later = deleted_at + timedelta(days=30, minutes=1)
        assert purge_due(later)
        assert lifecycle.deleted_users_purge(now=later) >= 1
        # The keeper is left: the purge is due again by 30 days after their deletion.
        next_due = lifecycle.deleted_users_purge_next_due()
        assert next_due is not None and next_due <= keeper.deleted_at + timedelta(days=30)
        assert not get_user_model().objects.filter(pk=user.pk).exists()
        assert get_user_model().objects.filter(pk=keeper.pk).exists()  # deleted 10 days later
        assert not SocialAccount.objects.filter(uid=f"g-{user.pk}").exists()
        assert not TOTPDevice.objects.filter(user_id=user.pk).exists()
        assert not UserSession.objects.filter(user_id=user.pk).exists()
        assert not get_refresh_token_model().objects.filter(user_id=user.pk).exists()
        logged = SignInEvent.objects.filter(user_public_id=user.public_id)
        assert logged.exists() and {event.user_name for event in logged} == {"Purged Person"}
        assert {event.user_email for event in logged} == {user.email}
        (purge,) = AuditEvent.objects.filter(action="user.purge", target_id=str(user.public_id))
        assert purge.target_label == user.email


# The last Global administrator and admin roles -----------------------------------------------


def test_the_last_global_administrator_cannot_be_deleted_or_disabled(acme):
    from django.core.exceptions import ValidationError

    sole_global_administrator(acme)
    client = acme.client(acme.admin)
    page = client.get(f"/console/users/{acme.admin.public_id}/").content.decode()
    assert f"/console/users/{acme.admin.public_id}/delete/" not in page
    client.post(f"/console/users/{acme.admin.public_id}/delete/")
    client.post(f"/console/users/{acme.admin.public_id}/enabled/", {"enabled": "false"})
    after = fresh(acme, acme.admin)
    assert after.is_active and after.deleted_at is None
    with tenant_context(acme.tenant):
        assert lifecycle.is_last_global_administrator(acme.admin)
        with pytest.raises(ValidationError, match="last Global administrator"):
            lifecycle.last_global_administrator_check(acme.admin)
        # A second one may delete the first, who is then no longer the last.
        second = make_admin(acme, AdminRole.GLOBAL_ADMINISTRATOR)
        assert not lifecycle.is_last_global_administrator(acme.admin)
        lifecycle.user_delete(actor=second, user=fresh(acme, acme.admin))
        # ... and the remaining one is now the last: nobody may disable or delete them.
        assert lifecycle.is_last_global_administrator(fresh(acme, second))
        with pytest.raises(ValidationError):
            lifecycle.user_restore(actor=acme.member, user=fresh(acme, acme.admin))


def test_role_changes_are_emailed_to_the_person(acme):
    client = acme.client(acme.admin)
    url = f"/console/users/{acme.member.public_id}/roles/"
    client.post(url, {"roles": ["reports_reader", "guest_inviter"]})
    client.post(url, {"roles": ["guest_inviter"]})
    first, second = emails_to(acme, acme.member.email)
    assert "Given to you: Guest inviter, Reports reader" in first
    assert "Taken from you: Reports reader" in second
    assert "Your roles now: Guest inviter" in second and acme.admin.email in second


# The user page -------------------------------------------------------------------------------


def test_the_user_page_shows_apps_consents_identities_and_audit_trail(acme):
    from allauth.socialaccount.models import SocialAccount

    from oidc.models import Consent

    user = make_user(acme)
    reader = make_admin(acme, AdminRole.USER_ADMINISTRATOR, AdminRole.REPORTS_READER)
    third_party = register_app(acme, name="Partner Shop", first_party=False)
    with tenant_context(acme.tenant):
        Consent.objects.create(user=user, application=third_party.application,
                               scopes=["openid", "email"])  # fmt: skip
        SocialAccount.objects.create(user=user, provider="github", uid="octo-42")
        SignInEvent.objects.create(user=user, email_typed=user.email, method="password",
                                   result="success", app_id=third_party.client_id,
                                   app_name="Partner Shop")  # fmt: skip
        lifecycle.user_update(actor=acme.admin, user=user, first_name="Edited")
    page = acme.client(reader).get(f"/console/users/{user.public_id}/").content.decode()
    assert "Apps and consents" in page and "Partner Shop" in page and "openid email" in page
    assert "github" in page and "octo-42" in page
    assert "Audit trail" in page and "user.update" in page
    assert "Multi-factor authentication" in page
    # A User administrator who does not read the logs sees no audit trail.
    plain = make_admin(acme, AdminRole.USER_ADMINISTRATOR)
    assert (
        "Audit trail"
        not in acme.client(plain).get(f"/console/users/{user.public_id}/").content.decode()
    )


def test_an_admin_of_one_tenant_cannot_act_on_another_tenants_user(acme, globex):
    client = acme.client(acme.admin)
    base = f"/console/users/{globex.member.public_id}/"
    for url in (base, base + "edit/", base + "delete/", base + "restore/"):
        assert client.post(url).status_code in (404, 405)
    assert fresh(globex, globex.member).deleted_at is None
