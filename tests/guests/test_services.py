"""Invitation rules enforced by the services, whoever calls them."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone
from django_tenants.utils import tenant_context

from accounts.roles import AdminRole
from emails.models import OutboxEmail
from emails.services import message_build
from guests import services
from guests.models import GuestSettings, Invitation
from tests.helpers import unique_email


def test_invitation_stores_only_a_hash_of_its_link_token(acme):
    with tenant_context(acme.tenant):
        invitation = services.invitation_create(
            invited_by=acme.admin, email="p@partner.example", redirect_url="https://app.example/"
        )
        token = invitation.redeem_url.rstrip("/").rsplit("/", 1)[1]
        assert len(token) >= 43  # 32 random bytes, base64url
        stored = Invitation.objects.get(pk=invitation.pk)
        assert token not in stored.token_hash
        assert stored.token_hash == services.token_hash(token)
        assert invitation.redeem_url.startswith("http://acme.localhost")
        assert stored.expires_at - stored.created_at == timedelta(days=7)
        assert OutboxEmail.objects.filter(invitation=stored, status="queued").count() == 1


def test_denied_domain_is_refused(acme):
    with tenant_context(acme.tenant):
        services.guest_settings_update(
            actor=acme.admin, domain_mode=GuestSettings.DomainMode.DENY, domains=["rival.example"]
        )
        with pytest.raises(ValidationError) as caught:
            services.invitation_create(
                invited_by=acme.admin,
                email="x@sub.rival.example",
                redirect_url="https://a.example/",
            )
        assert "blocked" in caught.value.message_dict["email"][0]
        assert not Invitation.objects.filter(email="x@sub.rival.example").exists()


def test_allow_list_refuses_other_domains(acme):
    with tenant_context(acme.tenant):
        services.guest_settings_update(
            actor=acme.admin, domain_mode=GuestSettings.DomainMode.ALLOW, domains=["ok.example"]
        )
        services.invitation_create(
            invited_by=acme.admin, email="a@ok.example", redirect_url="https://a.example/"
        )
        with pytest.raises(ValidationError):
            services.invitation_create(
                invited_by=acme.admin, email="a@other.example", redirect_url="https://a.example/"
            )


@pytest.mark.parametrize(
    ("domain_mode", "copy_to"),
    [
        (GuestSettings.DomainMode.DENY, "boss@sub.rival.example"),
        (GuestSettings.DomainMode.ALLOW, "boss@other.example"),
    ],
)
def test_copies_obey_the_domain_lists(acme, domain_mode, copy_to):
    listed = "rival.example" if domain_mode == GuestSettings.DomainMode.DENY else "ok.example"
    with tenant_context(acme.tenant):
        services.guest_settings_update(actor=acme.admin, domain_mode=domain_mode, domains=[listed])
        email = unique_email(domain="ok.example")
        with pytest.raises(ValidationError) as caught:
            services.invitation_create(
                invited_by=acme.admin,
                email=email,
                redirect_url="https://a.example/",
                cc_recipients=[copy_to],
            )
        assert copy_to in caught.value.message_dict["cc_recipients"][0]
        assert not Invitation.objects.filter(email=email).exists()
        assert not OutboxEmail.objects.filter(to=copy_to).exists()


def test_a_copy_never_holds_the_link_the_invitee_gets_it(acme):
    with tenant_context(acme.tenant):
        invitation = services.invitation_create(
            invited_by=acme.admin,
            email="pat@partner.example",
            redirect_url="https://a.example/",
            message="Welcome aboard",
            cc_recipients=["boss@partner.example"],
        )
        token = invitation.redeem_url.rstrip("/").rsplit("/", 1)[1]
        invitee = message_build(OutboxEmail.objects.get(to="pat@partner.example"))
        copy = message_build(OutboxEmail.objects.get(to="boss@partner.example"))
    assert invitee.to == ["pat@partner.example"] and not invitee.cc
    assert token in invitee.body and token in invitee.alternatives[0][0]
    assert copy.to == ["boss@partner.example"] and not copy.cc
    copy_text = copy.subject + copy.body + copy.alternatives[0][0]
    assert token not in copy_text and "/invite/" not in copy_text
    assert "pat@partner.example" in copy.subject and "Welcome aboard" in copy.body


def test_existing_user_and_pending_duplicate_are_refused(acme):
    with tenant_context(acme.tenant):
        with pytest.raises(ValidationError) as caught:
            services.invitation_create(
                invited_by=acme.admin, email=acme.member.email, redirect_url="https://a.example/"
            )
        assert "already belongs" in caught.value.message_dict["email"][0]
        services.invitation_create(
            invited_by=acme.admin, email="dup@partner.example", redirect_url="https://a.example/"
        )
        with pytest.raises(ValidationError):
            services.invitation_create(
                invited_by=acme.admin,
                email="DUP@partner.example",
                redirect_url="https://a.example/",
            )


@pytest.mark.parametrize(
    ("policy", "member_may", "inviter_may", "admin_may"),
    [
        ("everyone", True, True, True),
        ("members", True, True, True),
        ("guest_inviters", False, True, True),
        ("no_one", False, False, False),
    ],
)
def test_who_can_invite_is_enforced(acme, policy, member_may, inviter_may, admin_may):
    with tenant_context(acme.tenant):
        from django.contrib.auth import get_user_model

        inviter = get_user_model().objects.create_user(
            email=unique_email("inviter", "acme.test"), admin_roles=[AdminRole.GUEST_INVITER]
        )
        services.guest_settings_update(actor=acme.admin, invite_policy=policy)
        my_account = f"http://{acme.host}/account/"  # members may send guests only there
        for user, allowed in (
            (acme.member, member_may),
            (inviter, inviter_may),
            (acme.admin, admin_may),
        ):
            if allowed:
                services.invitation_create(
                    invited_by=user, email=unique_email(), redirect_url=my_account
                )
            else:
                with pytest.raises(PermissionDenied):
                    services.invitation_create(
                        invited_by=user, email=unique_email(), redirect_url=my_account
                    )


def test_expiry_is_bounded_by_the_maximum(acme):
    with tenant_context(acme.tenant):
        services.guest_settings_update(actor=acme.admin, max_expiry_days=10, default_expiry_days=5)
        with pytest.raises(ValidationError) as caught:
            services.invitation_create(
                invited_by=acme.admin,
                email=unique_email(),
                redirect_url="https://a.example/",
                expiry_days=11,
            )
        assert "expiry_days" in caught.value.message_dict
        with pytest.raises(ValidationError):
            services.guest_settings_update(actor=acme.admin, max_expiry_days=31)


def test_redemption_code_allows_five_attempts(acme):
    with tenant_context(acme.tenant):
        invitation = services.invitation_create(
            invited_by=acme.admin, email=unique_email(), redirect_url="https://a.example/"
        )
        services.redemption_code_send(invitation=invitation)
        code = OutboxEmail.objects.filter(kind="redemption_code").latest("id").payload["code"]
        wrong = f"{(int(code) + 1) % 1_000_000:06d}"
        assert [
            services.redemption_code_check(invitation=invitation, code=wrong) for _ in range(5)
        ] == ["wrong"] * 5
        assert services.redemption_code_check(invitation=invitation, code=code) == "expired"


def test_redemption_code_expires_after_thirty_minutes(acme):
    with tenant_context(acme.tenant):
        invitation = services.invitation_create(
            invited_by=acme.admin, email=unique_email(), redirect_url="https://a.example/"
        )
        services.redemption_code_send(invitation=invitation)
        code = OutboxEmail.objects.filter(kind="redemption_code").latest("id").payload["code"]
        later = timezone.now() + timedelta(minutes=31)
        assert (
            services.redemption_code_check(invitation=invitation, code=code, now=later) == "expired"
        )
        assert services.redemption_code_check(invitation=invitation, code=code) == "ok"
        assert services.redemption_code_check(invitation=invitation, code=code) == "expired"


def test_a_new_tenant_starts_with_default_guest_settings(db):
    from tenants.services import tenant_create

    tenant = tenant_create(
        name="Initech", slug="initech-guests", admin_email="boss@initech.test",
        admin_password="a long and unusual passphrase",
    )  # fmt: skip
    with tenant_context(tenant):
        defaults = GuestSettings.objects.get()
        assert defaults.invite_policy == GuestSettings.InvitePolicy.GUEST_INVITERS
        assert (defaults.default_expiry_days, defaults.max_expiry_days) == (7, 30)
