"""Console pages of the Logs area: the audit log, the sign-in log and its CSV exports."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from accounts.console_views import UNLOCK_ROLES
from accounts.roles import LOG_READERS, AdminRole, has_admin_role
from audit import selectors, services
from audit.filtersets import AuditEventFilterSet, SignInEventFilterSet
from audit.forms import LogRetentionForm
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


# Who sets how long the logs are kept: the Security administrator (and Global, who holds
# every role); the log readers see it.
RETENTION_ADMINS = (AdminRole.SECURITY_ADMINISTRATOR,)


@require_http_methods(["GET", "POST"])
@console_role(*LOG_READERS)
def log_retention(request):
    """Console > Logs > Retention: what each log keeps, and the form to change it."""
    retention = selectors.log_retention_get()
    may_change = any(has_admin_role(request.user, role) for role in RETENTION_ADMINS)
    if request.method == "POST" and not may_change:
        return render(
            request,
            "console/forbidden.html",
            {"required_roles": [AdminRole(role).label for role in RETENTION_ADMINS]},
            status=403,
        )
    form = LogRetentionForm(request.POST or None, instance=retention)
    if request.method == "POST" and form.is_valid():
        try:
            services.log_retention_update(actor=request.user, request=request, **form.cleaned_data)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("Log retention is saved."))
            return redirect("console:logs:retention")
    # What is kept now (the form may hold refused values).
    retention = selectors.log_retention_get()
    context = {
        "form": form,
        "retention": retention,
        "may_change": may_change,
        "sign_in_cutoff": services.log_cutoff(retention.sign_in_days),
        "audit_cutoff": services.log_cutoff(retention.audit_days),
    }
    return render(
        request, "audit/console/retention.html", context, status=400 if form.is_bound else 200
    )
