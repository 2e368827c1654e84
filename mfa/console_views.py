from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
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
