"""The email outbox: every email the platform sends is a row here first.

It lives in the tenant schema, written in the transaction of the change that causes it.
"""

from __future__ import annotations

import uuid

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class OutboxEmail(models.Model):
    """An email to send, written in the same transaction as the change that causes it.

    The idempotency key is the Message-ID, so a relay that sees a retry can drop it, and
    a task that runs twice finds the row already sent. What each kind says is built by the
    app that registered it (emails.registry).
    """

    class Kind(models.TextChoices):
        INVITATION = "invitation", _("Invitation")
        # The copy a CC recipient gets: it tells them about the invitation, without its link.
        INVITATION_COPY = "invitation_copy", _("Invitation copy")
        REDEMPTION_CODE = "redemption_code", _("Redemption code")
        SPONSOR_REMINDER = "sponsor_reminder", _("Sponsor reminder")
        # Rendered by accounts (verification, sign-in code, reset, notices): the payload holds
        # subject, text and html, wiped once sent like every secret here.
        ACCOUNT = "account", _("Account email")

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")

    idempotency_key = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    # The invitation an invitation email is about: the console shows its delivery state.
    invitation = models.ForeignKey(
        "guests.Invitation",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="emails",
    )
    to = models.EmailField(max_length=254)
    # What the message needs beyond the invitation; secrets (link token, code) are wiped
    # once the message is sent or has failed for good.
    payload = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.QUEUED)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    # When a task was last put on the queue for this row: the relay re-queues stale ones.
    queued_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        # The table guests created when the outbox lived there: moving the model rewrote no
        # tenant schema (emails/migrations/0001).
        db_table = "guests_outboxemail"
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status", "queued_at"])]

    def __str__(self) -> str:
        return f"{self.kind} to {self.to}"

    @property
    def message_id(self) -> str:
        return f"<{self.idempotency_key}@ciam.invalid>"
