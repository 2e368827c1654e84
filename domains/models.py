"""Custom domains: a tenant's claim on a host it brings (`login.contoso.com`) and the proof
that it controls it; reservations of removed hosts. Public schema: a host is claimed across
tenants, and routing (tenants.Domain) is there too."""

from __future__ import annotations

import secrets
import uuid

from django.db import models
from django.utils.translation import gettext_lazy as _

# The label in front of the host that names the TXT record (as Entra's `MS=` or Auth0's
# `_cf-custom-hostname`): a record of its own, so that the proof never touches the host's
# own records.
CHALLENGE_LABEL = "_ciam-challenge"
TXT_PREFIX = "ciam-verification="
WELL_KNOWN_PATH = "/.well-known/ciam-domain-verification/"


def verification_token() -> str:
    return secrets.token_urlsafe(24)


class CustomDomain(models.Model):
    """One tenant's claim on a host. Several tenants may claim one host while none has proved
    it (a claim alone would otherwise let anyone squat on a company's name); the first proof
    wins, and from then on the host is taken (tenants.Domain's unique host)."""

    class State(models.TextChoices):
        PENDING = "pending", _("Pending")
        VERIFYING = "verifying", _("Verifying")
        VERIFIED = "verified", _("Verified")
        FAILED = "failed", _("Failed")

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    tenant = models.ForeignKey(
        "tenants.Tenant", on_delete=models.CASCADE, related_name="custom_domains"
    )
    host = models.CharField(max_length=253)
    token = models.CharField(max_length=64, default=verification_token, editable=False)
    state = models.CharField(max_length=16, choices=State.choices, default=State.PENDING)
    # The running series of tries (a new one at each "Check now": tasks of an older series
    # stop), its tries so far and the reason of the last one that did not find the proof.
    check_series = models.PositiveIntegerField(default=0)
    attempts = models.PositiveSmallIntegerField(default=0)
    failure_reason = models.CharField(max_length=300, blank=True)
    last_checked_at = models.DateTimeField(null=True, blank=True)
    next_check_at = models.DateTimeField(null=True, blank=True)
    verified_at = models.DateTimeField(null=True, blank=True)
    verified_by = models.CharField(max_length=16, blank=True)  # "dns" or "http"
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.CharField(max_length=254, blank=True)

    class Meta:
        ordering = ["host"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "host"], name="custom_domain_once_a_tenant")
        ]
        indexes = [models.Index(fields=["host"], name="custom_domain_host")]

    def __str__(self) -> str:
        return self.host

    @property
    def txt_name(self) -> str:
        return f"{CHALLENGE_LABEL}.{self.host}"

    @property
    def txt_value(self) -> str:
        return f"{TXT_PREFIX}{self.token}"

    @property
    def well_known_url(self) -> str:
        return f"http://{self.host}{WELL_KNOWN_PATH}{self.token}"

    @property
    def is_checking(self) -> bool:
        return self.state in (self.State.PENDING, self.State.VERIFYING)


class DomainReservation(models.Model):
    """A host removed from a tenant, kept for it until `reserved_until`: links, bookmarks and
    apps still trusting the host must not reach another tenant. Keyed by the tenant's public
    id so that it outlives the tenant too."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    host = models.CharField(max_length=253)
    tenant_public_id = models.UUIDField()
    reserved_until = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.CharField(max_length=254, blank=True)
    # An operator may end a reservation early (Operator > Reserved domains).
    released_at = models.DateTimeField(null=True, blank=True)
    released_by = models.CharField(max_length=254, blank=True)

    class Meta:
        ordering = ["-reserved_until"]
        indexes = [models.Index(fields=["host", "-reserved_until"], name="domain_reservation_host")]

    def __str__(self) -> str:
        return f"{self.host} (reserved)"
