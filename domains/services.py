"""Custom domains (README, "Custom domains"): adding a host, proving control of it, making it
the primary domain, removing it. Global administrators only (the console checks the role;
these functions check everything else)."""

from __future__ import annotations

import ipaddress
import logging
import re
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.services import audit_record
from ciam.ratelimit import hit
from domains.models import CustomDomain, DomainReservation
from tenants.models import Domain, Tenant
from tenants.routing import routing_invalidate

logger = logging.getLogger(__name__)

LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
# Names the internet does not route (RFC 6761, 6762, 8375, ICANN's .internal): no one could
# reach the tenant there, and `localhost` is how development reaches every tenant.
UNROUTABLE_SUFFIXES = ("localhost", "local", "internal", "home.arpa", "invalid", "onion")
CHECKS_PER_HOUR = 10
# Each addition makes DNS and HTTP requests to a host the admin names, for hours: bounded.
ADDITIONS_PER_HOUR = 20
CHECKING = (CustomDomain.State.PENDING, CustomDomain.State.VERIFYING)
MAX_CUSTOM_DOMAINS = 20  # a tenant's hosts, verified or not (Auth0's limit)


def host_normalize(text: str) -> str:
    """The host as DNS writes it (lowercase, internationalised names in punycode, without a
    trailing dot), or ValidationError saying what is wrong."""
    text = (text or "").strip().lower().rstrip(".")
    if "://" in text or "/" in text or ":" in text or "@" in text:
        raise ValidationError(
            _("Type the host name only, such as login.contoso.com: no https://, path or port.")
        )
    if not text:
        raise ValidationError(_("Type a host name, such as login.contoso.com."))
    try:
        host = text.encode("idna").decode("ascii")
    except UnicodeError as error:
        raise ValidationError(_("This is not a valid host name.")) from error
    try:
        ipaddress.ip_address(host)
    except ValueError:
        pass
    else:
        raise ValidationError(_("Use a host name, not an IP address."))
    labels = host.split(".")
    if len(host) > 253 or not all(LABEL.match(label) for label in labels):
        raise ValidationError(
            _("This is not a valid host name: use letters, digits and hyphens between dots.")
        )
    if len(labels) < 2 or labels[-1].isdigit():
        raise ValidationError(
            _("Use a full host name under a domain you own, such as login.contoso.com.")
        )
    return host


def host_problem(*, tenant: Tenant, host: str, now=None) -> str | None:
    """Why `tenant` cannot add `host` (already normalised) at `now`, or None."""
    base = settings.BASE_DOMAIN.lower()
    if host == base or host.endswith("." + base):
        return _(
            "Hosts under %(base)s are the platform's; every directory already has its own there."
        ) % {"base": base}
    if any(host == suffix or host.endswith("." + suffix) for suffix in UNROUTABLE_SUFFIXES):
        return _("This name cannot be reached on the internet. Use a domain you own.")
    if CustomDomain.objects.filter(tenant=tenant, host=host).exists():
        return _("This directory has already added %(host)s.") % {"host": host}
    taken = Domain.objects.filter(domain=host).exclude(tenant=tenant).exists()
    if taken or reservation_for_another(tenant=tenant, host=host, now=now) is not None:
        # One answer for both: that a host was someone else's is nobody else's business.
        return _("%(host)s is in use by another directory.") % {"host": host}
    if Domain.objects.filter(domain=host, tenant=tenant).exists():
        return _("This directory already serves %(host)s.") % {"host": host}
    return None


def reservation_for_another(*, tenant: Tenant, host: str, now=None) -> DomainReservation | None:
    now = now or timezone.now()
    return (
        DomainReservation.objects.filter(
            host=host, reserved_until__gt=now, released_at__isnull=True
        )
        .exclude(tenant_public_id=tenant.public_id)
        .first()
    )


@transaction.atomic
def custom_domain_add(*, tenant: Tenant, host: str, actor, request=None, now=None) -> CustomDomain:
    """Add `host` to the tenant, pending verification, and start checking for the proof."""
    try:
        host = host_normalize(host)
    except ValidationError as error:
        raise ValidationError({"host": error.messages}) from error
    problem = host_problem(tenant=tenant, host=host, now=now)
    if problem is None and CustomDomain.objects.filter(tenant=tenant).count() >= MAX_CUSTOM_DOMAINS:
        problem = _("A directory may have at most %(count)s custom domains. Remove one first.") % {
            "count": MAX_CUSTOM_DOMAINS
        }
    if problem:
        raise ValidationError({"host": [problem]})
    if not hit(f"domains:add:{tenant.public_id}", ADDITIONS_PER_HOUR, 3600).allowed:
        raise ValidationError(
            {"host": [_("Many domains were added in the last hour. Try again later.")]}
        )
    try:
        with transaction.atomic():
            custom_domain = CustomDomain.objects.create(
                tenant=tenant, host=host, created_by=getattr(actor, "email", "")[:254]
            )
    except IntegrityError as error:
        raise ValidationError(
            {"host": [_("This directory has already added %(host)s.") % {"host": host}]}
        ) from error
    audit_record(
        actor=actor,
        action="domain.add",
        target=custom_domain,
        target_type="custom_domain",
        after={"host": host, "state": custom_domain.state},
        request=request,
    )
    _check_queue(custom_domain, now=now)
    return custom_domain


def custom_domain_check_now(*, custom_domain: CustomDomain, actor, request=None) -> CustomDomain:
    """Check again at once (a new series of tries), for a pending or failed domain."""
    if custom_domain.state == CustomDomain.State.VERIFIED:
        return custom_domain
    if not hit(f"domains:check:{custom_domain.public_id}", CHECKS_PER_HOUR, 3600).allowed:
        raise ValidationError(
            _("%(host)s was checked many times in the last hour. Try again later.")
            % {"host": custom_domain.host}
        )
    with transaction.atomic():
        custom_domain = CustomDomain.objects.select_for_update().get(pk=custom_domain.pk)
        _check_queue(custom_domain)
    return custom_domain


def _check_queue(custom_domain: CustomDomain, *, now=None) -> None:
    """A new series of tries: the ones of an earlier series still queued will see it and stop."""
    from domains.tasks import custom_domain_verify

    custom_domain.state = CustomDomain.State.PENDING
    custom_domain.attempts = 0
    custom_domain.failure_reason = ""
    custom_domain.next_check_at = now or timezone.now()
    custom_domain.check_series += 1
    custom_domain.save(
        update_fields=["state", "attempts", "failure_reason", "next_check_at", "check_series"]
    )
    pk, series = custom_domain.pk, custom_domain.check_series
    transaction.on_commit(lambda: custom_domain_verify.delay(pk, series))


def retry_delay(attempt: int) -> float:
    """Seconds before the try after `attempt` (1 for the first): doubling, capped."""
    delay = settings.DOMAIN_VERIFICATION_RETRY_SECONDS * (2 ** (attempt - 1))
    return min(delay, settings.DOMAIN_VERIFICATION_RETRY_MAX_SECONDS)


def custom_domain_verify_try(*, custom_domain_id: int, series: int) -> float | None:
    """One try of a series (the Celery task's body, in the tenant's schema): verified, or
    failed after DOMAIN_VERIFICATION_TRIES, or the seconds to wait before the next try."""
    from domains.verification import check

    # Pending (waiting for its next try) -> verifying while the try runs (the page says so).
    if not CustomDomain.objects.filter(
        pk=custom_domain_id, check_series=series, state__in=CHECKING
    ).update(state=CustomDomain.State.VERIFYING):
        return None
    custom_domain = CustomDomain.objects.get(pk=custom_domain_id)
    outcome, proof = check(custom_domain)  # network calls: outside any transaction
    with transaction.atomic():
        custom_domain = CustomDomain.objects.select_for_update().filter(pk=custom_domain_id).first()
        if not _is_current(custom_domain, series):
            return None
        custom_domain.attempts += 1
        custom_domain.last_checked_at = timezone.now()
        if outcome.found:
            problem = _claim_problem(custom_domain)
            if problem is None:
                _verified(custom_domain, proof)
                return None
            return _failed(custom_domain, problem)
        if custom_domain.attempts >= settings.DOMAIN_VERIFICATION_TRIES:
            return _failed(
                custom_domain,
                _("Stopped after %(count)s tries. %(reason)s")
                % {"count": custom_domain.attempts, "reason": outcome.reason},
            )
        delay = retry_delay(custom_domain.attempts)
        custom_domain.state = CustomDomain.State.PENDING
        custom_domain.failure_reason = outcome.reason
        custom_domain.next_check_at = custom_domain.last_checked_at + timedelta(seconds=delay)
        custom_domain.save(
            update_fields=[
                "state",
                "attempts",
                "last_checked_at",
                "failure_reason",
                "next_check_at",
            ]
        )
        return delay


def _is_current(custom_domain: CustomDomain | None, series: int) -> bool:
    return (
        custom_domain is not None
        and custom_domain.state in CHECKING
        and custom_domain.check_series == series
    )


def _claim_problem(custom_domain: CustomDomain) -> str | None:
    tenant = custom_domain.tenant
    if reservation_for_another(tenant=tenant, host=custom_domain.host) is not None:
        return _("%(host)s is in use by another directory.") % {"host": custom_domain.host}
    if Domain.objects.filter(domain=custom_domain.host).exclude(tenant=tenant).exists():
        return _("%(host)s is in use by another directory.") % {"host": custom_domain.host}
    return None


def _verified(custom_domain: CustomDomain, proof: str) -> None:
    tenant = custom_domain.tenant
    try:
        with transaction.atomic():
            Domain.objects.get_or_create(
                domain=custom_domain.host,
                defaults={"tenant": tenant, "is_primary": False, "is_verified": True},
            )
    except IntegrityError:
        _failed(custom_domain, _("%(host)s is in use by another directory.") % {
            "host": custom_domain.host
        })  # fmt: skip
        return
    custom_domain.state = CustomDomain.State.VERIFIED
    custom_domain.verified_at = custom_domain.last_checked_at
    custom_domain.verified_by = proof
    custom_domain.failure_reason = ""
    custom_domain.next_check_at = None
    custom_domain.save()
    audit_record(
        actor=None,
        action="domain.verify",
        target=custom_domain,
        target_type="custom_domain",
        before={"state": "pending"},
        after={"state": "verified", "proof": proof, "tries": custom_domain.attempts},
    )
    routing_invalidate()
    logger.info("domains.verified host=%s schema=%s", custom_domain.host, connection.schema_name)


def _failed(custom_domain: CustomDomain, reason: str) -> None:
    custom_domain.state = CustomDomain.State.FAILED
    custom_domain.failure_reason = reason[:300]
    custom_domain.next_check_at = None
    custom_domain.save()
    audit_record(
        actor=None,
        action="domain.verify_fail",
        target=custom_domain,
        target_type="custom_domain",
        before={"state": "pending"},
        after={"state": "failed", "reason": custom_domain.failure_reason},
    )
    return None


@transaction.atomic
def domain_make_primary(
    *, tenant: Tenant, host: str, confirm_host: str, actor, request=None
) -> Domain:
    """Make the verified `host` the tenant's primary domain: links in emails and the issuer
    follow it; the old primary stays an alias (it still serves the tenant)."""
    domain = Domain.objects.select_for_update().filter(tenant=tenant, domain=host).first()
    if domain is None or not domain.is_verified:
        raise ValidationError(_("Only a verified domain can become the primary domain."))
    if confirm_host.strip().lower().rstrip(".") != host:
        raise ValidationError({"confirm_host": [_("Type %(host)s to confirm.") % {"host": host}]})
    if domain.is_primary:
        return domain
    from domains.selectors import primary_change_preview
    from oidc.tokens import issuer, issuer_forget

    in_schema = connection.schema_name == tenant.schema_name
    # What changes, read before it does: the Global administrators are told (below).
    change = primary_change_preview(tenant, host) if in_schema else None
    old = Domain.objects.select_for_update().filter(tenant=tenant, is_primary=True).first()
    old_issuer = issuer() if connection.schema_name == tenant.schema_name else ""
    if old is not None:
        old.is_primary = False
        old.save(update_fields=["is_primary"])
    domain.is_primary = True
    domain.save(update_fields=["is_primary"])
    issuer_forget(tenant.schema_name)
    audit_record(
        actor=actor,
        action="domain.primary_change",
        target=domain,
        target_type="domain",
        target_label=host,
        before={"primary": old.domain if old else "", "issuer": old_issuer},
        after={"primary": host, "issuer": issuer() if old_issuer else ""},
        request=request,
    )
    if change is not None:
        primary_change_notice_send(change=change, actor=actor)
    routing_invalidate()
    transaction.on_commit(lambda: issuer_forget(tenant.schema_name))
    return domain


def primary_change_notice_send(*, change, actor) -> int:
    """Email each Global administrator of the tenant (enabled, not deleted) what the change
    of primary domain changed: the issuer apps must trust, the redirect URIs to register at
    each identity provider, who did it. Through the outbox, in each person's language, in
    the caller's transaction. Returns how many were written."""
    from django.template.loader import render_to_string
    from django.utils import translation

    from accounts.models import User
    from accounts.roles import AdminRole
    from emails.models import OutboxEmail
    from emails.services import header_value, outbox_add

    tenant = connection.tenant
    administrators = User.objects.filter(
        admin_roles__contains=[AdminRole.GLOBAL_ADMINISTRATOR],
        is_active=True,
        deleted_at__isnull=True,
    ).order_by("pk")
    context = {
        "tenant_name": tenant.name,
        "change": change,
        "apps": [app.name for app, _live in change.apps],
        "redirect_uris": [
            (provider.name, today, after) for provider, today, after in change.identity_providers
        ],
        "by": getattr(actor, "email", "") or "",
        "when": timezone.now(),
    }
    sent = 0
    for administrator in administrators:
        with translation.override(administrator.language or settings.LANGUAGE_CODE):
            subject = _("Your primary domain is now %(host)s") % {"host": change.new_host}
            outbox_add(
                kind=OutboxEmail.Kind.ACCOUNT,
                to=administrator.email,
                payload={
                    "subject": header_value(f"{tenant.name}: {subject}"),
                    "text": render_to_string("domains/email/primary_changed.txt", context),
                    "html": render_to_string("domains/email/primary_changed.html", context),
                },
            )
        sent += 1
    return sent


@transaction.atomic
def custom_domain_remove(*, custom_domain: CustomDomain, actor, request=None, now=None):
    """Remove a custom domain: it stops serving the tenant at once. A verified one stays
    reserved for the tenant for DOMAIN_REMOVED_RESERVATION_DAYS (nobody else may add it;
    a claim never proved reserves nothing, or adding and removing would squat on names)."""
    now = now or timezone.now()
    tenant = custom_domain.tenant
    domain = Domain.objects.filter(tenant=tenant, domain=custom_domain.host).first()
    if domain is not None and domain.is_primary:
        raise ValidationError(
            _("%(host)s is the primary domain. Make another domain primary first.")
            % {"host": custom_domain.host}
        )
    reserved_until = None
    if custom_domain.state == CustomDomain.State.VERIFIED:
        reserved_until = now + timedelta(days=settings.DOMAIN_REMOVED_RESERVATION_DAYS)
        DomainReservation.objects.create(
            host=custom_domain.host,
            tenant_public_id=tenant.public_id,
            reserved_until=reserved_until,
            created_by=getattr(actor, "email", "")[:254],
        )
    if domain is not None:
        domain.delete()
    audit_record(
        actor=actor,
        action="domain.remove",
        target=custom_domain,
        target_type="custom_domain",
        before={"host": custom_domain.host, "state": custom_domain.state},
        after={"reserved_until": reserved_until.isoformat() if reserved_until else None},
        request=request,
    )
    custom_domain.delete()
    routing_invalidate()
    return reserved_until


def tenant_domains_reserve(*, tenant: Tenant, actor, now=None) -> int:
    """When a tenant is deleted (tenants.services.tenant_delete): its verified custom domains
    stay reserved as its slug does, for TENANT_SLUG_QUARANTINE_DAYS (an app or a link still
    trusting them must not reach whoever claims them next). Returns how many."""
    now = now or timezone.now()
    hosts = list(
        CustomDomain.objects.filter(tenant=tenant, state=CustomDomain.State.VERIFIED).values_list(
            "host", flat=True
        )
    )
    until = now + timedelta(days=settings.TENANT_SLUG_QUARANTINE_DAYS)
    DomainReservation.objects.bulk_create(
        DomainReservation(
            host=host,
            tenant_public_id=tenant.public_id,
            reserved_until=until,
            created_by=getattr(actor, "email", str(actor or "system"))[:254],
        )
        for host in hosts
    )
    return len(hosts)


def domain_reservation_release(*, reservation: DomainReservation, actor, now=None):
    """An operator ends a reservation before its time (Operator > Reserved domains): any
    tenant may then add the host. Audited in the public schema's log."""
    now = now or timezone.now()
    if reservation.released_at is not None:
        return reservation
    reservation.released_at = now
    reservation.released_by = getattr(actor, "email", str(actor))[:254]
    reservation.save(update_fields=["released_at", "released_by"])
    audit_record(
        actor=actor,
        action="domain.reservation_release",
        target_type="domain_reservation",
        target_label=reservation.host,
        before={
            "reserved_until": reservation.reserved_until.isoformat(),
            "tenant": str(reservation.tenant_public_id),
        },
        after={"reserved": False},
    )
    return reservation
