"""B2B invitations, redemption codes and the guest lifecycle.

Everything lives in the tenant schema, so an invitation token or code is bound to its
tenant by where it is stored.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from console.bulk import BulkJob

MAX_EXPIRY_DAYS = 30


class GuestSettings(models.Model):
    """The tenant's external collaboration settings: one row per tenant schema."""

    class InvitePolicy(models.TextChoices):
        # From most to least open, as in PRODUCT.md.
        EVERYONE = "everyone", _("Anyone in the directory, guests included")
        MEMBERS = "members", _("Members and admins")
        GUEST_INVITERS = "guest_inviters", _("Only admins with the Guest inviter role")
        NO_ONE = "no_one", _("No one, admins included")

    class DomainMode(models.TextChoices):
        ANY = "any", _("Any domain")
        ALLOW = "allow", _("Only the listed domains")
        DENY = "deny", _("Any domain except the listed ones")

    invite_policy = models.CharField(
        _("who can invite"),
        max_length=20,
        choices=InvitePolicy.choices,
        default=InvitePolicy.GUEST_INVITERS,
    )
    domain_mode = models.CharField(
        _("domain restriction"), max_length=8, choices=DomainMode.choices, default=DomainMode.ANY
    )
    domains = ArrayField(models.CharField(max_length=253), default=list, blank=True)
    default_expiry_days = models.PositiveSmallIntegerField(
        _("invitation expiry (days)"),
        default=7,
        validators=[MinValueValidator(1), MaxValueValidator(MAX_EXPIRY_DAYS)],
    )
    max_expiry_days = models.PositiveSmallIntegerField(
        _("maximum invitation expiry (days)"),
        default=MAX_EXPIRY_DAYS,
        validators=[MinValueValidator(1), MaxValueValidator(MAX_EXPIRY_DAYS)],
    )
    terms_required = models.BooleanField(_("guests must accept terms of use"), default=False)
    terms_text = models.TextField(_("terms of use text"), blank=True, max_length=4000)
    terms_url = models.URLField(_("terms of use link"), blank=True)
    access_days = models.PositiveIntegerField(_("guest access expiry (days, 0 = never)"), default=0)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return "guest settings"


class BulkInvitation(BulkJob):
    """One uploaded CSV of invitations (console.bulk.BulkJob): pending rows are
    {"row", "email", "display_name", "redirect_url", "message"}."""

    class Meta(BulkJob.Meta):
        pass


class Invitation(models.Model):
    class Status(models.TextChoices):
        PENDING = "PendingAcceptance", _("Pending acceptance")
        ACCEPTED = "Accepted", _("Accepted")
        EXPIRED = "Expired", _("Expired")
        REVOKED = "Revoked", _("Revoked")

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    email = models.EmailField(_("email address"), max_length=254)
    display_name = models.CharField(_("display name"), max_length=256, blank=True)
    redirect_url = models.URLField(_("redirect URL"), max_length=2000)
    message = models.TextField(_("personal message"), blank=True, max_length=2000)
    language = models.CharField(_("message language"), max_length=12, default="en")
    cc_recipients = ArrayField(models.EmailField(max_length=254), default=list, blank=True)
    # The user this invitation makes: the spelling of User.user_type, Graph's only in the API.
    user_type = models.CharField(
        max_length=8, choices=User.UserType.choices, default=User.UserType.GUEST
    )
    sponsors = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="+")
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Who asked, for the list and the email: an admin's email or an API key's name.
    invited_by_label = models.CharField(max_length=254)
    send_email = models.BooleanField(default=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    # SHA-256 of the link token: the token itself is only in the email.
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    guest = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    bulk = models.ForeignKey(
        BulkInvitation, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status", "expires_at"])]

    def __str__(self) -> str:
        return self.email

    def is_redeemable(self, now=None) -> bool:
        now = now or timezone.now()
        return self.status == self.Status.PENDING and self.expires_at > now


class RedemptionCode(models.Model):
    """A one-time code emailed to the invited address, bound to that invitation."""

    invitation = models.ForeignKey(Invitation, on_delete=models.CASCADE, related_name="codes")
    code_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(default=0)
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"code for {self.invitation}"


class GuestProfile(models.Model):
    """Guest lifecycle data, kept beside the user model that another app owns."""

    class State(models.TextChoices):
        PENDING = "PendingAcceptance", _("Pending acceptance")
        ACCEPTED = "Accepted", _("Accepted")

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="guest_profile"
    )
    invitation = models.ForeignKey(
        Invitation, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    state = models.CharField(max_length=20, choices=State.choices, default=State.ACCEPTED)
    sponsor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    invited_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    access_expires_at = models.DateTimeField(null=True, blank=True)
    sponsor_reminded_at = models.DateTimeField(null=True, blank=True)
    disabled_by_governance_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"guest profile of {self.user}"


class ApiKey(models.Model):
    """A tenant API key for /api/v1/invitations until OAuth client credentials replace it.

    Only an HMAC-SHA256 of the key is stored: keys are long random strings, so a fast keyed
    hash is enough and keeps every API call cheap.
    """

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(_("name"), max_length=100)
    prefix = models.CharField(max_length=12)
    key_hash = models.CharField(max_length=64, unique=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.name
