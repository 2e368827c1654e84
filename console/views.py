from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from accounts.roles import AdminRole, assignable_roles, has_admin_role, manages_roles_of
from accounts.services import (
    email_verification_send,
    may_set_enabled,
    user_admin_roles_set,
    user_set_enabled,
)
from audit.selectors import recent_sign_ins_of
from console import selectors
from console.decorators import ANY_ADMIN, console_role
from console.navigation import LOG_READERS
from oidc.selectors import longest_access_token_lifetime

PAGE_SIZE = 25


def paginate(request, queryset):
    return Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))


# The overview's cards and the roles that may read each: what a role cannot open elsewhere
# in the console, the overview does not show it either.
DIRECTORY_READERS = (AdminRole.USER_ADMINISTRATOR, *LOG_READERS)
APP_READERS = (AdminRole.APPLICATION_ADMINISTRATOR,)


def _holds_any(user, roles) -> bool:
    return any(has_admin_role(user, role) for role in roles)


@console_role(*ANY_ADMIN)
def overview(request):
    user = request.user
    context = {
        "summary": selectors.directory_summary() if _holds_any(user, DIRECTORY_READERS) else None,
        "app_count": selectors.app_count() if _holds_any(user, APP_READERS) else None,
        "events": selectors.recent_audit_events() if _holds_any(user, LOG_READERS) else None,
    }
    return render(request, "console/overview.html", context)


@console_role(*ANY_ADMIN)
@require_POST
def email_verify(request):
    """The banner's button: email the signed-in admin a link proving their address. allauth
    adds the "sent" message, or one saying the limit holds the email back."""
    email_verification_send(request=request, user=request.user)
    return redirect("console:overview")


@console_role(AdminRole.USER_ADMINISTRATOR)
def user_list(request):
    filters = {
        "search": request.GET.get("q", "").strip()[:200],
        "user_type": request.GET.get("type", ""),
        "state": request.GET.get("state", ""),
    }
    page = paginate(request, selectors.user_list(**filters))
    template = "console/user_list.html#table" if request.htmx else "console/user_list.html"
    return render(request, template, {"page": page, "filters": filters})


def _subject(public_id):
    from django.contrib.auth import get_user_model

    return get_object_or_404(get_user_model(), public_id=public_id)


def _access_token_minutes() -> int:
    return -(-longest_access_token_lifetime() // 60)


@console_role(AdminRole.USER_ADMINISTRATOR)
def user_detail(request, public_id):
    user = _subject(public_id)
    # The sign-in log's roles also see the user's latest sign-ins here.
    reads_sign_ins = _holds_any(request.user, LOG_READERS)
    manages_roles = manages_roles_of(request.user, user)
    assignable = assignable_roles(request.user) if manages_roles else []
    context = {
        "subject": user,
        "sign_ins": recent_sign_ins_of(user) if reads_sign_ins else None,
        "may_set_enabled": may_set_enabled(actor=request.user, user=user),
        "access_token_minutes": _access_token_minutes(),
        "manages_roles": manages_roles,
        "assigns_every_role": len(assignable) == len(AdminRole.values),
        "role_choices": [
            {"value": role, "label": AdminRole(role).label, "held": role in user.admin_roles}
            for role in assignable
        ],
    }
    return render(request, "console/user_detail.html", context)


@console_role(AdminRole.USER_ADMINISTRATOR)
@require_POST
def user_roles_set(request, public_id):
    user = _subject(public_id)
    # The roles the admin may not change are kept as they are; a request that changes them
    # anyway (a forged form) is refused by the service.
    kept = set(user.admin_roles) - set(assignable_roles(request.user))
    roles = kept | set(request.POST.getlist("roles"))
    try:
        user_admin_roles_set(actor=request.user, user=user, roles=list(roles), request=request)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("Admin roles of %(email)s saved.") % {"email": user.email})
    return redirect("console:user-detail", public_id=user.public_id)


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
                "cancel_url": reverse("console:user-detail", args=[user.public_id]),
            },
        )
    enabled = request.POST.get("enabled") == "true"
    try:
        user_set_enabled(user=user, enabled=enabled, actor=request.user, request=request)
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
    return redirect("console:user-detail", public_id=user.public_id)


@console_role(*LOG_READERS)
def logs(request):
    """Console > Logs opens its first tab, the sign-in log."""
    return redirect("console:sign-in-logs")
