"""What every bulk upload of the console shares (guests' bulk invite, accounts' user import):
the CSV read into rows, the job row a worker moves forward chunk by chunk (its report of
rejected rows and its progress), the chunk driver, and the progress page's include
(`console/bulk_progress.html`, polled by htmx while the job runs).

A feature keeps its own model (a concrete subclass of BulkJob), its own row checks and what
a chunk makes; the shape of the job, its report and its progress are the same everywhere."""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Callable

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy


class BulkJob(models.Model):
    """One uploaded CSV: its report of rejected rows and the progress of the valid ones."""

    class Status(models.TextChoices):
        PROCESSING = "processing", gettext_lazy("Processing")
        DONE = "done", gettext_lazy("Done")

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    file_name = models.CharField(max_length=255, blank=True)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PROCESSING)
    total_rows = models.PositiveIntegerField(default=0)
    # Valid rows waiting for the worker, each a dict with its file line as "row". Emptied
    # once processed.
    pending_rows = models.JSONField(default=list, blank=True)
    valid_rows = models.PositiveIntegerField(default=0)
    processed_rows = models.PositiveIntegerField(default=0)
    # [{"row": 3, "email": "...", "reason": "..."}]: shown to the admin as the report.
    rejected_rows = models.JSONField(default=list, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        abstract = True
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.file_name or str(self.public_id)

    @property
    def percent(self) -> int:
        if not self.valid_rows:
            return 100
        return min(100, self.processed_rows * 100 // self.valid_rows)


def csv_rows(data: bytes, *, header_word: str = "mail") -> list[list[str]]:
    """The rows of an uploaded CSV (UTF-8, with or without BOM). A first row whose first cell
    has `header_word` and no "@" is a header: it is emptied, so that row numbers in the report
    still match the file's lines."""
    return csv_header_and_rows(data, header_word=header_word)[1]


def csv_header_and_rows(data: bytes, *, header_word: str = "mail"):
    """(the header row or None, the rows as csv_rows gives them)."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ValidationError({"file": [_("Save the file as UTF-8 CSV.")]}) from error
    try:
        rows = list(csv.reader(io.StringIO(text)))
    except csv.Error as error:
        raise ValidationError({"file": [_("This is not a readable CSV file.")]}) from error
    header = None
    if rows and rows[0] and "@" not in rows[0][0] and header_word in rows[0][0].lower():
        header, rows[0] = rows[0], []
    return header, rows


def has_nul(cells) -> bool:
    """The file decoded as UTF-8, so NUL is the one character no column can store."""
    return any("\x00" in cell for cell in cells)


# (job, chunk of pending rows) -> the rows found rejected at processing time.
ChunkProcess = Callable[[BulkJob, list[dict]], list[dict]]


def bulk_chunk_run(model: type[BulkJob], *, job_id: int, chunk_size: int, process: ChunkProcess):
    """Move job `job_id` one chunk forward in one transaction: lock it, hand the next
    `chunk_size` pending rows to `process` (which writes what they make, and answers the rows
    it rejects late), and save the progress. Returns True while rows remain, so the task
    queues itself again; a crash resumes where the last committed chunk stopped."""
    with transaction.atomic():
        job = model.objects.select_for_update().filter(pk=job_id).first()
        if job is None or job.status == BulkJob.Status.DONE:
            return False
        chunk, rest = job.pending_rows[:chunk_size], job.pending_rows[chunk_size:]
        late_rejects = process(job, chunk)
        job.pending_rows = rest
        job.processed_rows += len(chunk)
        job.rejected_rows = job.rejected_rows + late_rejects
        if not rest:
            job.status = BulkJob.Status.DONE
            job.finished_at = timezone.now()
        job.save()
    return bool(rest)


def bulk_emails_enqueue_on_commit(outbox_ids: list[int]) -> None:
    """After the chunk's transaction commits, its emails on the bulk queue, 50 per task (a
    bulk job's emails never hold back a person's sign-in code: README, "Background work").
    Call it in the chunk's transaction: it also tells the relay's work index about them."""
    from emails.services import QUEUE_BULK, outbox_enqueue, outbox_relay_due

    if outbox_ids:
        outbox_relay_due(now=timezone.now())

    transaction.on_commit(
        lambda: [
            outbox_enqueue(outbox_ids[start : start + 50], queue=QUEUE_BULK)
            for start in range(0, len(outbox_ids), 50)
        ]
    )


def bulk_jobs_relay(model: type[BulkJob], enqueue: Callable[[int], object], *, now=None) -> int:
    """Queue again the jobs of `model` whose task was lost (broker down when they were
    uploaded, a worker that died): those still processing after OUTBOX_STALE_AFTER."""
    from emails.services import OUTBOX_STALE_AFTER

    now = now or timezone.now()
    stuck = list(
        model.objects.filter(
            status=model.Status.PROCESSING, created_at__lte=now - OUTBOX_STALE_AFTER
        ).values_list("pk", flat=True)
    )
    for job_id in stuck:
        enqueue(job_id)
    return len(stuck)


def bulk_job_relay_due(kind: str, *, now=None) -> None:
    """In the transaction that creates a job still to process: the relay of `kind` (a
    tenants.models.TenantWork.Kind) looks at this tenant once its task would count as lost."""
    from emails.services import OUTBOX_STALE_AFTER
    from tenants.work import tenant_work_due

    tenant_work_due(kind=kind, due_at=(now or timezone.now()) + OUTBOX_STALE_AFTER)


def bulk_jobs_relay_next_due(model: type[BulkJob]):
    """When the relay of `model` next has something to look at in this tenant: the oldest
    job still processing, once its task would count as lost; None when none is."""
    from django.db.models import Min

    from emails.services import OUTBOX_STALE_AFTER

    oldest = model.objects.filter(status=model.Status.PROCESSING).aggregate(
        oldest=Min("created_at")
    )["oldest"]
    return oldest + OUTBOX_STALE_AFTER if oldest else None


def bulk_jobs_relay_due_tenants(
    kind: str, model: type[BulkJob], relay: Callable[..., int]
) -> dict[str, object]:
    """The beat task of a bulk job's relay: visit only the tenants the public work index
    names for `kind` (tenants/work.py), run `relay(now=...)` in each, and keep each tenant's
    row due for its oldest job still processing."""
    from tenants.work import tenant_work_run

    now = timezone.now()
    done = tenant_work_run(
        kind,
        now=now,
        visit=lambda tenant: relay(now=now),
        next_due=lambda: bulk_jobs_relay_next_due(model),
    )
    return {
        "tenants": [tenant.slug for tenant, _relayed in done],
        "relayed": sum(relayed for _tenant, relayed in done),
    }
