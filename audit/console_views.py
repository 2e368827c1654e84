"""Console pages of the Logs area: the audit log, the sign-in log and its CSV exports."""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from accounts.console_views import UNLOCK_ROLES
from accounts.roles import LOG_READERS, has_admin_role
from audit import selectors, services
from audit.filtersets import AuditEventFilterSet, SignInEventFilterSet
from audit.models import SignInEvent, SignInLogExport
from audit.tables import AuditEventTable, SignInEventTable
from console.decorators import console_role
from console.lists import list_page


@console_role(*LOG_READERS)
def logs(request):
    """Console > Logs opens its first tab, the sign-in log."""
    return redirect("console:logs:sign-ins")


@console_role(*LOG_READERS)
def audit_log(request):
    return list_page(
        request,
        "audit/console/audit_log.html",
        table_class=AuditEventTable,
        filterset_class=AuditEventFilterSet,
        queryset=selectors.audit_event_list(),
    )


@console_role(*LOG_READERS)
def sign_in_log(request):
    return list_page(
        request,
        "audit/console/sign_in_log.html",
        table_class=SignInEventTable,
        filterset_class=SignInEventFilterSet,
        queryset=SignInEvent.objects.select_related("user"),
        can_unlock=any(has_admin_role(request.user, role) for role in UNLOCK_ROLES),
    )


@require_POST
@console_role(*LOG_READERS)
def sign_in_export_create(request):
    filters = SignInEventFilterSet(request.POST).selector_filters()
    export = services.sign_in_export_start(actor=request.user, filters=filters, request=request)
    return redirect("console:logs:export-detail", public_id=export.public_id)


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
