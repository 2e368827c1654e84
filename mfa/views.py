"""Hosted MFA pages: the sign-in challenge and set-up (login stage pages), and My account >
Security."""

from __future__ import annotations

from dataclasses import dataclass
from functools import wraps

from allauth.account.decorators import reauthentication_required
from allauth.account.internal.flows.login import record_authentication
from allauth.account.internal.stagekit import stash_login
from allauth.account.stages import LoginStageController
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db import connection
from django.http import HttpResponseRedirect, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods, require_POST

from conditional_access.requirements import sign_in_policies_restore
from mfa import passkeys, selectors, services
from mfa.challenge import SecondFactorChallenge
from mfa.forms import CodeForm
from mfa.models import Method, RecoveryCodeDevice, TOTPDevice
from mfa.remember import remember_cookie_set
from mfa.stages import KEY, available_methods, stage_url


def mfa_stage_required(view):
    """The page of a sign-in waiting at the MFA stage (request.mfa_stage); without one, back
    to the sign-in page."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        stage = LoginStageController.enter(request, KEY)
        if stage is None:
            return redirect("account_login")
        request.mfa_stage = stage
        # The sign-in log rows and the session of this sign-in keep what conditional access
        # decided in the request that began it.
        sign_in_policies_restore(request, stage.login)
        return view(request, *args, **kwargs)

    return wrapper


def _stage_context(stage, **context) -> dict:
    return {"next": stage.login.redirect_url or "", "again": stage.state.get("again"), **context}


def _passed(request, stage, verified: services.Verified):
    """The second factor served: remember it for the rest of the sign-in and go on."""
    user = stage.login.user
    stage.state["verified"] = {
        "method": verified.method,
        "device": verified.device.persistent_id,
        "user": str(user.pk),
    }
    request.mfa_verified = stage.state["verified"]
    request.mfa_device = verified.device  # mfa.sign_in need not read it again
    # allauth's own record of the session's authentications (reauthentication, max_age).
    extra = {}
    if verified.method == Method.PASSKEY:
        extra["amr"] = passkeys.passkey_amr(verified.device)
    record_authentication(request, user, method="mfa", type=verified.method, **extra)
    remember_days = selectors.tenant_mfa().policy.remember_browser_days
    remember = remember_days and request.POST.get("remember") == "on"
    if verified.method == Method.RECOVERY_CODE:
        remaining = verified.device.remaining
        if remaining <= RecoveryCodeDevice.FEW_LEFT:
            messages.warning(
                request,
                ngettext(
                    "You have %(count)d recovery code left. Make new ones in My account, "
                    "under Security.",
                    "You have %(count)d recovery codes left. Make new ones in My account, "
                    "under Security.",
                    remaining,
                )
                % {"count": remaining},
            )
    response = stage.exit()
    if remember:
        remember_cookie_set(response, user=user, days=remember_days)
    return response


@mfa_stage_required
@require_http_methods(["GET", "POST"])
def authenticate(request):
    """Sign-in, second step: a code from the chosen method (mfa.challenge)."""
    stage = request.mfa_stage
    if stage.state.get("mode") != "authenticate":
        return HttpResponseRedirect(stage_url("mfa:enrol", stage.login))
    policy = selectors.tenant_mfa().policy  # kept per process, as the stage reads it
    methods = available_methods(stage, policy)
    if not methods:
        return stage.abort()
    challenge = SecondFactorChallenge(
        request,
        user=stage.login.user,
        methods=methods,
        primary_method=stage.state.get("primary_method", "password"),
        attempt=stage.state.get("attempt", ""),
        email_sent=stage.state.get("email_sent", False),
    )
    verified = challenge.run()
    if verified is not None:
        return _passed(request, stage, verified)
    if challenge.email_sent and not stage.state.get("email_sent"):
        stage.state["email_sent"] = True
        stash_login(request, stage.login)
    context = challenge.context(
        method_url=lambda other: stage_url("mfa:authenticate", stage.login, method=other)
    )
    return render(
        request,
        "mfa/challenge.html",
        _stage_context(stage, remember_days=policy.remember_browser_days, **context),
        status=challenge.status,
    )


@mfa_stage_required
@require_POST
def passkey_options(request):
    """The challenge for a passkey as the second factor of the sign-in waiting at the stage."""
    stage = request.mfa_stage
    if Method.PASSKEY not in available_methods(stage, selectors.tenant_mfa().policy):
        return JsonResponse({"error": _("This method is not allowed here.")}, status=403)
    return JsonResponse(
        passkeys.passkey_authenticate_begin(
            request=request, purpose=passkeys.Purpose.SECOND_FACTOR, user=stage.login.user
        )
    )


@dataclass
class TotpSetup:
    """An authenticator app being set up: its unconfirmed device, the code form, and the new
    recovery codes once a code served (None until then; a list, maybe empty, after)."""

    device: TOTPDevice
    form: CodeForm
    codes: list[str] | None

    @property
    def status(self) -> int:
        return 400 if self.form.is_bound and self.codes is None else 200


def totp_setup(request, *, user, device_id, during_sign_in=False, primary_method="") -> TotpSetup:
    """Start, or resume, setting up an authenticator app and check the code posted (the
    sign-in's set-up step, step-up's, and My account's). Raises ValidationError when an app
    may not be set up (mfa.services.totp_enrol_start)."""
    device = TOTPDevice.objects.filter(pk=device_id, user=user, confirmed=False).first()
    if device is None:
        device = services.totp_enrol_start(user=user, during_sign_in=during_sign_in)
    form = CodeForm(request.POST if request.method == "POST" else None)
    codes = None
    if form.is_bound and form.is_valid():
        try:
            codes = services.totp_enrol_confirm(
                user=user, device_id=device.pk, code=form.cleaned_data["code"],
                request=request, primary_method=primary_method,
            )  # fmt: skip
        except services.CodeRefused as error:
            form.add_error("code", error)
    return TotpSetup(device=device, form=form, codes=codes)


@mfa_stage_required
@require_http_methods(["GET", "POST"])
def enrol(request):
    """Sign-in when the policy requires MFA and the user has none: set up an authenticator
    app, see the recovery codes once, then go on."""
    stage = request.mfa_stage
    if stage.state.get("mode") != "enrol":
        return HttpResponseRedirect(stage_url("mfa:authenticate", stage.login))
    user = stage.login.user
    continuing = request.method == "POST" and request.POST.get("action") == "continue"
    if continuing and stage.state.get("verified"):
        request.mfa_verified = stage.state["verified"]
        record_authentication(request, user, method="mfa", type=Method.TOTP)
        return stage.exit()
    if stage.state.get("verified"):
        # Set up already: the codes were shown once; only "Continue" is left.
        return render(request, "mfa/recovery_codes_sign_in.html", _stage_context(stage, codes=[]))
    setup = totp_setup(
        request, user=user, device_id=stage.state.get("device_id"), during_sign_in=True,
        primary_method=stage.state.get("primary_method", "password"),
    )  # fmt: skip
    device, form = setup.device, setup.form
    if stage.state.get("device_id") != device.pk:
        stage.state["device_id"] = device.pk
        stash_login(request, stage.login)
    if setup.codes is not None:
        device.refresh_from_db()
        stage.state["verified"] = {
            "method": Method.TOTP,
            "device": device.persistent_id,
            "user": str(user.pk),
        }
        stash_login(request, stage.login)
        if not setup.codes:
            request.mfa_verified = stage.state["verified"]
            record_authentication(request, user, method="mfa", type=Method.TOTP)
            return stage.exit()
        return render(
            request, "mfa/recovery_codes_sign_in.html", _stage_context(stage, codes=setup.codes)
        )
    return render(
        request,
        "mfa/enrol_sign_in.html",
        _stage_context(stage, form=form, **_setup_context(device, user)),
        status=setup.status,
    )


def _setup_context(device: TOTPDevice, user) -> dict:
    issuer = getattr(connection.tenant, "name", "")
    url = selectors.totp_config_url(device, issuer=issuer, label=user.email)
    return {
        "qr_svg": selectors.qr_svg(url, title=_("QR code for your authenticator app")),
        "secret_text": selectors.totp_secret_text(device),
        "issuer": issuer,
        "label": user.email,
    }


# My account > Security -----------------------------------------------------------------------


@login_required
def security(request):
    policy = selectors.mfa_policy_get()
    info = selectors.security_info(request.user)
    return render(
        request,
        "mfa/security.html",
        {
            "policy": policy,
            "info": info,
            "required": policy.is_required_for(request.user),
        },
    )


@login_required
@reauthentication_required
@require_http_methods(["GET", "POST"])
def totp_add(request):
    user = request.user
    try:
        setup = totp_setup(request, user=user, device_id=request.session.get("mfa_setup_device"))
    except ValidationError as error:
        messages.error(request, error.messages[0])
        return redirect("mfa:security")
    device, form, status = setup.device, setup.form, setup.status
    request.session["mfa_setup_device"] = device.pk
    if setup.codes is not None:
        request.session.pop("mfa_setup_device", None)
        messages.success(request, _("Your authenticator app is set up."))
        if setup.codes:
            return render(request, "mfa/recovery_codes.html", {"codes": setup.codes})
        return redirect("mfa:security")
    return render(
        request,
        "mfa/totp_add.html",
        {"form": form, **_setup_context(device, user)},
        status=status,
    )


@login_required
@reauthentication_required
@require_http_methods(["GET", "POST"])
def totp_remove(request):
    if request.method == "POST":
        services.totp_remove(user=request.user, request=request)
        messages.success(request, _("The authenticator app is removed."))
        return redirect("mfa:security")
    return render(request, "mfa/totp_remove.html")


@login_required
@reauthentication_required
@require_http_methods(["GET", "POST"])
def recovery_codes_regenerate(request):
    if request.method == "GET":
        return render(request, "mfa/recovery_codes_regenerate.html")
    try:
        codes = services.recovery_codes_regenerate(user=request.user, request=request)
    except ValidationError as error:
        messages.error(request, error.messages[0])
        return redirect("mfa:security")
    return render(request, "mfa/recovery_codes.html", {"codes": codes})
