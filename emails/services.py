"""The email outbox: rows written with the change that causes them, delivered by Celery.

The guarantees: a row is written in the caller's transaction and queued once it commits; a
broker that is down leaves it queued for the relay; a row is sent at most once (row lock and
status); an SMTP 5xx or a message that cannot be built fails it at once, a 4xx or a broken
connection is retried (emails.tasks); the link token or code in its payload is wiped once
it is sent or has failed for good.
"""

from __future__ import annotations

import logging
import re
import smtplib
from datetime import datetime, timedelta

from django.core.mail import BadHeaderError, EmailMultiAlternatives
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from ciam import metrics
from emails.models import OutboxEmail
from emails.registry import builder_for
from tenants.selectors import tenant_url

logger = logging.getLogger(__name__)

# An outbox row still queued this long after it was put on the queue lost its task (broker
# outage, worker crash past the visibility timeout): the relay queues it again.
OUTBOX_STALE_AFTER = timedelta(minutes=2)

# Line breaks of any kind and other control characters: in a header value they would start a
# new header (Django refuses CR and LF with BadHeaderError; mail clients split on the others).
_HEADER_BREAKS = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")


def header_value(text: str) -> str:
    """`text` (a tenant name, an app or key name, an address...) made safe for one header line:
    line breaks and control characters become spaces, and runs of spaces one."""
    return " ".join(_HEADER_BREAKS.sub(" ", text).split())


def outbox_add(
    *,
    kind: str,
    to: str,
    invitation=None,
    payload: dict | None = None,
    now: datetime | None = None,
) -> OutboxEmail:
    """Write an outbox row in the caller's transaction; its task is queued after commit."""
    now = now or timezone.now()
    with transaction.atomic():
        outbox = OutboxEmail.objects.create(
            kind=kind,
            to=to,
            invitation=invitation,
            payload=payload or {},
            created_at=now,
            queued_at=now,
        )
        outbox_relay_due(now=now)
    transaction.on_commit(lambda: outbox_enqueue([outbox.pk], queue=outbox_queue(kind)))
    return outbox


def outbox_relay_due(*, now: datetime) -> None:
    """In the transaction that writes outbox rows queued at `now`: the relay looks at this
    tenant once they would count as lost (tenants/work.py)."""
    from tenants.models import TenantWork
    from tenants.work import tenant_work_due

    tenant_work_due(kind=TenantWork.Kind.OUTBOX_RELAY, due_at=now + OUTBOX_STALE_AFTER)


# Which Celery queue delivers each kind (README, "Background work"): what a person waits for
# on a page apart from invitations, and both apart from bulk work, so that one tenant's
# 10,000-row upload never delays another's sign-in code.
QUEUE_INTERACTIVE, QUEUE_INVITATIONS, QUEUE_BULK = "interactive", "invitations", "bulk"
_QUEUE_OF_KIND = {
    OutboxEmail.Kind.ACCOUNT: QUEUE_INTERACTIVE,
    OutboxEmail.Kind.REDEMPTION_CODE: QUEUE_INTERACTIVE,
    OutboxEmail.Kind.INVITATION: QUEUE_INVITATIONS,
    OutboxEmail.Kind.INVITATION_COPY: QUEUE_INVITATIONS,
    OutboxEmail.Kind.SPONSOR_REMINDER: QUEUE_INVITATIONS,
}


def outbox_queue(kind: str) -> str:
    return _QUEUE_OF_KIND.get(kind, QUEUE_INVITATIONS)


def outbox_enqueue(outbox_ids: list[int], *, queue: str) -> bool:
    """Put delivery tasks on `queue`. When the broker is down the rows stay queued in the
    database and the relay sends them once it is back, so the person's request still
    succeeds."""
    from emails.tasks import outbox_deliver

    metrics.outbox_queued(outbox_ids)  # the backlog gauge (ciam/metrics.py)
    try:
        outbox_deliver.apply_async((outbox_ids,), queue=queue)
    except Exception as error:  # kombu raises many types for an unreachable broker
        logger.warning("emails.outbox.enqueue_failed count=%d error=%s", len(outbox_ids), error)
        return False
    return True


def outbox_relay(
    *, now: datetime | None = None, stale_after: timedelta = OUTBOX_STALE_AFTER
) -> int:
    """Queue again the outbox rows whose task was lost. Returns how many."""
    now = now or timezone.now()
    rows = list(
        OutboxEmail.objects.filter(
            status=OutboxEmail.Status.QUEUED, queued_at__lte=now - stale_after
        ).values_list("pk", "kind")[:5000]
    )
    if not rows:
        return 0
    stale = [pk for pk, _kind in rows]
    OutboxEmail.objects.filter(pk__in=stale).update(queued_at=now)
    by_queue: dict[str, list[int]] = {}
    for pk, kind in rows:
        by_queue.setdefault(outbox_queue(kind), []).append(pk)
    for queue, ids in by_queue.items():
        for start in range(0, len(ids), 100):
            outbox_enqueue(ids[start : start + 100], queue=queue)
    logger.info("emails.outbox.relayed count=%d", len(stale))
    return len(stale)


class TransientDeliveryError(Exception):
    """The relay said "try later" (4xx) or the connection broke: the task retries."""

    def __init__(self, message: str = "", *, outbox_ids: list[int] | None = None) -> None:
        super().__init__(message)
        self.outbox_ids = outbox_ids or []


def _smtp_error_text(error: Exception) -> str:
    code = getattr(error, "smtp_code", None)
    text = getattr(error, "smtp_error", b"")
    if isinstance(text, bytes):
        text = text.decode(errors="replace")
    if code is None and getattr(error, "recipients", None):
        code, text = next(iter(error.recipients.values()))
        text = text.decode(errors="replace") if isinstance(text, bytes) else text
    return (f"{code} {text}" if code else str(error) or error.__class__.__name__)[:300]


def _smtp_code(error: Exception) -> int | None:
    code = getattr(error, "smtp_code", None)
    if code is None and getattr(error, "recipients", None):
        code = next(iter(error.recipients.values()))[0]
    return code


def outbox_deliver(*, outbox_id: int, connection_=None, base_url: str | None = None) -> str:
    """Send one outbox email at most once. Returns the row's status afterwards.

    The row stays locked while the relay receives the message, so a second task for the same
    row (the relay re-queued it, or the broker redelivered it) waits and then finds it sent.
    Raises TransientDeliveryError for a retry; a permanent refusal, or a message that cannot
    be built, marks the row failed.
    """
    transient = ""
    with transaction.atomic():
        outbox = (
            OutboxEmail.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("invitation")
            .filter(pk=outbox_id)
            .first()
        )
        if outbox is None:
            # Gone, or another worker is sending it right now and will record the outcome.
            return "skipped"
        if outbox.status != OutboxEmail.Status.QUEUED:
            return outbox.status
        outbox.attempts += 1
        message, problem = _message_for(outbox, connection_=connection_, base_url=base_url)
        if message is None:
            outbox.status = OutboxEmail.Status.FAILED  # no retry could build it either
            outbox.last_error = problem
        else:
            try:
                message.send()
                outbox.status = OutboxEmail.Status.SENT
                outbox.sent_at = timezone.now()
                outbox.last_error = ""
            except OSError as error:  # smtplib's errors are OSErrors, like a refused connection
                code = _smtp_code(error)
                outbox.last_error = _smtp_error_text(error)
                if code is not None and code >= 500 and isinstance(error, smtplib.SMTPException):
                    outbox.status = OutboxEmail.Status.FAILED  # permanent: retrying cannot help
                else:
                    transient = outbox.last_error  # 4xx, disconnect, timeout, unreachable
        if outbox.status != OutboxEmail.Status.QUEUED:
            outbox.payload = {}  # the link token or code is no longer needed anywhere
        outbox.save(update_fields=["status", "attempts", "last_error", "sent_at", "payload"])
    if outbox.status != OutboxEmail.Status.QUEUED:
        metrics.outbox_finished([outbox.pk])
    if transient:
        raise TransientDeliveryError(transient, outbox_ids=[outbox_id])
    logger.info(
        "emails.outbox.delivered kind=%s status=%s attempts=%d",
        outbox.kind,
        outbox.status,
        outbox.attempts,
    )
    return outbox.status


def message_build(
    outbox: OutboxEmail, connection_=None, base_url: str | None = None
) -> EmailMultiAlternatives | None:
    """The message for `outbox`, or None when what it needs is gone (its secret was wiped).

    `base_url` is the tenant's primary-domain origin; a task sending many messages looks it up
    once."""
    builder = builder_for(outbox.kind)
    content = builder(outbox, base_url=base_url or tenant_url(connection.tenant, ""))
    if content is None:
        return None
    message = EmailMultiAlternatives(
        subject=header_value(content.subject),
        body=content.text,
        from_email=header_value(content.from_email) or None,
        to=[outbox.to],
        headers={"Message-ID": outbox.message_id},
        connection=connection_,
    )
    if content.html:
        message.attach_alternative(content.html, "text/html")
    return message


def _message_for(outbox: OutboxEmail, *, connection_, base_url: str | None):
    """(the message ready to send, "") or (None, why it cannot be built)."""
    try:
        message = message_build(outbox, connection_=connection_, base_url=base_url)
        if message is None:
            return None, "nothing to send"
        message.message()  # headers are checked here (BadHeaderError), not when it is built
    except DatabaseError:
        raise  # the database, not the message: the task fails and the relay tries again
    except Exception as error:  # a value in the row or its tenant that no retry can change
        logger.warning(
            "emails.outbox.unbuildable kind=%s error=%s", outbox.kind, error.__class__.__name__
        )
        # Not the error's text: it may quote the message, and the message may hold a code.
        if isinstance(error, BadHeaderError):
            return None, "cannot be built: a header (recipient or subject) has a line break"
        return None, f"cannot be built: {error.__class__.__name__}"
    return message, ""


def outbox_retry_later(*, outbox_ids: list[int], seconds: float) -> None:
    """The rows wait for a retry up to `seconds` away: the relay leaves them alone until then
    (and then some)."""
    OutboxEmail.objects.filter(pk__in=outbox_ids, status=OutboxEmail.Status.QUEUED).update(
        queued_at=timezone.now() + timedelta(seconds=seconds)
    )


def outbox_give_up(*, outbox_ids: list[int]) -> None:
    """Retries exhausted on a transient error: show the admin it failed."""
    OutboxEmail.objects.filter(pk__in=outbox_ids, status=OutboxEmail.Status.QUEUED).update(
        status=OutboxEmail.Status.FAILED, payload={}
    )
    metrics.outbox_finished(outbox_ids)
    logger.warning("emails.outbox.gave_up count=%d", len(outbox_ids))
