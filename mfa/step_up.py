"""Step-up: a signed-in person proves a second factor again (or sets one up) before going on.

- Re-authentication (allauth's, before a sensitive change in My account, and the OpenID
  `prompt=login`/`max_age` path) asks for the password, then, for someone who has a second
  factor, for it too: `Reauthenticate` replaces allauth's page at the same URL, and the
  re-authentication counts (allauth's "reauthenticated" record) only once the second factor
  served.
- An app that requires MFA, and the console when the tenant's policy requires MFA of its
  administrators, send a session that has not proved a second factor to `step_up`, which
  returns to `next` (same origin) afterwards; someone without a second factor sets up an
  authenticator app there.
- `recent_mfa_required`: a view (the password change, which asks the current password
  itself) asks for a recent second factor of someone who has one.
"""

from __future__ import annotations

import secrets
import time
from functools import wraps
from urllib.parse import urlencode

from allauth.account.internal.flows.login import record_authentication
from allauth.account.internal.flows.reauthentication import resume_request
from allauth.account.utils import get_next_redirect_url
from allauth.account.views import BaseReauthenticateView, ReauthenticateView
from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods
from django_otp import login as otp_login

from audit.models import SignInEvent
from audit.services import sign_in_record
from mfa import passkeys, selectors
from mfa.challenge import SecondFactorChallenge
from mfa.models import Method, TOTPDevice
from mfa.stages import user_methods

# Session keys of a step-up in progress.
AFTER_PASSWORD = "mfa_step_up_after_password"  # when the password was typed again
ATTEMPT = "mfa_step_up_attempt"  # what an emailed code is bound to
SETUP = "mfa_step_up_setup"  # the authenticator app being set up, then its proof
EMAIL_SENT = f"{ATTEMPT}_sent"  # an email code was sent for this attempt
# A password typed again is followed by the second factor within this many seconds, or
# the re-authentication starts over.
AFTER_PASSWORD_SECONDS = 600


def step_up_url(next_url: str) -> str:
    return f"{reverse('mfa:step-up')}?{urlencode({'next': next_url})}"


def asks_second_factor(user) -> bool:
    """Whether a re-authentication of `user` asks for a second factor after the password."""
    return selectors.has_second_factor(user)


class Reauthenticate(ReauthenticateView):
    """allauth's "Confirm it's you" password page; for someone with a second factor the
    password alone is not the re-authentication: the step-up page follows."""

    def form_valid(self, form):
        request = self.request
        user = request.user
        if not asks_second_factor(user):
            return super().form_valid(form)
        # Recorded for the session's `amr`, without allauth's "reauthenticated": the second
        # factor completes it (step_up).
        record_authentication(request, user, method="password")
        request.session[AFTER_PASSWORD] = time.time()
        next_url = get_next_redirect_url(request) or reverse("accounts:my-account")
        return HttpResponseRedirect(step_up_url(next_url))


reauthenticate = Reauthenticate.as_view()


def recent_mfa_required(view):
    """A view that someone with a second factor reaches only with one proved recently."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        user = request.user
        if (
            user.is_authenticated
            and asks_second_factor(user)
            and not selectors.session_mfa_recent(request)
        ):
            return HttpResponseRedirect(step_up_url(request.get_full_path()))
        return view(request, *args, **kwargs)

    return wrapper


def _next(request) -> str:
    return get_next_redirect_url(request) or reverse("accounts:my-account")


def _passed(request, *, method: str, device):
    """The second factor served: record it (allauth's authentication records and the sign-in
    log), mark the session verified, go on."""
    user = request.user
    after_password = request.session.pop(AFTER_PASSWORD, None)
    fresh = isinstance(after_password, int | float) and (
        time.time() - after_password < AFTER_PASSWORD_SECONDS
    )
    # With the password just typed again, this completes allauth's re-authentication.
    extra = {"amr": passkeys.passkey_amr(device)} if method == Method.PASSKEY else {}
    record_authentication(
        request, user, method="mfa", type=method, reauthenticated=True if fresh else None, **extra
    )
    otp_login(request, device)
    # One row per second factor proved, as at sign-in: the session's own, for a step-up.
    sign_in_record(
        request=request, user=user, method=SignInEvent.Method.SESSION,
        result=SignInEvent.Result.SUCCESS, mfa_method=method,
    )  # fmt: skip
    for key in (ATTEMPT, EMAIL_SENT, SETUP):
        request.session.pop(key, None)
    # Back to `next`, or the POST that asked for the re-authentication (allauth).
    return resume_request(request) or HttpResponseRedirect(_next(request))


@login_required
@require_http_methods(["GET", "POST"])
def step_up(request):
    user = request.user
    policy = selectors.mfa_policy_get()
    from accounts.sign_in.stages import sign_in_method

    primary = sign_in_method(request, user, is_signup=False)
    methods = user_methods(user, policy, primary_method=primary)
    setup = request.session.get(SETUP) or {}
    has_device = Method.TOTP in methods or Method.PASSKEY in methods
    if setup.get("verified") or (not has_device and policy.totp_allowed):
        return _enrol(request, policy)
    if not methods:
        return render(
            request,
            "mfa/step_up_unavailable.html",
            {"message": _("Your organization allows no second factor you can use here.")},
            status=403,
        )
    attempt = request.session.get(ATTEMPT)
    if not attempt:
        attempt = request.session[ATTEMPT] = secrets.token_urlsafe(24)
    challenge = SecondFactorChallenge(
        request,
        user=user,
        methods=methods,
        primary_method=primary,
        attempt=attempt,
        email_sent=request.session.get(EMAIL_SENT, False),
        log_method=SignInEvent.Method.SESSION,
    )
    verified = challenge.run()
    if verified is not None:
        return _passed(request, method=verified.method, device=verified.device)
    if challenge.email_sent:
        request.session[EMAIL_SENT] = True
    next_url = _next(request)

    def method_url(other: str) -> str:
        return f"{reverse('mfa:step-up')}?{urlencode({'next': next_url, 'method': other})}"

    return render(
        request,
        "mfa/challenge.html",
        {
            "next": next_url,
            "cancel_url": reverse("accounts:my-account"),
            "passkey_options_url": reverse("mfa:step-up-passkey-options"),
            **challenge.context(method_url=method_url),
        },
        status=challenge.status,
    )


@login_required
@require_http_methods(["POST"])
def step_up_passkey_options(request):
    """The challenge for a passkey as the second factor of a signed-in session's step-up."""
    from django.http import JsonResponse

    primary_methods = user_methods(request.user, selectors.mfa_policy_get(), primary_method=None)
    if Method.PASSKEY not in primary_methods:
        return JsonResponse({"error": _("This method is not allowed here.")}, status=403)
    return JsonResponse(
        passkeys.passkey_authenticate_begin(
            request=request, purpose=passkeys.Purpose.SECOND_FACTOR, user=request.user
        )
    )


def _enrol(request, policy):
    """A signed-in person without a second factor sets up an authenticator app (an app or
    the console requires one), sees the recovery codes once, then goes on."""
    from mfa.views import _setup_context, totp_setup

    user = request.user
    next_url = _next(request)
    context = {"next": next_url, "cancel_url": reverse("accounts:my-account"), "step_up": True}
    setup = request.session.get(SETUP) or {}
    verified = setup.get("verified")
    if verified:
        device = TOTPDevice.objects.filter(pk=verified, user=user, confirmed=True).first()
        continuing = request.method == "POST" and request.POST.get("action") == "continue"
        if device is not None and continuing:
            return _passed(request, method=Method.TOTP, device=device)
        if device is not None:
            return render(request, "mfa/recovery_codes_sign_in.html", {**context, "codes": []})
        request.session.pop(SETUP, None)
        setup = {}
    try:
        started = totp_setup(request, user=user, device_id=setup.get("device_id"))
    except ValidationError as error:
        return render(
            request, "mfa/step_up_unavailable.html", {"message": error.messages[0]}, status=403
        )
    device, form, status = started.device, started.form, started.status
    request.session[SETUP] = {"device_id": device.pk}
    if started.codes is not None:
        if not started.codes:
            device.refresh_from_db()
            return _passed(request, method=Method.TOTP, device=device)
        request.session[SETUP] = {"verified": device.pk}
        return render(
            request, "mfa/recovery_codes_sign_in.html", {**context, "codes": started.codes}
        )
    return render(
        request,
        "mfa/enrol_sign_in.html",
        {**context, "form": form, **_setup_context(device, user)},
        status=status,
    )


def _password_change(request, *args, **kwargs):
    from allauth.account.views import password_change as allauth_password_change

    return allauth_password_change(request, *args, **kwargs)


password_change = recent_mfa_required(_password_change)


# Re-authentication with a passkey -----------------------------------------------------------


def passkey_reauthentication_possible(user) -> bool:
    """Whether `user` may confirm it is them with a passkey alone (allauth's re-authentication
    page lists it, mfa.apps makes allauth's check count it): passkeys allowed, one set up,
    and no re-registration asked by an administrator."""
    from django.db import connection
    from django_tenants.utils import get_public_schema_name

    from mfa.passkeys import passkeys_allowed

    return (
        connection.schema_name != get_public_schema_name()
        and user.is_authenticated
        and passkeys_allowed()
        and selectors.has_passkey(user)
        and not selectors.reregistration_pending(user)
    )


def passkey_reauthentication_methods(user) -> list[dict]:
    """The entry of allauth's re-authentication methods (AccountAdapter.
    get_reauthentication_methods) for a passkey, when `user` may use one."""
    if not passkey_reauthentication_possible(user):
        return []
    return [
        {
            "id": "passkey_reauthenticate",
            "description": _("Use a passkey"),
            "url": reverse("mfa:reauthenticate-passkey"),
        }
    ]


def sign_in_again_method() -> dict:
    """The entry of allauth's re-authentication methods for signing in again: the way of
    whoever has no other (no password, and no passkey that may be used: none, passkeys not
    allowed, or a re-registration asked). allauth would otherwise let every sensitive change
    through, or answer 403 on its "Confirm it's you" page."""
    return {
        "id": "sign_in_again",
        "description": _("Sign in again"),
        "url": reverse("mfa:reauthenticate-sign-in-again"),
    }


class ReauthenticateBySigningInAgain(BaseReauthenticateView):
    """allauth's "Confirm it's you" for someone with no password and no usable passkey: a
    button that signs them out and back to the sign-in page, then to where they were going
    (a fresh sign-in counts as a recent authentication; a pending MFA re-registration is
    done there)."""

    form_class = forms.Form
    template_name = "mfa/reauthenticate_sign_in_again.html"

    def form_valid(self, form):
        from allauth.account.adapter import get_adapter

        next_url = self.get_next_url() or reverse("accounts:my-account")
        get_adapter(self.request).logout(self.request)
        return HttpResponseRedirect(f"{reverse('account_login')}?{urlencode({'next': next_url})}")


reauthenticate_sign_in_again = login_required(ReauthenticateBySigningInAgain.as_view())


class PasskeyAnswerForm(forms.Form):
    """The browser's answer (static/js/passkeys.js fills the hidden field) to a re-
    authentication challenge with user verification (mfa.passkeys.Purpose.REAUTHENTICATE)."""

    credential = forms.CharField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, request, **kwargs):
        super().__init__(*args, **kwargs)
        self.request = request
        self.device = None

    def clean(self):
        request = self.request
        try:
            self.device, _verified = passkeys.passkey_authenticate_complete(
                request=request,
                purpose=passkeys.Purpose.REAUTHENTICATE,
                credential=self.cleaned_data.get("credential", ""),
                user=request.user,
            )
        except ValidationError as error:
            sign_in_record(
                request=request, user=request.user, method=SignInEvent.Method.SESSION,
                result=SignInEvent.Result.FAILURE,
                failure_reason=SignInEvent.FailureReason.PASSKEY_REFUSED,
                mfa_method=Method.PASSKEY,
            )  # fmt: skip
            raise forms.ValidationError(error.messages[0]) from None
        return self.cleaned_data


class ReauthenticatePasskey(BaseReauthenticateView):
    """allauth's "Confirm it's you" with a passkey (user verification: the device and its PIN
    or biometrics, two factors at once): for someone without a password who signed in with a
    passkey, and an alternative to the password for everyone who has one. It counts as the
    re-authentication and as a recent second factor."""

    form_class = PasskeyAnswerForm
    template_name = "mfa/reauthenticate_passkey.html"

    def get_form_kwargs(self) -> dict:
        return {**super().get_form_kwargs(), "request": self.request}

    def form_valid(self, form):
        request = self.request
        request.session.pop(AFTER_PASSWORD, None)
        record_authentication(
            request, request.user, method="mfa", type=Method.PASSKEY, reauthenticated=True,
            amr=passkeys.passkey_amr(form.device),
        )  # fmt: skip
        otp_login(request, form.device)
        sign_in_record(
            request=request, user=request.user, method=SignInEvent.Method.SESSION,
            result=SignInEvent.Result.SUCCESS, mfa_method=Method.PASSKEY,
        )  # fmt: skip
        return super().form_valid(form)


reauthenticate_passkey = login_required(ReauthenticatePasskey.as_view())


@login_required
@require_http_methods(["POST"])
def reauthenticate_passkey_options(request):
    from django.http import JsonResponse

    if not passkey_reauthentication_possible(request.user):
        return JsonResponse({"error": _("This method is not allowed here.")}, status=403)
    return JsonResponse(
        passkeys.passkey_authenticate_begin(
            request=request, purpose=passkeys.Purpose.REAUTHENTICATE, user=request.user
        )
    )
