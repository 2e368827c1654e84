"""Hosted guest pages.

Redemption: a partner opens the invitation link, proves they own the invited address (emailed
code, an existing account of this tenant, or their own identity at one of the tenant's
identity providers), consents, and lands in the app. Opening the link
consumes nothing (mail scanners fetch links); every step after it is a POST.

Also: members invite when the tenant allows it, and sponsors renew their guests' access.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import get_user_model, login, update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.roles import AdminRole, has_admin_role
from accounts.sign_in.adapter import lock_message_without_reset
from audit.models import SignInEvent
from audit.services import sign_in_record
from ciam.csp import form_action_allow
from ciam.forms import add_service_errors
from guests import selectors, services
from guests.forms import CodeForm, HostedInvitationForm
from guests.models import GuestProfile, Invitation

SESSION_KEY = "guests.redemption"


def _invalid(request):
    """The one page for unknown, used, expired and revoked links: nothing tells them apart."""
    return render(request, "guests/redeem_invalid.html", status=404)


def _limited(request):
    return render(request, "guests/redeem_limited.html", status=429)


def _refused(request):
    """A link that does not work. Only these count toward the IP address's limit (settings
    GUEST_RATE_LIMITS): past it they get 429, while links that work still open for everyone
    behind the same NAT."""
    if not services.rate_take(request=request, action="invitation_link_failure"):
        return _limited(request)
    return _invalid(request)


def _identity_from_session(state: dict):
    """The upstream identity that proved the invited address in this redemption, or None."""
    from allauth.socialaccount.models import SocialLogin

    if not state.get("identity"):
        return None
    try:
        return SocialLogin.deserialize(state["identity"])
    except (KeyError, ValueError, Http404):
        return None


def _invitation_from_session(request) -> tuple[Invitation | None, dict]:
    state = request.session.get(SESSION_KEY) or {}
    invitation = Invitation.objects.filter(pk=state.get("invitation")).first()
    if invitation is None or not invitation.is_redeemable():
        return None, state
    return invitation, state


def landing(request, token):
    invitation = services.invitation_for_token(token)
    if invitation is None:
        return _refused(request)
    return render(
        request,
        "guests/redeem_landing.html",
        {"invitation": invitation, "token": token},
    )


def _start(request, invitation: Invitation) -> None:
    request.session.cycle_key()
    request.session[SESSION_KEY] = {"invitation": invitation.pk, "verified": False}


@require_POST
def start_code(request, token):
    invitation = services.invitation_for_token(token)
    if invitation is None:
        return _refused(request)
    _start(request, invitation)
    return _send_code(request, invitation)


def _send_code(request, invitation: Invitation):
    # No code is sent while the address or the network is locked: it could not be checked.
    lock = services.redemption_lock(request=request, invitation=invitation)
    if lock is not None:
        return render(
            request,
            "guests/redeem_verify.html",
            {
                "invitation": invitation,
                "form": CodeForm(),
                "send_error": lock_message_without_reset(lock),
            },
            status=429,
        )
    try:
        services.email_limit_take(
            request=request, action="redemption_code", recipient=invitation.email
        )
    except ValidationError:
        # The codes already sent keep working: the last one is still good.
        send_error = _(
            "Too many codes were sent to this address or from your network. Use the last code "
            "you received, or wait a while and ask for a new one."
        )
        return render(
            request,
            "guests/redeem_verify.html",
            {"invitation": invitation, "form": CodeForm(), "send_error": send_error},
            status=429,
        )
    services.redemption_code_send(invitation=invitation)
    return redirect("guests:verify")


@require_POST
def resend_code(request):
    invitation, _state = _invitation_from_session(request)
    if invitation is None:
        return _invalid(request)
    return _send_code(request, invitation)


def verify(request):
    invitation, state = _invitation_from_session(request)
    if invitation is None:
        return _invalid(request)
    form = CodeForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        verdict = services.redemption_code_verify(
            request=request, invitation=invitation, code=form.cleaned_data["code"]
        )
        if verdict.result == "ok":
            state["verified"] = True
            request.session[SESSION_KEY] = state
            return redirect("guests:consent")
        sign_in_record(
            request=request,
            email=invitation.email,
            method=SignInEvent.Method.EMAIL_CODE,
            **_CODE_FAILURES[verdict.result],
        )
        if verdict.lock is not None:  # locked before, or by this wrong code
            form.add_error("code", lock_message_without_reset(verdict.lock))
            status = 429 if verdict.result == "locked" else 200
        elif verdict.result == "wrong":
            form.add_error("code", _("That code is not right. Check the email and try again."))
        else:
            form.add_error(
                "code", _("This code has expired or was tried too often. Send a new one.")
            )
    return render(
        request,
        "guests/redeem_verify.html",
        {"invitation": invitation, "form": form},
        status=status,
    )


# The sign-in log's row of a code that did not serve (the code itself is never written).
_CODE_FAILURES = {
    "wrong": {
        "result": SignInEvent.Result.FAILURE,
        "failure_reason": SignInEvent.FailureReason.WRONG_CODE,
    },
    "expired": {
        "result": SignInEvent.Result.FAILURE,
        "failure_reason": SignInEvent.FailureReason.CODE_EXPIRED,
    },
    "locked": {
        "result": SignInEvent.Result.LOCKED_OUT,
        "failure_reason": SignInEvent.FailureReason.LOCKED_OUT,
    },
}


@require_POST
def start_account(request, token):
    invitation = services.invitation_for_token(token)
    if invitation is None:
        return _refused(request)
    _start(request, invitation)
    consent_url = reverse("guests:consent")
    if request.user.is_authenticated:
        return redirect(consent_url)
    login_url = reverse("account_login")
    return HttpResponseRedirect(f"{login_url}?{urlencode({'next': consent_url})}")


@require_POST
def start_identity(request, token):
    """Redeem with one's own identity: sign in at the chosen IdP of the tenant, which comes
    back to identity_returned (through federation.adapter)."""
    from federation.adapter import REDEEM_PROCESS
    from federation.selectors import identity_provider_by_slug
    from federation.services import home_realm_redirect

    invitation = services.invitation_for_token(token)
    if invitation is None:
        return _refused(request)
    provider = identity_provider_by_slug(str(request.POST.get("provider", "")))
    if provider is None or not provider.enabled:
        raise Http404
    _start(request, invitation)
    return home_realm_redirect(
        request, provider, next_url=reverse("guests:consent"), login_hint=invitation.email,
        process=REDEEM_PROCESS,
    )  # fmt: skip


def identity_returned(request, sociallogin):
    """A new upstream identity came back from an IdP for the invitation of this session
    (federation.adapter.pre_social_login): it goes on to consent when the IdP vouches for
    the invited address; otherwise a refusal, and no account."""
    from federation.selectors import identity_provider_by_slug

    invitation, state = _invitation_from_session(request)
    if invitation is None:
        return _invalid(request)
    provider = identity_provider_by_slug(sociallogin.account.provider)
    address = sociallogin.email_addresses[0] if sociallogin.email_addresses else None
    problem = _("This identity provider is no longer available.")
    if provider is not None:
        problem = services.identity_redemption_problem(
            invitation=invitation,
            provider=provider,
            email=address.email if address else "",
            email_trusted=bool(address and address.verified),
        )
    if problem:
        sign_in_record(
            request=request, email=invitation.email, method=SignInEvent.Method.FEDERATED,
            result=SignInEvent.Result.FAILURE,
            failure_reason=SignInEvent.FailureReason.WRONG_ACCOUNT,
            idp=sociallogin.account.provider, idp_subject=sociallogin.account.uid,
        )  # fmt: skip
        state.pop("identity", None)
        request.session[SESSION_KEY] = state
        return render(
            request,
            "guests/redeem_identity_refused.html",
            {"invitation": invitation, "problem": problem},
            status=403,
        )
    state["identity"] = sociallogin.serialize()
    request.session[SESSION_KEY] = state
    return redirect("guests:consent")


def consent(request):
    invitation, state = _invitation_from_session(request)
    if invitation is None:
        return _invalid(request)
    # The existing account's own sign-in was logged by the sign-in flow; this row records
    # what the invitation step decided.
    identity = _identity_from_session(state)
    proven_by_code = bool(state.get("verified")) or identity is not None
    method = SignInEvent.Method.EMAIL_CODE if proven_by_code else SignInEvent.Method.INVITATION
    if identity is not None:
        method = SignInEvent.Method.FEDERATED
    signed_in_as_invited = (
        request.user.is_authenticated and request.user.email.lower() == invitation.email.lower()
    )
    if not proven_by_code:
        if not request.user.is_authenticated:
            return _invalid(request)
        if not signed_in_as_invited:
            sign_in_record(
                request=request,
                user=request.user,
                method=method,
                result=SignInEvent.Result.FAILURE,
                failure_reason=SignInEvent.FailureReason.WRONG_ACCOUNT,
            )
            return render(
                request,
                "guests/redeem_wrong_account.html",
                {"invitation": invitation},
                status=403,
            )
        if not selectors.email_is_verified(user=request.user):
            # An account whose address was never proven (anyone CC'd could have signed up
            # with it) proves it now, with a code sent to the invited address.
            return render(request, "guests/redeem_prove_address.html", {"invitation": invitation})
    if (
        proven_by_code
        and not signed_in_as_invited
        and get_user_model().objects.with_email(invitation.email).exists()
    ):
        # An account with this address exists now: an emailed code must not open it (it would
        # skip that account's own sign-in and MFA). Its owner accepts after signing in.
        state["verified"] = False
        state.pop("identity", None)
        request.session[SESSION_KEY] = state
        login_url = f"{reverse('account_login')}?{urlencode({'next': reverse('guests:consent')})}"
        return render(
            request,
            "guests/redeem_use_account.html",
            {"invitation": invitation, "login_url": login_url},
        )
    guest_settings = services.guest_settings_get()
    error = ""
    if request.method == "POST":
        if request.POST.get("decision") == "decline":
            request.session.pop(SESSION_KEY, None)
            return render(request, "guests/redeem_declined.html", {"invitation": invitation})
        if guest_settings.terms_required and not request.POST.get("accept_terms"):
            error = _("Accept the terms of use to continue.")
        else:
            existing = request.user if signed_in_as_invited else None
            try:
                if identity is not None and existing is None:
                    user = services.invitation_accept_with_identity(
                        invitation=invitation, sociallogin=identity, request=request
                    )
                else:
                    user = services.invitation_accept(
                        invitation=invitation,
                        user=existing,
                        address_proven=proven_by_code,
                        request=request,
                    )
            except ValidationError:
                return _invalid(request)
            request.session.pop(SESSION_KEY, None)
            if existing is None:
                # The invited address was proven by the emailed code or the IdP; the session
                # is theirs.
                login(request, user, backend=settings.AUTHENTICATION_BACKENDS[0])
                if identity is not None:
                    # The session began at the IdP: its ID tokens name it (`idp`).
                    from allauth.socialaccount.internal.flows.login import (
                        record_authentication,
                    )

                    record_authentication(request, identity)
            else:
                # A first proof of the address may have removed a password set before it
                # (accounts.services.account_first_proof): this session stays signed in.
                update_session_auth_hash(request, user)
            upstream = (
                {"idp": identity.account.provider, "idp_subject": identity.account.uid}
                if identity is not None
                else {}
            )
            sign_in_record(
                request=request, user=user, method=method, result=SignInEvent.Result.SUCCESS,
                **upstream,
            )  # fmt: skip
            return HttpResponseRedirect(invitation.redirect_url)
    # "Accept" leads to the invitation's redirect URL (ciam/csp.py).
    form_action_allow(request, invitation.redirect_url)
    return render(
        request,
        "guests/redeem_consent.html",
        {"invitation": invitation, "guest_settings": guest_settings, "error": error},
    )


@login_required
def invite_new(request):
    """Invite a guest from the hosted pages: for members (and guests) when the tenant's "who
    can invite" setting lets them; admins use the console."""
    if not services.can_invite(request.user):
        return render(request, "guests/invite_not_allowed.html", status=403)
    form = HostedInvitationForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            invitation = services.invitation_create(
                invited_by=request.user,
                email_limit="hosted_invitation",
                request=request,
                **form.cleaned_data,
            )
        except PermissionDenied:
            return render(request, "guests/invite_not_allowed.html", status=403)
        except ValidationError as error:
            add_service_errors(form, error)
            if getattr(error, "code", None) == "rate_limited":
                status = 429
        else:
            return render(request, "guests/invite_sent.html", {"invitation": invitation})
    return render(request, "guests/invite_new.html", {"form": form}, status=status)


@login_required
def guest_renew(request, public_id):
    """The sponsor (or a User administrator) keeps a guest's access for another period."""
    profile = (
        GuestProfile.objects.select_related("user", "sponsor")
        .filter(user__public_id=public_id)
        .first()
    )
    if profile is None:
        raise Http404
    if profile.sponsor_id != request.user.pk and not has_admin_role(
        request.user, AdminRole.USER_ADMINISTRATOR
    ):
        return render(request, "guests/renew_not_allowed.html", status=403)
    renewed = False
    if request.method == "POST":
        profile = services.guest_access_renew(
            user=profile.user, actor=request.user, request=request
        )
        renewed = True
    return render(request, "guests/renew.html", {"profile": profile, "renewed": renewed})
