"""A partner redeems an invitation on the hosted pages."""

from __future__ import annotations

from datetime import timedelta

import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.utils import timezone
from django.utils.formats import date_format
from django_tenants.utils import tenant_context

from accounts.selectors import sign_up_attributes, user_flow_get
from audit.models import SignInEvent
from emails.models import OutboxEmail
from guests import services
from guests.models import GuestProfile, GuestSettings, Invitation, RedemptionCode
from tests.helpers import LOCKED, PASSWORD, email_code, link_token, unique_email

pytestmark = [pytest.mark.server]

INVALID = "This invitation link cannot be used"


def invite(world, email=None, **extra) -> tuple[Invitation, str]:
    with tenant_context(world.tenant):
        invitation = services.invitation_create(
            invited_by=world.admin,
            email=email or unique_email(),
            redirect_url="https://app.acme.example/welcome",
            message="See you on the portal",
            **extra,
        )
    return invitation, invitation.redeem_url.rstrip("/").rsplit("/", 1)[1]


def test_partner_redeems_with_an_emailed_code_and_lands_in_the_app(
    acme_committed, celery_worker_process, mailbox
):
    email = unique_email()
    invite(acme_committed, email)
    token = link_token(mailbox.wait_for(email)[0])
    partner = acme_committed.client()

    landing = partner.get(f"/invite/{token}/")
    page = landing.content.decode()
    assert landing.status_code == 200
    assert "Acme Corporation" in page and "admin@acme.test" in page
    assert "See you on the portal" in page

    response = partner.post(f"/invite/{token}/code/")
    assert response.status_code == 302 and response["Location"] == "/invite/code/verify/"
    code_message = mailbox.wait_for(email, count=2)[1]
    assert "Acme Corporation" in code_message["Subject"]
    response = partner.post("/invite/code/verify/", {"code": email_code(code_message)})
    assert response.status_code == 302 and response["Location"] == "/invite/consent/"

    consent = partner.get("/invite/consent/").content.decode()
    assert "Join Acme Corporation as a guest" in consent and email in consent
    response = partner.post("/invite/consent/", {"decision": "accept"})
    assert response.status_code == 302
    assert response["Location"] == "https://app.acme.example/welcome"

    with tenant_context(acme_committed.tenant):
        user = get_user_model().objects.get(email=email)
        assert user.user_type == "guest" and not user.has_usable_password()
        profile = GuestProfile.objects.get(user=user)
        assert profile.state == "Accepted" and profile.sponsor == acme_committed.admin
        invitation = Invitation.objects.get(email=email)
        assert invitation.status == "Accepted" and invitation.guest == user
        assert SignInEvent.objects.filter(user=user, method="email_code", result="success").exists()
    assert partner.get("/account/").status_code == 200  # signed in as the guest

    # The link worked once.
    again = acme_committed.client().get(f"/invite/{token}/")
    assert again.status_code == 404 and INVALID in again.content.decode()


def test_opening_the_link_consumes_nothing(acme):
    invitation, token = invite(acme)
    partner = acme.client()
    assert partner.get(f"/invite/{token}/").status_code == 200
    assert partner.get(f"/invite/{token}/").status_code == 200
    with tenant_context(acme.tenant):
        invitation.refresh_from_db()
        assert invitation.status == "PendingAcceptance"
        assert not RedemptionCode.objects.filter(invitation=invitation).exists()


def test_unknown_expired_revoked_and_used_links_show_the_same_page(acme):
    _expired, expired_token = invite(acme)
    revoked, revoked_token = invite(acme)
    used, used_token = invite(acme)
    with tenant_context(acme.tenant):
        Invitation.objects.filter(pk=_expired.pk).update(
            expires_at=timezone.now() - timedelta(minutes=1)
        )
        services.invitation_revoke(invitation=revoked, actor=acme.admin)
        services.invitation_accept(invitation=used)
    pages = []
    for token in ("x" * 43, expired_token, revoked_token, used_token):
        response = acme.client().get(f"/invite/{token}/")
        assert response.status_code == 404
        pages.append(response.content.decode())
        assert acme.client().post(f"/invite/{token}/code/").status_code == 404
    assert INVALID in pages[0]
    assert len(set(pages)) == 1


def test_a_link_does_not_work_on_another_tenants_host(acme, globex):
    _invitation, token = invite(acme)
    response = globex.client().get(f"/invite/{token}/")
    assert response.status_code == 404 and INVALID in response.content.decode()
    assert acme.client().get(f"/invite/{token}/").status_code == 200


def test_signed_in_as_a_different_address_is_refused_with_an_explanation(acme):
    invitation, token = invite(acme)
    member = acme.client(user=acme.member)
    response = member.post(f"/invite/{token}/account/")
    assert response["Location"] == "/invite/consent/"
    refused = member.get("/invite/consent/")
    assert refused.status_code == 403
    page = refused.content.decode()
    assert invitation.email in page and acme.member.email in page
    assert member.post("/invite/consent/", {"decision": "accept"}).status_code == 403
    with tenant_context(acme.tenant):
        invitation.refresh_from_db()
        assert invitation.status == "PendingAcceptance"
        assert SignInEvent.objects.filter(
            user=acme.member, result="failure", failure_reason="wrong_account"
        ).exists()


def test_an_existing_account_with_the_invited_address_accepts_after_signing_in(acme):
    invitation, token = invite(acme)
    with tenant_context(acme.tenant):
        existing = get_user_model().objects.create_user(email=invitation.email, password=PASSWORD)
        EmailAddress.objects.create(
            user=existing, email=existing.email, verified=True, primary=True
        )
    partner = acme.client()
    response = partner.post(f"/invite/{token}/account/")
    assert response["Location"].startswith("/accounts/login/?next=%2Finvite%2Fconsent%2F")
    with tenant_context(acme.tenant):
        partner.force_login(existing)
    assert partner.get("/invite/consent/").status_code == 200
    response = partner.post("/invite/consent/", {"decision": "accept"})
    assert response["Location"] == "https://app.acme.example/welcome"
    with tenant_context(acme.tenant):
        invitation.refresh_from_db()
        assert invitation.status == "Accepted" and invitation.guest == existing
        assert get_user_model().objects.filter(email__iexact=invitation.email).count() == 1


def _start_with_code(world, token):
    from emails.models import OutboxEmail

    partner = world.client()
    partner.post(f"/invite/{token}/code/")
    with tenant_context(world.tenant):
        # Without a worker in this test, the code is read where the worker would read it.
        code = OutboxEmail.objects.filter(kind="redemption_code").latest("id").payload["code"]
    return partner, code


def test_an_unverified_account_with_the_invited_address_accepts_only_after_the_code(acme):
    invitation, token = invite(acme)
    with tenant_context(acme.tenant):
        # Someone CC'd on the invitation signed up with the invited address, never verified.
        squatter = get_user_model().objects.create_user(email=invitation.email, password=PASSWORD)
    partner = acme.client()
    with tenant_context(acme.tenant):
        partner.force_login(squatter)
    assert partner.post(f"/invite/{token}/account/")["Location"] == "/invite/consent/"
    page = partner.get("/invite/consent/").content.decode()
    assert "Confirm your email address" in page and "Join Acme Corporation" not in page
    refused = partner.post("/invite/consent/", {"decision": "accept"})
    assert refused.status_code == 200 and "Confirm your email address" in refused.content.decode()
    with tenant_context(acme.tenant):
        invitation.refresh_from_db()
        assert invitation.status == "PendingAcceptance"
        assert not GuestProfile.objects.filter(user=squatter).exists()

    # The owner of the address gets the code and accepts with the same account.
    assert partner.post("/invite/code/resend/")["Location"] == "/invite/code/verify/"
    with tenant_context(acme.tenant):
        code = OutboxEmail.objects.filter(kind="redemption_code").latest("id").payload["code"]
    assert partner.post("/invite/code/verify/", {"code": code})["Location"] == "/invite/consent/"
    response = partner.post("/invite/consent/", {"decision": "accept"})
    assert response["Location"] == "https://app.acme.example/welcome"
    with tenant_context(acme.tenant):
        invitation.refresh_from_db()
        assert invitation.status == "Accepted" and invitation.guest == squatter
        assert EmailAddress.objects.filter(user=squatter, verified=True, primary=True).exists()


def test_redeeming_with_the_code_ends_a_password_set_before_the_address_was_proven(acme):
    from tests.helpers import ATTACKER_PASSWORD, sign_in, sign_up, tenant_client

    invitation, token = invite(acme)
    # Someone CC'd on the invitation signs up with the invited address and a password of
    # their own, and stays signed in (the tenant does not require verified addresses).
    attacker = tenant_client(acme)
    assert sign_up(attacker, invitation.email)["Location"] == "/accounts/confirm-email/"
    assert sign_in(attacker, invitation.email, ATTACKER_PASSWORD)["Location"] == "/account/"
    assert attacker.get("/account/").status_code == 200

    # The invitee, in that account, proves the address with the code sent to it.
    invitee = acme.client()
    with tenant_context(acme.tenant):
        invitee.force_login(get_user_model().objects.get(email=invitation.email))
    assert invitee.post(f"/invite/{token}/account/")["Location"] == "/invite/consent/"
    assert invitee.post("/invite/code/resend/")["Location"] == "/invite/code/verify/"
    with tenant_context(acme.tenant):
        code = OutboxEmail.objects.filter(kind="redemption_code").latest("id").payload["code"]
    assert invitee.post("/invite/code/verify/", {"code": code})["Location"] == "/invite/consent/"
    response = invitee.post("/invite/consent/", {"decision": "accept"})
    assert response["Location"] == "https://app.acme.example/welcome"

    # The attacker's password opens nothing and the attacker's session is over; the
    # invitee stays signed in and is told why the password is gone.
    refused = sign_in(tenant_client(acme), invitation.email, ATTACKER_PASSWORD)
    assert refused.status_code == 200 and "/account/" not in refused.get("Location", "")
    assert attacker.get("/account/")["Location"].startswith("/accounts/login/")
    page = invitee.get("/account/")
    assert page.status_code == 200 and "no longer works" in page.content.decode()
    with tenant_context(acme.tenant):
        assert not get_user_model().objects.get(email=invitation.email).has_usable_password()


def test_a_guest_who_redeemed_with_the_code_has_a_verified_address(acme):
    invitation, token = invite(acme)
    partner, code = _start_with_code(acme, token)
    partner.post("/invite/code/verify/", {"code": code})
    assert partner.post("/invite/consent/", {"decision": "accept"}).status_code == 302
    with tenant_context(acme.tenant):
        guest = get_user_model().objects.get(email=invitation.email)
        address = EmailAddress.objects.get(user=guest)
        assert address.verified and address.primary and address.email == invitation.email
    page = partner.get("/account/").content.decode()
    assert ">verified<" in page and "not verified" not in page


def test_my_account_of_a_guest_shows_the_invitation_not_the_customer_sign_up(acme):
    with tenant_context(acme.tenant):
        services.guest_settings_update(actor=acme.admin, access_days=90)
        attribute_labels = [
            attribute.label
            for attribute in sign_up_attributes(user_flow_get())
            if attribute.key != "displayName"
        ]
    assert attribute_labels  # acme's sign-up collects attributes from its customers
    invitation, token = invite(acme)
    partner, code = _start_with_code(acme, token)
    partner.post("/invite/code/verify/", {"code": code})
    partner.post("/invite/consent/", {"decision": "accept"})

    page = partner.get("/account/").content.decode()
    assert "Guest access" in page and "Acme Corporation" in page
    assert acme.admin.email in page  # who invited them
    with tenant_context(acme.tenant):
        expires = GuestProfile.objects.get(user__email=invitation.email).access_expires_at
    assert date_format(expires, "DATE_FORMAT") in page
    assert "Set a password" not in page and "With a code emailed to you" in page
    for label in attribute_labels:
        assert f">{label}<" not in page
    edit = partner.get("/account/profile/").content.decode()
    assert 'name="attr_displayName"' in edit and "attr_givenName" not in edit


def test_five_wrong_codes_use_up_the_code(acme):
    invitation, token = invite(acme)
    partner, code = _start_with_code(acme, token)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    for _attempt in range(5):
        page = partner.post("/invite/code/verify/", {"code": wrong}).content.decode()
        assert "That code is not right" in page
    page = partner.post("/invite/code/verify/", {"code": code}).content.decode()
    assert "expired or was tried too often" in page
    assert partner.get("/invite/consent/").status_code == 404
    with tenant_context(acme.tenant):
        assert (
            SignInEvent.objects.filter(email_typed=invitation.email, result="failure").count() == 6
        )
        assert not SignInEvent.objects.filter(failure_reason__contains=code).exists()


def _latest_code(world, invitation) -> str:
    with tenant_context(world.tenant):
        row = OutboxEmail.objects.filter(kind="redemption_code", to=invitation.email).latest("id")
        return row.payload["code"]


def test_wrong_codes_count_toward_the_lockout_so_new_codes_give_no_new_tries(acme, settings):
    """Each code allows five tries, and new codes may be asked for: without the lockout a
    guesser holding a forwarded link would get five more tries with every code, for as long as
    the invitation lives. Wrong codes count toward the invited address's lockout as wrong
    sign-in codes do; once it holds, no code is checked, the right one included, and none is
    sent."""
    settings.LOCKOUT_ACCOUNT_THRESHOLD = 8
    invitation, token = invite(acme)
    partner, code = _start_with_code(acme, token)
    # A guesser tries a different code each time (the same wrong code again is not counted).
    for attempt in range(5):
        page = partner.post("/invite/code/verify/", {"code": _near(code, attempt)})
        assert "That code is not right" in page.content.decode()
    assert partner.post("/invite/code/resend/").status_code == 302
    code = _latest_code(acme, invitation)
    for attempt in range(3):
        page = partner.post("/invite/code/verify/", {"code": _near(code, attempt)}).content.decode()
    assert LOCKED in page

    # The right code is not checked while the lock holds, and the page says why, at the field.
    refused = partner.post("/invite/code/verify/", {"code": code})
    assert refused.status_code == 429
    page = refused.content.decode()
    assert LOCKED in page and 'aria-invalid="true"' in page and "That code is not right" not in page
    assert partner.get("/invite/consent/").status_code == 404
    # No new code is sent either.
    sent_before = _codes_sent(acme, invitation)
    resent = partner.post("/invite/code/resend/")
    assert resent.status_code == 429 and LOCKED in resent.content.decode()
    assert _codes_sent(acme, invitation) == sent_before
    with tenant_context(acme.tenant):
        assert SignInEvent.objects.filter(
            email_typed=invitation.email, result="locked_out", failure_reason="locked_out"
        ).exists()

    # The lock lifts: the code still good is accepted, and the count starts again.
    from accounts.sign_in import lockout

    with tenant_context(acme.tenant):
        lockout.lockout_clear(email=invitation.email)
    response = partner.post("/invite/code/verify/", {"code": code})
    assert response["Location"] == "/invite/consent/"


def _near(code: str, attempt: int) -> str:
    """A wrong code, another one for each attempt."""
    return f"{(int(code) + 1 + attempt) % 1_000_000:06d}"


def _codes_sent(world, invitation) -> int:
    with tenant_context(world.tenant):
        return OutboxEmail.objects.filter(kind="redemption_code", to=invitation.email).count()


def test_declining_leaves_the_invitation_pending(acme):
    invitation, token = invite(acme)
    partner, code = _start_with_code(acme, token)
    partner.post("/invite/code/verify/", {"code": code})
    page = partner.post("/invite/consent/", {"decision": "decline"}).content.decode()
    assert "You did not join" in page
    with tenant_context(acme.tenant):
        invitation.refresh_from_db()
        assert invitation.status == "PendingAcceptance"
        assert not get_user_model().objects.filter(email=invitation.email).exists()
    assert acme.client().get(f"/invite/{token}/").status_code == 200


def test_terms_of_use_must_be_accepted_when_required(acme):
    with tenant_context(acme.tenant):
        services.guest_settings_update(
            actor=acme.admin, terms_required=True, terms_text="Be nice to our data."
        )
    invitation, token = invite(acme)
    partner, code = _start_with_code(acme, token)
    partner.post("/invite/code/verify/", {"code": code})
    page = partner.get("/invite/consent/").content.decode()
    assert "Be nice to our data." in page
    refused = partner.post("/invite/consent/", {"decision": "accept"}).content.decode()
    assert "Accept the terms of use to continue." in refused
    response = partner.post("/invite/consent/", {"decision": "accept", "accept_terms": "1"})
    assert response.status_code == 302
    with tenant_context(acme.tenant):
        invitation.refresh_from_db()
        assert invitation.status == "Accepted"
        assert GuestSettings.objects.get().terms_required


def test_only_failed_link_lookups_count_and_links_that_work_always_open(acme):
    _invitation, token = invite(acme)
    guesser = acme.client(REMOTE_ADDR="203.0.113.77")
    for attempt in range(20):
        assert guesser.get(f"/invite/guess-{attempt}-{'x' * 40}/").status_code == 404
    # More guesses from that address are refused, on every step that takes a link...
    assert guesser.get(f"/invite/guess-more-{'x' * 40}/").status_code == 429
    assert guesser.post(f"/invite/guess-more-{'x' * 40}/code/").status_code == 429
    assert guesser.post(f"/invite/guess-more-{'x' * 40}/account/").status_code == 429
    # ...while a link that works still opens from it (a colleague behind the same NAT).
    assert guesser.get(f"/invite/{token}/").status_code == 200
    assert guesser.post(f"/invite/{token}/code/")["Location"] == "/invite/code/verify/"

    # Links that work never count toward the limit.
    colleague = acme.client(REMOTE_ADDR="203.0.113.78")
    for _opened in range(25):
        assert colleague.get(f"/invite/{token}/").status_code == 200
    assert colleague.get(f"/invite/typo-{'x' * 40}/").status_code == 404


def test_an_emailed_code_does_not_open_an_account_that_exists_for_the_address(acme):
    invitation, token = invite(acme)
    partner, code = _start_with_code(acme, token)
    with tenant_context(acme.tenant):
        # Someone signed up with the invited address after the invitation went out.
        get_user_model().objects.create_user(email=invitation.email, password=PASSWORD)
    assert partner.post("/invite/code/verify/", {"code": code})["Location"] == "/invite/consent/"
    page = partner.get("/invite/consent/").content.decode()
    assert "already has an account" in page
    assert partner.post("/invite/consent/", {"decision": "accept"}).status_code == 404
    assert partner.get("/account/").status_code == 302  # not signed in
    with tenant_context(acme.tenant):
        invitation.refresh_from_db()
        assert invitation.status == "PendingAcceptance"


def test_codes_are_sent_at_most_five_times_per_invitation(acme):
    _invitation, token = invite(acme)
    partner = acme.client()
    assert partner.post(f"/invite/{token}/code/").status_code == 302
    for _resend in range(4):
        assert partner.post("/invite/code/resend/").status_code == 302
    assert partner.post("/invite/code/resend/").status_code == 429


def test_the_sign_in_log_explains_a_wrong_invitation_code_with_a_known_reason(acme):
    invitation, token = invite(acme)
    partner, code = _start_with_code(acme, token)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    assert partner.post("/invite/code/verify/", {"code": wrong}).status_code == 200
    with tenant_context(acme.tenant):
        event = SignInEvent.objects.get(email_typed=invitation.email, result="failure")
    # The row keeps a code of the one vocabulary (exports, filters); people read its text.
    assert event.failure_reason == SignInEvent.FailureReason.WRONG_CODE == "wrong_code"
    page = acme.client(user=acme.admin).get("/console/logs/sign-ins/", {"q": invitation.email})
    assert "Wrong code" in page.content.decode()


GUEST_NO_PASSWORD = "Guests do not set a password here"
NEW_PASSWORD = "another quite unusual passphrase for this"


def test_a_guest_cannot_set_a_password_while_members_can(acme):
    invitation, token = invite(acme)
    partner, code = _start_with_code(acme, token)
    partner.post("/invite/code/verify/", {"code": code})
    assert partner.post("/invite/consent/", {"decision": "accept"}).status_code == 302

    # The page the My account link is hidden from answers with the reason.
    page = partner.get("/accounts/password/set/")
    assert page["Location"] == "/account/"
    assert GUEST_NO_PASSWORD in partner.get("/account/").content.decode()
    posted = partner.post(
        "/accounts/password/set/", {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD}
    )
    assert posted["Location"] == "/account/"
    with tenant_context(acme.tenant):
        guest = get_user_model().objects.get(email=invitation.email)
        assert not guest.has_usable_password()

    # Nor through a password reset link.
    from allauth.account.forms import default_token_generator
    from allauth.account.utils import user_pk_to_url_str

    with tenant_context(acme.tenant):
        key = f"{user_pk_to_url_str(guest)}-{default_token_generator.make_token(guest)}"
    stranger = acme.client()
    form_page = stranger.get(f"/accounts/password/reset/key/{key}/", follow=True)
    refused = stranger.post(
        form_page.redirect_chain[-1][0] if form_page.redirect_chain else "",
        {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
    )
    assert refused.status_code == 200 and GUEST_NO_PASSWORD in refused.content.decode()
    with tenant_context(acme.tenant):
        guest.refresh_from_db()
        assert not guest.has_usable_password()

    # A member without a password still sets one.
    with tenant_context(acme.tenant):
        member = get_user_model().objects.create_user(email=unique_email("member"))
    client = acme.client(user=member)
    assert client.get("/accounts/password/set/").status_code == 200


def test_a_guest_invited_with_capitals_signs_in_later_with_an_emailed_code(acme):
    """Addresses are kept lower-cased, as allauth looks them up: an address invited as typed
    by an admin ("Jane.Doe@Partner.Example") finds its account at the sign-in code page."""
    import re

    invitation, token = invite(acme, unique_email("Jane.Doe", "Partner.Example"))
    partner, code = _start_with_code(acme, token)
    partner.post("/invite/code/verify/", {"code": code})
    assert partner.post("/invite/consent/", {"decision": "accept"}).status_code == 302

    later = acme.client(REMOTE_ADDR="10.99.1.1")
    later.post("/accounts/login/code/", {"email": invitation.email})
    with tenant_context(acme.tenant):
        sent = OutboxEmail.objects.filter(to__iexact=invitation.email).latest("id")
    code = re.search(r"\b(\d{6})\b", sent.payload["text"])
    assert code, sent.payload["text"]  # a code, not the "no account with this address" email
    response = later.post("/accounts/login/code/confirm/", {"code": code.group(1)})
    assert response.status_code == 302
    assert later.get("/account/").status_code == 200
