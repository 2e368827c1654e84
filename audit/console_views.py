"""Console pages of the Logs area: the audit log, the sign-in log and its CSV exports."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from accounts.console_views import UNLOCK_ROLES
from accounts.forms import UnlockForm
from accounts.roles import has_admin_role
from audit import selectors, services
from audit.models import SignInEvent, SignInLogExport
from console.decorators import console_role
from console.navigation import LOG_READERS

PAGE_SIZE = 25


@console_role(*LOG_READERS)
def audit_log(request):
    filters = {
        "search": request.GET.get("q", "").strip()[:200],
        "action": request.GET.get("action", "").strip()[:80],
    }
    page = Paginator(selectors.audit_event_list(**filters), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    template = (
        "audit/console/audit_log.html#table" if request.htmx else "audit/console/audit_log.html"
    )
    return render(request, template, {"page": page, "filters": filters})


def _sign_in_log_filters(query) -> dict:
    """The sign-in log's filters from a query (the page's GET, or the export's POST)."""
    filters = {
        "search": query.get("q", "").strip()[:200],
        "result": query.get("result", ""),
        "method": query.get("method", "").strip()[:40],
        "policy": query.get("policy", "").strip()[:128],
        "policy_result": query.get("policy_result", ""),
    }
    if filters["policy_result"] not in ("block", "grant", "not_applied"):
        filters["policy_result"] = ""
    if filters["result"] not in SignInEvent.Result.values:
        filters["result"] = ""
    days = query.get("days", "")
    filters["days"] = int(days) if days in ("1", "7", "30") else None
    return filters


@console_role(*LOG_READERS)
def sign_in_log(request):
    filters = _sign_in_log_filters(request.GET)
    page = Paginator(selectors.sign_in_event_list(**filters), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    template = (
        "audit/console/sign_in_log.html#table" if request.htmx else "audit/console/sign_in_log.html"
    )
    return render(
        request,
        template,
        {
            "page": page,
            "filters": filters,
            "results": SignInEvent.Result.choices,
            "can_unlock": any(has_admin_role(request.user, role) for role in UNLOCK_ROLES),
            "unlock_form": UnlockForm(),
        },
    )


@console_role(*LOG_READERS)
@require_POST
def sign_in_export_create(request):
    export = services.sign_in_export_start(
        actor=request.user, filters=_sign_in_log_filters(request.POST), request=request
    )
    return redirect("console:sign-in-export", public_id=export.public_id)


@console_role(*LOG_READERS)
def sign_in_export_detail(request, public_id):
    export = get_object_or_404(SignInLogExport.objects.defer("content"), public_id=public_id)
    template = (
        "audit/console/sign_in_export.html#progress"
        if request.htmx
        else "audit/console/sign_in_export.html"
    )
    return render(request, template, {"export": export})


@console_role(*LOG_READERS)
def sign_in_export_download(request, public_id):
    export = get_object_or_404(
        SignInLogExport, public_id=public_id, status=SignInLogExport.Status.DONE
    )
    response = HttpResponse(export.content, content_type="text/csv; charset=utf-8")
    name = f"sign-ins-{export.created_at:%Y%m%d-%H%M}.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["Cache-Control"] = "no-store"
    return response
