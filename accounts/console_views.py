"""Console pages of sign-up and sign-in: User flows and the Sign-in log."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from accounts import selectors, services
from accounts.forms import SignUpAttributeForm, UnlockForm, UserFlowForm
from accounts.models import SignInEvent, SignInLogExport
from accounts.roles import AdminRole, has_admin_role
from ciam.forms import add_service_errors
from console.decorators import console_role
from console.navigation import LOG_READERS

PAGE_SIZE = 25
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


def _sign_in_log_filters(query) -> dict:
    """The sign-in log's filters from a query (the page's GET, or the export's POST)."""
    filters = {
        "search": query.get("q", "").strip()[:200],
        "result": query.get("result", ""),
        "method": query.get("method", "").strip()[:40],
    }
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
        "accounts/console/sign_in_log.html#table"
        if request.htmx
        else "accounts/console/sign_in_log.html"
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
        "accounts/console/sign_in_export.html#progress"
        if request.htmx
        else "accounts/console/sign_in_export.html"
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
