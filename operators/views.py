"""The operator's sign-in: password (Django's LoginView with the lockout), then a code from the
authenticator app or a passkey; an operator without either sets one up first. Operator >
Passkeys lists, adds and removes the operator's passkeys."""

from __future__ import annotations

from urllib.parse import urlencode

import django_otp
from django.contrib import messages
from django.contrib.admin.views.decorators import staff_member_required
from django.contrib.auth.views import LoginView, redirect_to_login
from django.core.exceptions import ValidationError
from django.http import HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from ciam.context_processors import platform
from mfa import selectors as mfa_selectors
from mfa.forms import CodeForm, RecoveryCodeForm
from mfa.models import Method
from mfa.services import CodeRefused
from operators import selectors, services
from operators.decorators import operator_required
from operators.models import OperatorPasskeyDevice, OperatorRecoveryCodeDevice
from tenants.forms import OperatorLoginForm

SETUP_SESSION_KEY = "operator_totp_setup"


class OperatorLoginView(LoginView):
    template_name = "platform/login.html"
    authentication_form = OperatorLoginForm

    def form_valid(self, form):
        response = super().form_valid(form)
        # A password alone never stands for the second factor of an earlier sign-in.
        self.request.session.pop(django_otp.DEVICE_ID_SESSION_KEY, None)
        return response

    def get_success_url(self):
        return _step_url("platform:operator-mfa", super().get_success_url())


def _step_url(name: str, next_url: str) -> str:
    return f"{reverse(name)}?{urlencode({'next': next_url})}"


def _next_url(request) -> str:
    next_url = request.POST.get("next") or request.GET.get("next") or ""
    if next_url and url_has_allowed_host_and_scheme(
        next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return next_url
    return reverse("platform:tenant-list")


def _verified(request, device) -> None:
    django_otp.login(request, device)
    request.session.cycle_key()


@never_cache
@require_http_methods(["GET", "POST"])
@staff_member_required(login_url="platform:login")
def operator_mfa(request):
    """After the password: a code from the authenticator app, or a recovery code."""
    next_url = _next_url(request)
    if request.user.is_verified():
        return HttpResponseRedirect(next_url)
    has_totp = selectors.operator_has_totp(request.user)
    has_passkey = selectors.operator_has_passkey(request.user)
    if not (has_totp or has_passkey):
        return HttpResponseRedirect(_step_url("platform:operator-mfa-setup", next_url))
    asked = request.GET.get("method") or request.POST.get("method")
    if asked in ("recovery", Method.RECOVERY_CODE):
        method = Method.RECOVERY_CODE
    elif has_passkey and (asked == Method.PASSKEY or not has_totp):
        method = Method.PASSKEY
    else:
        method = Method.TOTP
    form_class = RecoveryCodeForm if method == Method.RECOVERY_CODE else CodeForm
    passkey_error = ""
    if method == Method.PASSKEY and request.method == "POST":
        try:
            device = services.operator_passkey_verify(
                user=request.user, credential=request.POST.get("credential", ""),
                request=request, rp_name=_rp_name(request),
            )  # fmt: skip
        except ValidationError as error:
            passkey_error = error.messages[0]
        else:
            _verified(request, device)
            return HttpResponseRedirect(next_url)
    bound = request.method == "POST" and method != Method.PASSKEY
    form = form_class(request.POST if bound else None)
    if form.is_bound and form.is_valid():
        try:
            device = services.operator_code_verify(
                user=request.user, method=method, code=form.cleaned_data["code"], request=request
            )
        except CodeRefused as error:
            form.add_error("code", error)
        else:
            _verified(request, device)
            if isinstance(device, OperatorRecoveryCodeDevice):
                _recovery_warning(request, device.remaining)
            return HttpResponseRedirect(next_url)
    context = {
        "form": form,
        "method": method,
        "next": next_url,
        "has_totp": has_totp,
        "has_passkey": has_passkey,
        "passkey_error": passkey_error,
    }
    status = 400 if form.is_bound or passkey_error else 200
    return render(request, "platform/operator_mfa.html", context, status=status)


def _rp_name(request) -> str:
    # What the browser's passkey dialog names: the platform, apart from any tenant.
    return _("%(platform)s operator") % {"platform": platform(request)["platform_name"]}


@never_cache
@require_POST
@staff_member_required(login_url="platform:login")
def operator_mfa_passkey_options(request):
    """The challenge for one of the operator's passkeys, after their password."""
    if not selectors.operator_has_passkey(request.user):
        return JsonResponse({"error": _("You have no passkey.")}, status=403)
    return JsonResponse(
        services.operator_passkey_begin(
            request=request, user=request.user, rp_name=_rp_name(request)
        )
    )


def _recovery_warning(request, remaining: int) -> None:
    if remaining <= OperatorRecoveryCodeDevice.FEW_LEFT:
        messages.warning(
            request,
            ngettext(
                "You have %(count)d recovery code left. Ask whoever runs the platform to reset "
                "your authenticator app (manage.py operator_totp_reset).",
                "You have %(count)d recovery codes left. Ask whoever runs the platform to reset "
                "your authenticator app (manage.py operator_totp_reset).",
                remaining,
            )
            % {"count": remaining},
        )


@never_cache
@require_http_methods(["GET", "POST"])
@staff_member_required(login_url="platform:login")
def operator_mfa_setup(request):
    """An operator without a second factor sets up an authenticator app (QR code, first code)
    or creates a passkey (operator_passkey_add), and sees the recovery codes once."""
    next_url = _next_url(request)
    if selectors.operator_has_second_factor(request.user):
        return HttpResponseRedirect(_step_url("platform:operator-mfa", next_url))
    device = _pending_totp(request)
    form = CodeForm(request.POST if request.method == "POST" else None)
    if form.is_bound and form.is_valid():
        try:
            device, codes = services.operator_totp_confirm(
                user=request.user,
                device_id=device.pk,
                code=form.cleaned_data["code"],
                request=request,
            )
        except CodeRefused as error:
            form.add_error("code", error)
        else:
            request.session.pop(SETUP_SESSION_KEY, None)
            _verified(request, device)
            messages.success(request, _("Your authenticator app is set up."))
            context = {"codes": codes, "next": next_url}
            return render(request, "platform/operator_recovery_codes.html", context)
    context = {**_totp_setup_context(request, device), "form": form, "next": next_url}
    status = 400 if form.is_bound else 200
    return render(request, "platform/operator_mfa_setup.html", context, status=status)


def _pending_totp(request):
    device = selectors.operator_totp_pending(
        user=request.user, device_id=request.session.get(SETUP_SESSION_KEY)
    )
    if device is None:
        device = services.operator_totp_start(user=request.user)
        request.session[SETUP_SESSION_KEY] = device.pk
    return device


def _totp_setup_context(request, device=None) -> dict:
    device = device or _pending_totp(request)
    # As the app lists it: the platform, apart from any tenant account of the same address.
    issuer = _rp_name(request)
    url = mfa_selectors.totp_config_url(device, issuer=issuer, label=request.user.email)
    return {
        "form": CodeForm(),
        "qr_svg": mfa_selectors.qr_svg(url, title=_("QR code for your authenticator app")),
        "secret_text": mfa_selectors.totp_secret_text(device),
        "issuer": issuer,
        "label": request.user.email,
    }


def _may_add_passkey(request) -> bool:
    """A passkey is added by an operator who proved a second factor in this session, or, at
    set-up, by one who has none yet (as the authenticator app's set-up)."""
    user = request.user
    return user.is_verified() or not selectors.operator_has_second_factor(user)


@never_cache
@require_POST
@staff_member_required(login_url="platform:login")
def operator_passkey_add_options(request):
    if not _may_add_passkey(request):
        return JsonResponse({"error": _("Verify it's you first.")}, status=403)
    try:
        options = services.operator_passkey_register_begin(
            request=request, user=request.user, rp_name=_rp_name(request)
        )
    except ValidationError as error:
        return JsonResponse({"error": error.messages[0]}, status=403)
    return JsonResponse(options)


@never_cache
@require_http_methods(["GET", "POST"])
@staff_member_required(login_url="platform:login")
def operator_passkeys(request):
    """Operator > Passkeys: the operator's passkeys, and a new one (also the set-up step's
    form posts here: a passkey instead of an authenticator app)."""
    if not _may_add_passkey(request):
        return redirect_to_login(request.get_full_path(), reverse("platform:operator-mfa"))
    at_setup = not request.user.is_verified()
    error = ""
    name = request.POST.get("name", "")
    if request.method == "POST":
        try:
            device, codes = services.operator_passkey_register_complete(
                request=request, user=request.user, name=name,
                credential=request.POST.get("credential", ""), rp_name=_rp_name(request),
            )  # fmt: skip
        except ValidationError as refused:
            error = refused.messages[0]
        else:
            messages.success(request, _("Your passkey %(name)s is set up.") % {"name": device.name})
            if at_setup:
                _verified(request, device)
            if codes:
                context = {"codes": codes, "next": _next_url(request)}
                return render(request, "platform/operator_recovery_codes.html", context)
            if at_setup:
                return HttpResponseRedirect(_next_url(request))
            return HttpResponseRedirect(reverse("platform:operator-passkeys"))
    if at_setup and request.method == "GET":
        return HttpResponseRedirect(reverse("platform:operator-mfa-setup"))
    context = {
        "passkeys": selectors.operator_passkeys(request.user),
        "error": error,
        "name": name,
        "next": _next_url(request),
    }
    template = "platform/operator_mfa_setup.html" if at_setup else "platform/operator_passkeys.html"
    if at_setup:
        context.update(_totp_setup_context(request))
    return render(request, template, context, status=400 if error else 200)


@never_cache
@require_POST
@operator_required
def operator_passkey_remove(request, public_id):
    device = get_object_or_404(OperatorPasskeyDevice, public_id=public_id, user=request.user)
    try:
        services.operator_passkey_remove(request=request, user=request.user, device=device)
    except ValidationError as error:
        messages.error(request, error.messages[0])
    else:
        messages.success(request, _("The passkey is removed."))
    return HttpResponseRedirect(reverse("platform:operator-passkeys"))
