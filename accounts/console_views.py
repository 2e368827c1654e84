"""Console pages of sign-up and sign-in: User flows and unlocking an account."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from accounts import selectors, services
from accounts.forms import SignUpAttributeForm, UnlockForm, UserFlowForm
from accounts.roles import AdminRole
from ciam.forms import add_service_errors
from console.decorators import console_role

UNLOCK_ROLES = (AdminRole.SECURITY_ADMINISTRATOR, AdminRole.USER_ADMINISTRATOR)


@console_role(AdminRole.USER_ADMINISTRATOR)
@require_http_methods(["GET", "POST"])
def user_flow(request):
    flow = selectors.user_flow_get()
    form = UserFlowForm(request.POST or None, instance=flow)
    if request.method == "POST" and form.is_valid():
        try:
            services.user_flow_update(actor=request.user, request=request, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("User flow saved. The hosted pages use it now."))
            return redirect("console:user-flows")
    return render(
        request,
        "accounts/console/user_flow.html",
        {
            "form": form,
            "attributes": selectors.sign_up_attributes(flow),
            "attribute_form": SignUpAttributeForm(
                initial={"position": len(selectors.sign_up_attributes(flow))}
            ),
            "builtin_attributes": services.BUILTIN_ATTRIBUTES,
        },
        status=400 if form.errors else 200,
    )


@console_role(AdminRole.USER_ADMINISTRATOR)
@require_http_methods(["GET", "POST"])
def sign_up_attribute_edit(request, public_id=None):
    attribute = None
    if public_id is not None:
        attribute = selectors.sign_up_attribute_get(public_id)
        if attribute is None:
            raise Http404
    initial = {}
    if attribute is not None:
        initial = {
            "key": attribute.key,
            "label": attribute.label,
            "data_type": attribute.data_type,
            "choices": "\n".join(attribute.choices),
            "required": attribute.required,
            "position": attribute.position,
        }
    form = SignUpAttributeForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.sign_up_attribute_save(
                actor=request.user, attribute=attribute, request=request, **form.cleaned_data
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Sign-up attribute saved."))
            return redirect("console:user-flows")
    return render(
        request,
        "accounts/console/sign_up_attribute_form.html",
        {"form": form, "attribute": attribute},
        status=400 if form.errors else 200,
    )


@console_role(AdminRole.USER_ADMINISTRATOR)
@require_POST
def sign_up_attribute_delete(request, public_id):
    attribute = selectors.sign_up_attribute_get(public_id)
    if attribute is None:
        raise Http404
    services.sign_up_attribute_delete(actor=request.user, attribute=attribute, request=request)
    messages.success(
        request, _("The sign-up page no longer asks for “%(key)s”.") % {"key": attribute.key}
    )
    return redirect("console:user-flows")


@console_role(*UNLOCK_ROLES)
@require_POST
def account_unlock(request):
    form = UnlockForm(request.POST)
    if form.is_valid():
        services.account_unlock(
            actor=request.user, email=form.cleaned_data["email"], request=request
        )
        messages.success(
            request,
            _("%(email)s can sign in again.") % {"email": form.cleaned_data["email"]},
        )
    else:
        messages.error(request, _("Enter a valid email address to unlock."))
    return redirect("console:sign-in-logs")
