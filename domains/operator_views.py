"""Operator > Reserved domains (platform pages, `platform:`): hosts removed from a tenant, or
left by a deleted one, kept for it for a while; an operator may release one early."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from console.lists import list_page
from domains import selectors, services
from domains.filtersets import DomainReservationFilterSet
from domains.tables import DomainReservationTable
from operators.decorators import operator_required


@operator_required
def operator_reserved_domains(request):
    return list_page(
        request,
        "domains/operator/reserved_domains.html",
        table_class=DomainReservationTable,
        filterset_class=DomainReservationFilterSet,
        queryset=selectors.reservations_in_force().order_by("reserved_until", "host"),
        reservation_days=settings.DOMAIN_REMOVED_RESERVATION_DAYS,
    )


@require_POST
@operator_required
def operator_reserved_domain_release(request, public_id):
    reservation = get_object_or_404(selectors.reservations_in_force(), public_id=public_id)
    services.domain_reservation_release(reservation=reservation, actor=request.user)
    messages.success(
        request, _("%(host)s is released: any tenant may add it now.") % {"host": reservation.host}
    )
    return redirect("platform:reserved-domain-list")
