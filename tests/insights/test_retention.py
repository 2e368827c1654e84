"""Log retention: each log keeps the days the tenant set (30 and 180 by default); the nightly
prune deletes exactly the rows older than that, in batches; the change of setting is audited;
the daily insights figures stay after their rows are gone. Dates are given explicitly."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django_tenants.utils import tenant_context

from audit.models import AuditEvent, SignInEvent
from audit.services import log_cutoff, log_retention_update, logs_prune
from audit.tasks import prune_condition
from insights.models import DailyFigure, Measure
from insights.services import day_roll_up
from tenants.selectors import schema_has
from tests.insights.helpers import at, audit_at, fresh_world, sign_in_at, today

SECOND = timedelta(seconds=1)


@pytest.fixture
def world(db):
    return fresh_world()


def _sign_in_times() -> list:
    return sorted(SignInEvent.objects.values_list("occurred_at", flat=True))


def _tenants_to_prune(world) -> bool:
    with tenant_context(world.tenant):
        return schema_has(prune_condition(), {"today": log_cutoff(0)})


def test_the_prune_deletes_exactly_the_rows_older_than_the_days_kept(world):
    with tenant_context(world.tenant):
        sign_in_cutoff, audit_cutoff = log_cutoff(30), log_cutoff(180)
        assert sign_in_cutoff == at(today() - timedelta(days=30), 0)
        # Written out of time order on purpose: the newest old row has the lowest id.
        older = [sign_in_cutoff - SECOND, sign_in_cutoff - timedelta(days=400)]
        kept = [sign_in_cutoff, sign_in_cutoff + SECOND, at(today(), 0)]
        for moment in [*older[:1], *kept, *older[1:]]:
            sign_in_at(moment, email="someone@example.org", method="password", result="success")
        for extra in range(7):  # several batches of two
            sign_in_at(sign_in_cutoff - timedelta(days=1 + extra), method="password",
                       result="failure", email="x@example.org")  # fmt: skip
        audits_before = AuditEvent.objects.count()
        audit_at(audit_cutoff - SECOND)
        audit_at(audit_cutoff)
        assert _tenants_to_prune(world)

        deleted = logs_prune(batch=2)

        assert deleted == {"sign_ins": 9, "audit": 1}
        assert _sign_in_times() == kept
        assert AuditEvent.objects.filter(occurred_at__lt=audit_cutoff).count() == 0
        assert AuditEvent.objects.count() == audits_before + 1
        assert not _tenants_to_prune(world)
        assert logs_prune() == {"sign_ins": 0, "audit": 0}


def test_the_tenant_sets_the_days_and_the_change_is_audited(world):
    with tenant_context(world.tenant):
        log_retention_update(actor=world.admin, sign_in_days=45, audit_days=365)
        event = AuditEvent.objects.get(action="log_retention.update")
        assert event.actor_label == world.admin.email
        assert event.before == {"sign_in_days": 30, "audit_days": 180}
        assert event.after == {"sign_in_days": 45, "audit_days": 365}

        cutoff = log_cutoff(45)
        sign_in_at(cutoff - SECOND, method="password", result="success", email="a@example.org")
        sign_in_at(log_cutoff(30) - SECOND, method="password", result="success",
                   email="b@example.org")  # fmt: skip
        audit_at(log_cutoff(180) - SECOND)  # kept now: the audit log keeps 365 days
        assert logs_prune() == {"sign_ins": 1, "audit": 0}
        assert _sign_in_times() == [log_cutoff(30) - SECOND]

        # The same days again: nothing changes, nothing is audited.
        log_retention_update(actor=world.admin, sign_in_days=45, audit_days=365)
        assert AuditEvent.objects.filter(action="log_retention.update").count() == 1


def test_days_out_of_bounds_are_refused(world):
    from django.core.exceptions import ValidationError

    with tenant_context(world.tenant):
        for sign_in_days, audit_days in ((7, 180), (30, 1000)):
            with pytest.raises(ValidationError):
                log_retention_update(
                    actor=world.admin, sign_in_days=sign_in_days, audit_days=audit_days
                )
        assert not AuditEvent.objects.filter(action="log_retention.update").exists()


def test_the_daily_figures_outlive_the_rows_they_were_counted_from(world):
    with tenant_context(world.tenant):
        day = today() - timedelta(days=2)
        sign_in_at(at(day, 9), user=world.admin, method="password", result="success")
        day_roll_up(day=day)
        # Forty days on, the row is past the 30 days kept.
        later = at(today() + timedelta(days=40), 3)
        logs_prune(now=later)
        assert not SignInEvent.objects.exists()
        figures = DailyFigure.objects.filter(day=day)
        assert figures.get(measure=Measure.SIGN_INS, dimension="success").value == 1
        assert figures.get(measure=Measure.DAILY_ACTIVE_USERS).value == 1
