"""Rows at chosen times for the insights and retention tests, and a fresh tenant to put them
in (its tables hold only what a test writes, so figures compare with literal counts)."""

from __future__ import annotations

import hashlib
import uuid
from datetime import UTC, date, datetime, time, timedelta

from django.db import connection
from django.utils import timezone

from tests import helpers
from tests.helpers import TenantWorld


def fresh_world(name: str = "Insights") -> TenantWorld:
    return helpers.fresh_world(name, prefix="ins")


def today() -> date:
    return timezone.now().astimezone(UTC).date()


def at(day: date, hour: int = 12, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=UTC)


def sign_in_at(when: datetime, **fields) -> None:
    """A sign-in log row written as sign_in_record writes it, at `when`."""
    from audit.services import sign_in_event_insert

    sql, parameters = sign_in_event_insert(**fields)
    parameters["log_occurred_at"] = when
    with connection.cursor() as cursor:
        cursor.execute(sql, parameters)


def audit_at(when: datetime, action: str = "test.action") -> None:
    from audit.models import AuditEvent
    from audit.services import audit_record

    event = audit_record(actor=None, action=action, target_label="t")
    AuditEvent.objects.filter(pk=event.pk).update(occurred_at=when)


def member_at(when: datetime, **fields):
    from django.contrib.auth import get_user_model

    return get_user_model().objects.create_user(
        email=f"user-{uuid.uuid4().hex[:10]}@example.org", date_joined=when, **fields
    )


def invitation_at(created: datetime, *, status: str = "PendingAcceptance", accepted=None,
                  expires=None):  # fmt: skip
    from guests.models import Invitation

    return Invitation.objects.create(
        email=f"guest-{uuid.uuid4().hex[:8]}@partner.example",
        redirect_url="https://app.example/",
        invited_by_label="admin",
        token_hash=hashlib.sha256(uuid.uuid4().bytes).hexdigest(),
        created_at=created,
        expires_at=expires or created + timedelta(days=30),
        accepted_at=accepted,
        status=status,
    )
