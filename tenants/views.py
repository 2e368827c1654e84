from __future__ import annotations

from django.contrib import messages
from django.contrib.admin.views.decorators import staff_member_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from ciam.forms import add_service_errors
from tenants import selectors, services
from tenants.forms import TenantCreateForm, TenantDeleteForm
from tenants.models import Tenant


def landing(request):
    form = TenantCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            tenant = services.tenant_create(**form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            return redirect(selectors.tenant_url(tenant, "/accounts/login/?next=/console/"))
    status = 400 if form.errors else 200
    return render(request, "platform/landing.html", {"form": form}, status=status)


@require_GET
def slug_availability(request):
    slug = request.GET.get("slug", "").strip().lower()
    problem = services.slug_problem(slug) if slug else None
    return render(request, "platform/slug_availability.html", {"slug": slug, "problem": problem})


@staff_member_required(login_url="platform-login")
def operator_tenant_list(request):
    filters = {
        "search": request.GET.get("q", "").strip()[:100],
        "status": request.GET.get("status", "")
        if request.GET.get("status") in Tenant.Status
        else "",
    }
    page = Paginator(selectors.tenant_list(**filters), 25).get_page(request.GET.get("page"))
    counts = selectors.tenant_user_counts(page.object_list)
    rows = [(tenant, counts.get(tenant.pk, 0)) for tenant in page.object_list]
    template = "platform/tenant_list.html#table" if request.htmx else "platform/tenant_list.html"
    return render(request, template, {"page": page, "rows": rows, "filters": filters})


@staff_member_required(login_url="platform-login")
@require_POST
def operator_tenant_suspend(request, public_id):
    tenant = get_object_or_404(Tenant, public_id=public_id)
    services.tenant_suspend(tenant=tenant, actor=request.user)
    messages.success(request, _("%(name)s is suspended.") % {"name": tenant.name})
    return redirect("platform-tenants")


@staff_member_required(login_url="platform-login")
@require_POST
def operator_tenant_resume(request, public_id):
    tenant = get_object_or_404(Tenant, public_id=public_id)
    services.tenant_resume(tenant=tenant, actor=request.user)
    messages.success(request, _("%(name)s is active again.") % {"name": tenant.name})
    return redirect("platform-tenants")


@staff_member_required(login_url="platform-login")
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
            return redirect("platform-tenants")
    status = 400 if form.errors else 200
    return render(
        request, "platform/tenant_delete.html", {"tenant": tenant, "form": form}, status=status
    )
