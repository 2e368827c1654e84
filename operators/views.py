"""The operator's sign-in: password (Django's LoginView with the lockout), then a code from the
authenticator app; an operator without one sets it up first."""

from __future__ import annotations

from urllib.parse import urlencode

import django_otp
from django.contrib import messages
from django.contrib.admin.views.decorators import staff_member_required
from django.contrib.auth.views import LoginView
from django.http import HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from ciam.context_processors import platform
from mfa import selectors as mfa_selectors
from mfa.forms import CodeForm, RecoveryCodeForm
from mfa.models import Method
from mfa.services import CodeRefused
from operators import selectors, services
from operators.models import OperatorRecoveryCodeDevice
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
    if not selectors.operator_has_totp(request.user):
        return HttpResponseRedirect(_step_url("platform:operator-mfa-setup", next_url))
    method = Method.RECOVERY_CODE if request.GET.get("method") == "recovery" else Method.TOTP
    form_class = RecoveryCodeForm if method == Method.RECOVERY_CODE else CodeForm
    form = form_class(request.POST if request.method == "POST" else None)
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
    context = {"form": form, "method": method, "next": next_url}
    status = 400 if form.is_bound else 200
    return render(request, "platform/operator_mfa.html", context, status=status)


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
    """An operator without an authenticator app sets one up (QR code, first code) and sees
    the recovery codes once."""
    next_url = _next_url(request)
    if selectors.operator_has_totp(request.user):
        return HttpResponseRedirect(_step_url("platform:operator-mfa", next_url))
    device = selectors.operator_totp_pending(
        user=request.user, device_id=request.session.get(SETUP_SESSION_KEY)
    )
    if device is None:
        device = services.operator_totp_start(user=request.user)
        request.session[SETUP_SESSION_KEY] = device.pk
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
    # As the app lists it: the platform, apart from any tenant account of the same address.
    issuer = _("%(platform)s operator") % {"platform": platform(request)["platform_name"]}
    url = mfa_selectors.totp_config_url(device, issuer=issuer, label=request.user.email)
    context = {
        "form": form,
        "next": next_url,
        "qr_svg": mfa_selectors.qr_svg(url, title=_("QR code for your authenticator app")),
        "secret_text": mfa_selectors.totp_secret_text(device),
        "issuer": issuer,
        "label": request.user.email,
    }
    status = 400 if form.is_bound else 200
    return render(request, "platform/operator_mfa_setup.html", context, status=status)
