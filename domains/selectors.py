"""What the custom domains pages read."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.conf import settings
from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from domains.models import CustomDomain
from tenants.models import Domain, Tenant


def custom_domain_list(tenant: Tenant) -> QuerySet[CustomDomain]:
    return CustomDomain.objects.filter(tenant=tenant)


def custom_domain_get(tenant: Tenant, public_id) -> CustomDomain | None:
    return CustomDomain.objects.filter(tenant=tenant, public_id=public_id).first()


def tenant_domains(tenant: Tenant) -> list[Domain]:
    """The hosts that serve the tenant: its address under the base domain and its verified
    custom domains, the primary first."""
    return list(Domain.objects.filter(tenant=tenant).order_by("-is_primary", "domain"))


def primary_host(tenant: Tenant) -> str:
    domain = Domain.objects.filter(tenant=tenant, is_primary=True).only("domain").first()
    return domain.domain if domain is not None else tenant.primary_host


def _origin(host: str) -> str:
    port = f":{settings.PUBLIC_PORT}" if settings.PUBLIC_PORT else ""
    return f"{settings.PUBLIC_SCHEME}://{host}{port}"


@dataclass
class PrimaryChange:
    """What making `new_host` primary changes, for the confirmation page."""

    old_host: str
    new_host: str
    old_issuer: str
    new_issuer: str
    discovery_url: str
    # (app, live sign-ins: refresh tokens not revoked) for each registered app
    apps: list = field(default_factory=list)
    # (identity provider, redirect URI today, redirect URI after) to register at each IdP
    identity_providers: list = field(default_factory=list)


def primary_change_preview(tenant: Tenant, new_host: str) -> PrimaryChange:
    """Run in the tenant's schema: issuer and discovery, the apps that must follow the new
    issuer (their tokens' `iss` no longer matches: users sign in again), and the redirect
    URIs to register at each identity provider."""
    from django.urls import reverse
    from oauth2_provider.models import get_refresh_token_model

    from federation.models import IdentityProvider
    from federation.services import redirect_uri
    from oidc.models import Application

    old_host = primary_host(tenant)
    old_origin, new_origin = _origin(old_host), _origin(new_host)
    discovery = reverse("oidc:discovery")
    change = PrimaryChange(
        old_host=old_host,
        new_host=new_host,
        old_issuer=f"{old_origin}/o",
        new_issuer=f"{new_origin}/o",
        discovery_url=f"{new_origin}{discovery}",
    )
    live = dict(
        get_refresh_token_model()
        .objects.filter(revoked__isnull=True)
        .values_list("application_id")
        .annotate(count=Count("id"))
    )
    for app in Application.objects.order_by("name"):
        change.apps.append((app, live.get(app.pk, 0)))
    for provider in IdentityProvider.objects.order_by("name"):
        today = redirect_uri(provider)
        after = today.replace(old_origin, new_origin, 1) if today.startswith(old_origin) else ""
        change.identity_providers.append((provider, today, after))
    return change


def reservations_held(tenant: Tenant):
    from domains.models import DomainReservation

    return DomainReservation.objects.filter(
        Q(tenant_public_id=tenant.public_id),
        reserved_until__gt=timezone.now(),
        released_at__isnull=True,
    )


def reservations_in_force(*, now=None) -> QuerySet:
    """Operator > Reserved domains: the reservations still holding a host, each with the name
    and slug of the tenant it is kept for (a live tenant, else its deletion record)."""
    from django.db.models import OuterRef, Subquery
    from django.db.models.functions import Coalesce

    from domains.models import DomainReservation
    from tenants.models import DeletedTenant

    now = now or timezone.now()
    live = Tenant.objects.filter(public_id=OuterRef("tenant_public_id"))
    deleted = DeletedTenant.objects.filter(public_id=OuterRef("tenant_public_id")).order_by(
        "-deleted_at"
    )
    return DomainReservation.objects.filter(
        reserved_until__gt=now, released_at__isnull=True
    ).annotate(
        tenant_name=Coalesce(
            Subquery(live.values("name")[:1]), Subquery(deleted.values("name")[:1])
        ),
        tenant_slug=Coalesce(
            Subquery(live.values("slug")[:1]), Subquery(deleted.values("slug")[:1])
        ),
    )
