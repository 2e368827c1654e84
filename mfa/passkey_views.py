"""Passkey pages and endpoints: My account > Security (add, rename, remove) and the sign-in
without a password. The second-factor use lives on the MFA challenge page (mfa.views).

The options endpoints answer JSON to static/js/passkeys.js (POST, CSRF token in a header);
the browser's answer comes back in an ordinary form post (a hidden `credential` field), so
that what follows (allauth's login stages, redirects to an app) is the same as after the
password form.
"""

from __future__ import annotations

from urllib.parse import urlencode

from allauth.account.decorators import reauthentication_required
from allauth.account.internal.flows.login import record_authentication
from allauth.account.utils import get_next_redirect_url, perform_login
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db import connection
from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST
from django_tenants.utils import get_public_schema_name

from audit.models import SignInEvent
from audit.services import sign_in_record
from mfa import passkeys
from mfa.models import PasskeyDevice
from mfa.selectors import reregistration_pending


def _tenant_only(request) -> None:
    # The platform host has no MFA tables and no end users.
    if connection.schema_name == get_public_schema_name():
        raise Http404


def _error_json(error: ValidationError, status: int = 400) -> JsonResponse:
    return JsonResponse({"error": error.messages[0]}, status=status)


# My account > Security -----------------------------------------------------------------------


@login_required
@reauthentication_required
@require_http_methods(["GET", "POST"])
def passkey_add(request):
    """Name a new passkey; the browser makes it (passkeys.js) and the form brings it back."""
    _tenant_only(request)
    if not passkeys.passkeys_allowed():
        messages.error(request, _("Your organization does not allow passkeys."))
        return redirect("mfa:security")
    error = ""
    name = request.POST.get("name", "")
    if request.method == "POST":
        try:
            device, codes = passkeys.passkey_register_complete(
                request=request,
                user=request.user,
                name=name,
                credential=request.POST.get("credential", ""),
            )
        except ValidationError as refused:
            error = refused.messages[0]
        else:
            messages.success(request, _("Your passkey %(name)s is set up.") % {"name": device.name})
            if codes:  # the first second factor: its recovery codes, shown once
                return render(request, "mfa/recovery_codes.html", {"codes": codes})
            return redirect("mfa:security")
    return render(
        request,
        "mfa/passkey_add.html",
        {"error": error, "name": name},
        status=400 if error else 200,
    )


@login_required
@reauthentication_required
@require_POST
def passkey_add_options(request):
    _tenant_only(request)
    try:
        options = passkeys.passkey_register_begin(request=request, user=request.user)
    except ValidationError as error:
        return _error_json(error, status=403)
    return JsonResponse(options)


@login_required
@require_http_methods(["GET", "POST"])
def passkey_rename(request, public_id):
    _tenant_only(request)
    device = get_object_or_404(PasskeyDevice, public_id=public_id, user=request.user)
    error = ""
    if request.method == "POST":
        try:
            passkeys.passkey_rename(
                request=request, user=request.user, device=device, name=request.POST.get("name")
            )
        except ValidationError as refused:
            error = refused.messages[0]
        else:
            messages.success(request, _("The passkey is renamed."))
            return redirect("mfa:security")
    return render(
        request,
        "mfa/passkey_rename.html",
        {"device": device, "error": error},
        status=400 if error else 200,
    )


@login_required
@reauthentication_required
@require_http_methods(["GET", "POST"])
def passkey_remove(request, public_id):
    _tenant_only(request)
    device = get_object_or_404(PasskeyDevice, public_id=public_id, user=request.user)
    if request.method == "POST":
        passkeys.passkey_remove(request=request, user=request.user, device=device)
        messages.success(request, _("The passkey is removed."))
        return redirect("mfa:security")
    return render(request, "mfa/passkey_remove.html", {"device": device})


# Sign-in without a password ------------------------------------------------------------------


@require_POST
def sign_in_options(request):
    _tenant_only(request)
    if not passkeys.passkeys_allowed():
        return JsonResponse({"error": _("Your organization does not allow passkeys.")}, status=403)
    return JsonResponse(
        passkeys.passkey_authenticate_begin(request=request, purpose=passkeys.Purpose.SIGN_IN)
    )


@require_POST
def sign_in(request):
    """The passkey answers for the password: allauth's login flow takes over from here (the
    login stages, the session, the sign-in log's row), as after the password form."""
    _tenant_only(request)
    next_url = get_next_redirect_url(request) or ""
    try:
        if not passkeys.passkeys_allowed():
            raise ValidationError(_("Your organization does not allow passkeys."))
        device, user_verified = passkeys.passkey_authenticate_complete(
            request=request,
            purpose=passkeys.Purpose.SIGN_IN,
            credential=request.POST.get("credential", ""),
            ceremony=request.POST.get("ceremony", ""),
        )
        if not user_verified:  # required by the request; the server checked it too
            raise passkeys.PasskeyRefused(_("This passkey was not accepted."))
        if reregistration_pending(device.user):
            # An administrator asked for new second factors: this passkey no longer counts.
            raise passkeys.PasskeyRefused(
                _(
                    "Your administrator asked you to set up your sign-in methods again. Sign "
                    "in another way; then you can add a new passkey."
                ),
                code="reregistration_required",
            )
    except ValidationError as error:
        sign_in_record(
            request=request,
            method=SignInEvent.Method.PASSKEY,
            result=SignInEvent.Result.FAILURE,
            failure_reason=SignInEvent.FailureReason.PASSKEY_REFUSED,
        )
        messages.error(request, error.messages[0])
        # "retry": the page does not ask the browser's autofill for a passkey again by itself
        # (mfa/_passkey_sign_in.html); the person chooses.
        query = {"passkey": "retry", **({"next": next_url} if next_url else {})}
        return redirect(f"{reverse('account_login')}?{urlencode(query)}")
    user = device.user
    # Read back by accounts.sign_in.stages.sign_in_method (the sign-in log's method) and by
    # mfa.stages.MfaStage (a passkey with user verification is already two factors).
    record_authentication(
        request,
        user,
        method="passkey",
        device=device.persistent_id,
        user_verified=True,
        amr=passkeys.passkey_amr(device),
    )
    return perform_login(request, user, redirect_url=next_url or None)
