"""Console pages of accounts: Users (the directory, a user's page, disabling and admin roles),
User flows (sign-up and sign-in) and unlocking an account."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from accounts import selectors, services
from accounts.filtersets import UserFilterSet
from accounts.forms import SignUpAttributeForm, UnlockForm, UserFlowForm
from accounts.models import User
from accounts.roles import (
    LOG_READERS,
    AdminRole,
    assignable_roles,
    has_admin_role,
    manages_roles_of,
)
from accounts.tables import UserTable
from audit.selectors import recent_sign_ins_of
from ciam.forms import add_service_errors
from console.decorators import console_role
from console.lists import list_page
from oidc.selectors import longest_access_token_lifetime

UNLOCK_ROLES = (AdminRole.SECURITY_ADMINISTRATOR, AdminRole.USER_ADMINISTRATOR)


@console_role(AdminRole.USER_ADMINISTRATOR)
def user_list(request):
    return list_page(
        request,
        "accounts/console/user_list.html",
        table_class=UserTable,
        filterset_class=UserFilterSet,
        queryset=selectors.user_list(),
    )


def _subject(public_id) -> User:
    return get_object_or_404(User, public_id=public_id)


def _access_token_minutes() -> int:
    return -(-longest_access_token_lifetime() // 60)


@console_role(AdminRole.USER_ADMINISTRATOR)
def user_detail(request, public_id):
    user = _subject(public_id)
    # The sign-in log's roles also see the user's latest sign-ins here.
    reads_sign_ins = any(has_admin_role(request.user, role) for role in LOG_READERS)
    manages_roles = manages_roles_of(request.user, user)
    assignable = assignable_roles(request.user) if manages_roles else []
    context = {
        "subject": user,
        "sign_ins": recent_sign_ins_of(user) if reads_sign_ins else None,
        "may_set_enabled": services.may_set_enabled(actor=request.user, user=user),
        "access_token_minutes": _access_token_minutes(),
        "manages_roles": manages_roles,
        "assigns_every_role": len(assignable) == len(AdminRole.values),
        "role_choices": [
            {"value": role, "label": AdminRole(role).label, "held": role in user.admin_roles}
            for role in assignable
        ],
    }
    return render(request, "accounts/console/user_detail.html", context)


@require_POST
@console_role(AdminRole.USER_ADMINISTRATOR)
def user_roles_set(request, public_id):
    user = _subject(public_id)
    # The roles the admin may not change are kept as they are; a request that changes them
    # anyway (a forged form) is refused by the service.
    kept = set(user.admin_roles) - set(assignable_roles(request.user))
    roles = kept | set(request.POST.getlist("roles"))
    try:
        services.user_admin_roles_set(
            actor=request.user, user=user, roles=list(roles), request=request
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("Admin roles of %(email)s saved.") % {"email": user.email})
    return redirect("console:users:detail", public_id=user.public_id)


@require_http_methods(["GET", "POST"])
@console_role(AdminRole.USER_ADMINISTRATOR)
def user_enabled_set(request, public_id):
    user = _subject(public_id)
    if request.method == "GET":
        return render(
            request,
            "console/confirm.html",
            {
                "title": _("Disable %(email)s?") % {"email": user.email},
                "consequence": _(
                    "Their sessions end and the refresh tokens their apps hold are revoked "
                    "now. Access tokens already issued keep working until they expire, at most "
                    "%(minutes)s minutes: apps check these signed tokens without asking us."
                )
                % {"minutes": _access_token_minutes()},
                "confirm_label": _("Disable user"),
                "fields": {"enabled": "false"},
                "cancel_url": reverse("console:users:detail", args=[user.public_id]),
            },
        )
    enabled = request.POST.get("enabled") == "true"
    try:
        services.user_set_enabled(user=user, enabled=enabled, actor=request.user, request=request)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        if enabled:
            messages.success(request, _("%(email)s can sign in again.") % {"email": user.email})
        else:
            messages.success(
                request,
                _(
                    "%(email)s is disabled: their sessions ended and their apps' refresh "
                    "tokens were revoked. Access tokens already issued keep working until they "
                    "expire, at most %(minutes)s minutes."
                )
                % {"email": user.email, "minutes": _access_token_minutes()},
            )
    return redirect("console:users:detail", public_id=user.public_id)


@require_http_methods(["GET", "POST"])
@console_role(AdminRole.USER_ADMINISTRATOR)
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
            return redirect("console:user-flows:edit")
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


@require_http_methods(["GET", "POST"])
@console_role(AdminRole.USER_ADMINISTRATOR)
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
            return redirect("console:user-flows:edit")
    return render(
        request,
        "accounts/console/sign_up_attribute_form.html",
        {"form": form, "attribute": attribute},
        status=400 if form.errors else 200,
    )


@require_POST
@console_role(AdminRole.USER_ADMINISTRATOR)
def sign_up_attribute_delete(request, public_id):
    attribute = selectors.sign_up_attribute_get(public_id)
    if attribute is None:
        raise Http404
    services.sign_up_attribute_delete(actor=request.user, attribute=attribute, request=request)
    messages.success(
        request, _("The sign-up page no longer asks for “%(key)s”.") % {"key": attribute.key}
    )
    return redirect("console:user-flows:edit")


@require_POST
@console_role(*UNLOCK_ROLES)
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
    return redirect("console:logs:sign-ins")
