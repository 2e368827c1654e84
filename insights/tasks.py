"""Beat: the nightly roll-up of every tenant that has something to roll up."""

from __future__ import annotations

from datetime import timedelta

from ciam.celery import app


def work_condition() -> str:
    """True in a tenant's schema when a finished day is owed a roll-up and something
    happened since the last one: a sign-in or audit row, a new user (above the last
    high-water id) or an invitation. Each test reads an index (occurred_at, created_at, the
    primary keys); an idle tenant answers from them at once."""
    from accounts.models import User
    from audit.models import AuditEvent, SignInEvent
    from guests.models import Invitation
    from insights.models import RolledDay

    rolled = f"{{schema}}.{RolledDay._meta.db_table}"
    since = (
        "GREATEST(%(floor)s, COALESCE((SELECT (max(day) + 1)::timestamp AT TIME ZONE 'UTC' "
        f"FROM {rolled}), %(floor)s))"
    )

    def happened(table: str, column: str) -> str:
        return (
            f"EXISTS (SELECT 1 FROM {{schema}}.{table} WHERE {column} >= {since} "
            f"AND {column} < %(today)s)"
        )

    high_water = f"(SELECT user_high_water FROM {rolled} ORDER BY day DESC LIMIT 1)"
    return (
        f"COALESCE((SELECT max(day) FROM {rolled}) < %(yesterday)s, true) AND ("
        + " OR ".join(
            [
                happened(SignInEvent._meta.db_table, "occurred_at"),
                happened(AuditEvent._meta.db_table, "occurred_at"),
                happened(Invitation._meta.db_table, "created_at"),
                f"EXISTS (SELECT 1 FROM {{schema}}.{User._meta.db_table} "
                f"WHERE id > COALESCE({high_water}, 0))",
            ]
        )
        + ")"
    )


def work_parameters(now=None) -> dict:
    from django.utils import timezone

    from insights.services import CATCH_UP_DAYS, day_start

    today = (now or timezone.now()).date()
    return {
        "today": day_start(today),
        "yesterday": today - timedelta(days=1),
        "floor": day_start(today - timedelta(days=CATCH_UP_DAYS)),
    }


@app.task
def roll_up_all() -> dict:
    """Beat (daily, after midnight UTC): queue the roll-up of every active tenant, read from
    the public tenant table (no schema is asked here); each task first looks whether its
    tenant has something to roll up (work_condition)."""
    from tenants.work import active_tenants_queue

    return {"tenants": active_tenants_queue(tenant_roll_up)}


@app.task(acks_late=True, reject_on_worker_lost=True)
def tenant_roll_up() -> list[str]:
    """Roll up the days this tenant owes (in the schema the task was queued in); a second
    run writes the same rows."""
    from insights import services
    from tenants.selectors import schema_has

    if not schema_has(work_condition(), work_parameters()):
        return []
    return [day.isoformat() for day in services.tenant_roll_up()]
