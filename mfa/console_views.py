from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from accounts.roles import AdminRole
from console.decorators import console_role
from mfa import services
from mfa.forms import MfaPolicyForm
from mfa.selectors import mfa_policy_get


@console_role(AdminRole.SECURITY_ADMINISTRATOR)
def policies(request):
    return redirect("console:policies:mfa")


@console_role(AdminRole.SECURITY_ADMINISTRATOR)
@require_http_methods(["GET", "POST"])
def mfa_policy(request):
    policy = mfa_policy_get()
    form = MfaPolicyForm(request.POST or None, instance=policy)
    if request.method == "POST" and form.is_valid():
        try:
            services.mfa_policy_update(actor=request.user, request=request, **form.cleaned_data)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("The MFA policy is saved."))
            return redirect("console:policies:mfa")
    status = 400 if form.is_bound else 200
    return render(request, "mfa/console/policy.html", {"form": form}, status=status)


@require_http_methods(["GET", "POST"])
@console_role(AdminRole.USER_ADMINISTRATOR)
def user_mfa_reset(request, public_id):
    """Console > Users > a user > Reset MFA (accounts' URLconf: console:users:mfa-reset)."""
    from accounts.models import User

    user = get_object_or_404(User, public_id=public_id)
    detail = reverse("console:users:detail", args=[user.public_id])
    if request.method == "GET":
        return render(
            request,
            "console/confirm.html",
            {
                "title": _("Reset MFA of %(email)s?") % {"email": user.email},
                "consequence": _(
                    "Their authenticator app, passkeys and recovery codes are removed, and "
                    "browsers they "
                    "asked to be remembered are asked again. They are emailed; if the MFA "
                    "policy requires a second factor, they set one up at their next sign-in."
                ),
                "confirm_label": _("Reset MFA"),
                "fields": {},
                "cancel_url": detail,
            },
        )
    try:
        services.mfa_reset(actor=request.user, user=user, request=request)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(
            request, _("The second factors of %(email)s are removed.") % {"email": user.email}
        )
    return redirect(detail)


@require_http_methods(["GET", "POST"])
@console_role(AdminRole.USER_ADMINISTRATOR)
def user_mfa_reregister(request, public_id):
    """Console > Users > a user > Require re-registration (accounts' URLconf:
    console:users:mfa-reregister)."""
    from accounts.models import User

    user = get_object_or_404(User, public_id=public_id)
    detail = reverse("console:users:detail", args=[user.public_id])
    if request.method == "GET":
        return render(
            request,
            "console/confirm.html",
            {
                "title": _("Require %(email)s to register their MFA methods again?")
                % {"email": user.email},
                "consequence": _(
                    "Their authenticator app, passkeys and recovery codes stop counting now, and "
                    "remembered browsers are asked again. At their next sign-in (with their "
                    "password or an emailed code) they set up a new authenticator app, or add a "
                    "new passkey in My account; the old methods are then removed. They are "
                    "emailed."
                ),
                "confirm_label": _("Require re-registration"),
                "fields": {},
                "cancel_url": detail,
            },
        )
    try:
        services.reregistration_require(actor=request.user, user=user, request=request)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(
            request,
            _("%(email)s will register their second factors again at their next sign-in.")
            % {"email": user.email},
        )
    return redirect(detail)
