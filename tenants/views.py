from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from ciam.forms import add_service_errors
from ciam.http import client_ip
from console.lists import list_render, list_table
from operators.decorators import operator_required
from tenants import selectors, services
from tenants.filtersets import TenantFilterSet
from tenants.forms import TenantCreateForm, TenantDeleteForm
from tenants.models import Tenant
from tenants.tables import ReservedSlugTable, TenantTable

# The tenants this browser session created: only it may open their "created" page.
CREATED_TENANTS_SESSION_KEY = "platform_created_tenants"


@never_cache
def landing(request):
    form = TenantCreateForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                tenant = services.tenant_create(**form.cleaned_data, ip=client_ip(request))
            except ValidationError as error:
                add_service_errors(form, error)
                status = 429 if getattr(error, "code", None) == "rate_limited" else 400
            else:
                created = request.session.get(CREATED_TENANTS_SESSION_KEY, [])[-9:]
                request.session[CREATED_TENANTS_SESSION_KEY] = [*created, str(tenant.public_id)]
                # A same-origin page: the policy's form-action 'self' also applies to the
                # redirect that answers this POST, so the tenant's own host is linked from
                # there rather than redirected to.
                return HttpResponseRedirect(
                    reverse("platform:tenant-created", args=[tenant.public_id]), status=303
                )
        else:
            _add_rule_problems(form)
            status = 400
    return render(request, "platform/landing.html", {"form": form}, status=status)


def _add_rule_problems(form: TenantCreateForm) -> None:
    """A field whose shape is wrong stops only itself: the others are checked against the
    rules now, so that one round shows every problem."""
    values = {name: str(form.data.get(name, "")) for name in form.fields}
    for field, problems in services.tenant_create_problems(**values).items():
        if field not in form.errors:
            form.add_error(field, problems)


@require_GET
def tenant_created(request, public_id):
    if str(public_id) not in request.session.get(CREATED_TENANTS_SESSION_KEY, []):
        raise Http404
    tenant = get_object_or_404(Tenant, public_id=public_id)
    context = {
        "tenant": tenant,
        "tenant_url": selectors.tenant_url(tenant),
        "sign_in_url": selectors.tenant_url(tenant, "/accounts/login/?next=/console/"),
    }
    return render(request, "platform/tenant_created.html", context)


@require_GET
def slug_availability(request):
    slug = request.GET.get("slug", "").strip().lower()
    problem = services.slug_problem(slug) if slug else None
    return render(request, "platform/slug_availability.html", {"slug": slug, "problem": problem})


@operator_required
def operator_tenant_list(request):
    filterset = TenantFilterSet(request.GET, queryset=selectors.tenant_list(), request=request)
    table = list_table(request, TenantTable, filterset.qs)
    table.user_counts = selectors.tenant_user_counts(row.record for row in table.page.object_list)
    return list_render(request, "platform/tenant_list.html", table=table, filterset=filterset)


@require_http_methods(["GET", "POST"])
@operator_required
def operator_tenant_suspend(request, public_id):
    """GET asks for confirmation (no JavaScript needed); POST suspends."""
    tenant = get_object_or_404(Tenant, public_id=public_id)
    if request.method == "POST":
        services.tenant_suspend(tenant=tenant, actor=request.user)
        messages.success(request, _("%(name)s is suspended.") % {"name": tenant.name})
        return redirect("platform:tenant-list")
    return render(request, "platform/tenant_suspend.html", {"tenant": tenant})


@require_POST
@operator_required
def operator_tenant_resume(request, public_id):
    tenant = get_object_or_404(Tenant, public_id=public_id)
    services.tenant_resume(tenant=tenant, actor=request.user)
    messages.success(request, _("%(name)s is active again.") % {"name": tenant.name})
    return redirect("platform:tenant-list")


@operator_required
def operator_tenant_delete(request, public_id):
    tenant = get_object_or_404(Tenant, public_id=public_id)
    form = TenantDeleteForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.tenant_delete(
                tenant=tenant, confirm_slug=form.cleaned_data["confirm_slug"], actor=request.user
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("%(name)s was deleted.") % {"name": tenant.name})
            return redirect("platform:tenant-list")
    status = 400 if form.errors else 200
    context = {
        "tenant": tenant,
        "form": form,
        "quarantine_days": settings.TENANT_SLUG_QUARANTINE_DAYS,
    }
    return render(request, "platform/tenant_delete.html", context, status=status)


@operator_required
def operator_reserved_slugs(request):
    table = list_table(request, ReservedSlugTable, selectors.deleted_tenants_in_quarantine())
    context = {"quarantine_days": settings.TENANT_SLUG_QUARANTINE_DAYS}
    return list_render(request, "platform/reserved_slugs.html", table=table, **context)


@require_POST
@operator_required
def operator_reserved_slug_release(request, public_id):
    record = get_object_or_404(selectors.deleted_tenants_in_quarantine(), public_id=public_id)
    services.deleted_tenant_release(record=record, actor=request.user)
    messages.success(request, _("“%(slug)s” can be taken again.") % {"slug": record.slug})
    return redirect("platform:reserved-slug-list")
