from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.roles import AdminRole, has_admin_role
from accounts.selectors import recent_sign_ins_of
from accounts.services import user_set_enabled
from console import selectors
from console.decorators import ANY_ADMIN, console_role
from console.navigation import LOG_READERS

PAGE_SIZE = 25


def paginate(request, queryset):
    return Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))


@console_role(*ANY_ADMIN)
def overview(request):
    return render(
        request,
        "console/overview.html",
        {
            "summary": selectors.directory_summary(),
            "events": selectors.recent_audit_events(),
        },
    )


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


@console_role(AdminRole.USER_ADMINISTRATOR)
def user_detail(request, public_id):
    from django.contrib.auth import get_user_model

    user = get_object_or_404(get_user_model(), public_id=public_id)
    # The sign-in log's roles also see the user's latest sign-ins here.
    reads_sign_ins = any(
        has_admin_role(request.user, role)
        for role in (AdminRole.REPORTS_READER, AdminRole.SECURITY_ADMINISTRATOR)
    )
    context = {
        "subject": user,
        "sign_ins": recent_sign_ins_of(user) if reads_sign_ins else None,
    }
    return render(request, "console/user_detail.html", context)


@console_role(AdminRole.USER_ADMINISTRATOR)
@require_POST
def user_enabled_set(request, public_id):
    from django.contrib.auth import get_user_model

    user = get_object_or_404(get_user_model(), public_id=public_id)
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
                    "%(email)s is disabled: their sessions ended and their apps' tokens "
                    "were revoked."
                )
                % {"email": user.email},
            )
    return redirect("console:user-detail", public_id=user.public_id)


@console_role(*LOG_READERS)
def logs(request):
    """Console > Logs opens its first tab, the sign-in log."""
    return redirect("console:sign-in-logs")


@console_role(*LOG_READERS)
def audit_log(request):
    filters = {
        "search": request.GET.get("q", "").strip()[:200],
        "action": request.GET.get("action", "").strip()[:80],
    }
    page = paginate(request, selectors.audit_event_list(**filters))
    template = "console/audit_log.html#table" if request.htmx else "console/audit_log.html"
    return render(request, template, {"page": page, "filters": filters})
