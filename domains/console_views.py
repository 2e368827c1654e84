"""Console > Custom domains (Global administrator): add a domain, prove it, make it primary,
remove it (README, "Custom domains")."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from accounts.roles import AdminRole
from ciam.forms import add_service_errors
from console.decorators import console_role
from console.lists import list_page
from domains import selectors, services
from domains.filtersets import CustomDomainFilterSet
from domains.forms import CustomDomainAddForm, PrimaryConfirmForm
from domains.tables import CustomDomainTable
from tenants.models import Domain

GLOBAL_ADMIN = AdminRole.GLOBAL_ADMINISTRATOR


def _see_other(view_name: str, **kwargs):
    response = redirect(view_name, **kwargs)
    response.status_code = 303
    return response


def _custom_domain(request, public_id):
    custom_domain = selectors.custom_domain_get(request.tenant, public_id)
    if custom_domain is None:
        raise Http404
    return custom_domain


@console_role(GLOBAL_ADMIN)
def domain_list(request):
    tenant = request.tenant
    return list_page(
        request,
        "domains/domain_list.html",
        table_class=CustomDomainTable,
        filterset_class=CustomDomainFilterSet,
        queryset=selectors.custom_domain_list(tenant),
        serving=selectors.tenant_domains(tenant),
        reservations=selectors.reservations_held(tenant),
    )


@require_http_methods(["GET", "POST"])
@console_role(GLOBAL_ADMIN)
def domain_add(request):
    form = CustomDomainAddForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            custom_domain = services.custom_domain_add(
                tenant=request.tenant,
                host=form.cleaned_data["host"],
                actor=request.user,
                request=request,
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(
                request,
                _("%(host)s added. Create the DNS record below to prove it is yours.")
                % {"host": custom_domain.host},
            )
            return _see_other("console:domains:detail", public_id=custom_domain.public_id)
    return render(request, "domains/domain_add.html", {"form": form})


@console_role(GLOBAL_ADMIN)
def domain_detail(request, public_id):
    custom_domain = _custom_domain(request, public_id)
    domain = Domain.objects.filter(tenant=request.tenant, domain=custom_domain.host).first()
    template = "domains/domain_detail.html"
    if request.htmx and request.headers.get("HX-Target") == "domain-state":
        template += "#state"
    return render(request, template, {"custom_domain": custom_domain, "domain": domain})


@require_POST
@console_role(GLOBAL_ADMIN)
def domain_check(request, public_id):
    custom_domain = _custom_domain(request, public_id)
    try:
        services.custom_domain_check_now(
            custom_domain=custom_domain, actor=request.user, request=request
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.info(request, _("Checking %(host)s now.") % {"host": custom_domain.host})
    return _see_other("console:domains:detail", public_id=custom_domain.public_id)


@require_http_methods(["GET", "POST"])
@console_role(GLOBAL_ADMIN)
def domain_make_primary(request, host):
    tenant = request.tenant
    domain = Domain.objects.filter(tenant=tenant, domain=host, is_verified=True).first()
    if domain is None:
        raise Http404
    if domain.is_primary:
        messages.info(request, _("%(host)s is already the primary domain.") % {"host": host})
        return _see_other("console:domains:list")
    form = PrimaryConfirmForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.domain_make_primary(
                tenant=tenant,
                host=host,
                confirm_host=form.cleaned_data["confirm_host"],
                actor=request.user,
                request=request,
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(
                request,
                _("%(host)s is now the primary domain: the issuer and links follow it.")
                % {"host": host},
            )
            return _see_other("console:domains:list")
    change = selectors.primary_change_preview(tenant, host)
    return render(
        request,
        "domains/domain_make_primary.html",
        {"form": form, "domain": domain, "change": change},
        status=400 if form.errors else 200,
    )


@require_http_methods(["GET", "POST"])
@console_role(GLOBAL_ADMIN)
def domain_remove(request, public_id):
    custom_domain = _custom_domain(request, public_id)
    if request.method == "POST":
        try:
            reserved_until = services.custom_domain_remove(
                custom_domain=custom_domain, actor=request.user, request=request
            )
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
            return _see_other("console:domains:detail", public_id=custom_domain.public_id)
        if reserved_until is not None:
            messages.success(
                request,
                _("%(host)s removed. It stays reserved for this directory until %(date)s.")
                % {"host": custom_domain.host, "date": f"{reserved_until:%Y-%m-%d}"},
            )
        else:
            messages.success(request, _("%(host)s removed.") % {"host": custom_domain.host})
        return _see_other("console:domains:list")
    consequence = _(
        "%(host)s stops serving this directory at once: sign-in pages, links and apps using it "
        "stop working there."
    ) % {"host": custom_domain.host}
    if custom_domain.state == custom_domain.State.VERIFIED:
        consequence += " " + _(
            "It stays reserved for this directory for %(days)s days: nobody else can add it, "
            "and you can add it back."
        ) % {"days": settings.DOMAIN_REMOVED_RESERVATION_DAYS}
    return render(
        request,
        "console/confirm.html",
        {
            "title": _("Remove %(host)s?") % {"host": custom_domain.host},
            "consequence": consequence,
            "confirm_label": _("Remove domain"),
            "cancel_url": reverse("console:domains:detail", args=[custom_domain.public_id]),
            "fields": {},
        },
    )
