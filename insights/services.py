"""The daily roll-up: one day's figures of a tenant written as DailyFigure rows.

Every figure is counted from raw rows by `range_figures`, which serves the roll-up of a past
day and the live part of the days not rolled up yet (today) alike, so both count the same way:

- sign-ins are the interactive ones (hosted pages, invitations, identity providers): the
  sign-in log's rows whose method is not the token endpoint; by result, failures by reason,
  successes by method and by identity provider, and those with a second factor;
- sign-ins by app are the code exchanges at the token endpoint (one per sign-in to the app);
- active users are distinct users with a successful row of any method (a refreshed token
  counts: the person still uses the app); monthly ones over the 30 days ending that day;
- sign-ups are member accounts created that day (guests arrive through invitations);
- invitations sent (created), accepted, and expired (their expiry passed that day and the
  hourly governance marked them Expired).

A day is written in one transaction that first deletes what an earlier run wrote for it, so a
run again (a retry, a lost worker) gives the same rows."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from django.db import connection, transaction
from django.db.models import Count, Max, Q
from django.utils import timezone

from audit.models import SignInEvent
from insights.models import DailyFigure, Measure, RolledDay

MAU_DAYS = 30
# How far back a tenant's first roll-ups go, and how many missed days a late run makes up.
CATCH_UP_DAYS = 7


@dataclass(frozen=True)
class Figure:
    day: date
    measure: str
    dimension: str
    value: int
    label: str = ""


def day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def range_figures(start: datetime, end: datetime, *, live: bool = False) -> list[Figure]:
    """Every figure of the rows in [start, end), per UTC day. `live`: `end` is now and the
    range holds only recent days, so new users are counted from the top of the primary key
    (no index on date_joined; see insights.selectors.sign_ups_since)."""
    figures: list[Figure] = []
    figures += _sign_in_figures(start, end)
    figures += _app_figures(start, end)
    figures += _active_user_figures(start, end)
    figures += _sign_up_figures(start, end, live=live)
    figures += _invitation_figures(start, end)
    return figures


def _day_of(column: str) -> str:
    return f"({column} AT TIME ZONE 'UTC')::date"


def _in_range(field: str, start: datetime, end: datetime) -> Q:
    return Q(**{f"{field}__gte": start, f"{field}__lt": end})


def _sign_in_figures(start: datetime, end: datetime) -> list[Figure]:
    # One pass over the range's interactive rows (the occurred_at index), grouped finely
    # enough to give every sign-in figure; the groups are few (methods x results x reasons).
    table = connection.ops.quote_name(SignInEvent._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {_day_of('occurred_at')}, method, result, failure_reason, idp, mfa_used, "
            f"count(*) FROM {table} WHERE occurred_at >= %s AND occurred_at < %s "
            "AND method <> %s GROUP BY 1, 2, 3, 4, 5, 6",
            [start, end, SignInEvent.Method.TOKEN],
        )
        groups = cursor.fetchall()
    totals: dict[tuple[date, str, str], int] = defaultdict(int)
    success = SignInEvent.Result.SUCCESS
    for day, method, result, reason, idp, mfa_used, count in groups:
        totals[day, Measure.SIGN_INS, result] += count
        if result == SignInEvent.Result.FAILURE:
            totals[day, Measure.SIGN_IN_FAILURES, reason] += count
        if result == success:
            totals[day, Measure.SIGN_INS_BY_METHOD, method] += count
            if mfa_used:
                totals[day, Measure.SIGN_INS_WITH_MFA, ""] += count
            if method == SignInEvent.Method.FEDERATED:
                totals[day, Measure.SIGN_INS_BY_IDP, idp] += count
    return [
        Figure(day=day, measure=measure, dimension=dimension, value=value)
        for (day, measure, dimension), value in totals.items()
    ]


def _app_figures(start: datetime, end: datetime) -> list[Figure]:
    from django.db.models.functions import TruncDate

    rows = (
        SignInEvent.objects.filter(
            _in_range("occurred_at", start, end),
            method=SignInEvent.Method.TOKEN,
            grant="authorization_code",
            result=SignInEvent.Result.SUCCESS,
        )
        .annotate(day=TruncDate("occurred_at", tzinfo=UTC))
        .values("day", "app_id")
        .annotate(count=Count("id"), name=Max("app_name"))
        .order_by()
    )
    return [
        Figure(
            day=row["day"],
            measure=Measure.SIGN_INS_BY_APP,
            dimension=row["app_id"],
            label=row["name"] or "",
            value=row["count"],
        )
        for row in rows
    ]


def _active_user_figures(start: datetime, end: datetime) -> list[Figure]:
    table = connection.ops.quote_name(SignInEvent._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {_day_of('occurred_at')}, count(DISTINCT user_public_id) FROM {table} "
            "WHERE occurred_at >= %s AND occurred_at < %s AND result = %s "
            "AND user_public_id IS NOT NULL GROUP BY 1",
            [start, end, SignInEvent.Result.SUCCESS],
        )
        rows = cursor.fetchall()
    return [
        Figure(day=day, measure=Measure.DAILY_ACTIVE_USERS, dimension="", value=count)
        for day, count in rows
    ]


# Memory for the monthly active users' hash of distinct users (a million users: about 60 MB);
# with the server's default (4 MB) PostgreSQL sorts 3,000,000 ids on disk instead.
MAU_WORK_MEM = "160MB"


def monthly_active_users(day: date) -> int:
    """Distinct users with a successful sign-in in the MAU_DAYS days ending with `day`: one
    hash of the users (GROUP BY) in memory of its own, not a sort of every row's id."""
    end = day_start(day + timedelta(days=1))
    table = connection.ops.quote_name(SignInEvent._meta.db_table)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"SET LOCAL work_mem = '{MAU_WORK_MEM}'")
        cursor.execute(
            f"SELECT count(*) FROM (SELECT user_public_id FROM {table} "
            "WHERE occurred_at >= %s AND occurred_at < %s AND result = %s "
            "AND user_public_id IS NOT NULL GROUP BY user_public_id) AS users",
            [end - timedelta(days=MAU_DAYS), end, SignInEvent.Result.SUCCESS],
        )
        return cursor.fetchone()[0]


def _sign_up_figures(start: datetime, end: datetime, *, live: bool) -> list[Figure]:
    from django.db.models.functions import TruncDate

    from accounts.models import User

    users = User.objects.filter(
        _in_range("date_joined", start, end), user_type=User.UserType.MEMBER
    )
    if live:
        from insights.selectors import newest_user_before

        users = users.filter(pk__gt=newest_user_before(start))
    rows = (
        users.annotate(day=TruncDate("date_joined", tzinfo=UTC))
        .values("day")
        .annotate(count=Count("id"))
        .order_by()
    )
    return [
        Figure(day=row["day"], measure=Measure.SIGN_UPS, dimension="", value=row["count"])
        for row in rows
    ]


def _invitation_figures(start: datetime, end: datetime) -> list[Figure]:
    from django.db.models.functions import TruncDate

    from guests.models import Invitation

    def per_day(measure: str, field: str, **conditions) -> list[Figure]:
        rows = (
            Invitation.objects.filter(_in_range(field, start, end), **conditions)
            .annotate(day=TruncDate(field, tzinfo=UTC))
            .values("day")
            .annotate(count=Count("id"))
            .order_by()
        )
        return [
            Figure(day=row["day"], measure=measure, dimension="", value=row["count"])
            for row in rows
        ]

    return [
        *per_day(Measure.INVITATIONS_SENT, "created_at"),
        # Accepted ones keep their status: the (status, expires_at) index narrows them.
        *per_day(Measure.INVITATIONS_ACCEPTED, "accepted_at", status=Invitation.Status.ACCEPTED),
        *per_day(Measure.INVITATIONS_EXPIRED, "expires_at", status=Invitation.Status.EXPIRED),
    ]


def user_snapshot() -> dict[str, int]:
    """Enabled users and, of them, those with a second factor (an authenticator app or a
    passkey): MFA adoption."""
    from accounts.models import User

    return {"enabled": User.objects.filter(is_active=True).count(), "with_mfa": users_with_mfa()}


def users_with_mfa() -> int:
    """Enabled users with a second factor, read from the devices' side (a few rows each, and
    the user's row by primary key), not by a pass over every user."""
    from mfa.models import PasskeyDevice, TOTPDevice

    totp = TOTPDevice.objects.filter(confirmed=True, user__is_active=True).values("user_id")
    passkeys = PasskeyDevice.objects.filter(user__is_active=True).values("user_id")
    return totp.union(passkeys).count()  # UNION: a user with both counts once


def day_roll_up(*, day: date, now: datetime | None = None) -> int:
    """Write `day`'s figures (UTC), replacing those of an earlier run; the number of rows.
    The monthly active users and the MFA snapshot are as of the roll-up. A day older than
    the sign-in log keeps is refused (ValidationError)."""
    from django.core.exceptions import ValidationError

    from accounts.models import User
    from audit.selectors import log_retention_get
    from audit.services import log_cutoff

    now = now or timezone.now()
    start, end = day_start(day), day_start(day + timedelta(days=1))
    if start < log_cutoff(log_retention_get().sign_in_days, now=now):
        # Its sign-ins may be pruned already: a run now would overwrite the figures with less.
        raise ValidationError(f"{day} is older than the sign-in log keeps; its figures stay.")
    figures = [figure for figure in range_figures(start, end) if figure.day == day]
    from accounts.selectors import directory_summary

    # One pass over the users: the enabled ones are those not deleted and not disabled (a
    # deleted user is disabled at once).
    summary = directory_summary()
    figures += [Figure(day, Measure.DIRECTORY, key, value) for key, value in summary.items()]
    figures += [
        Figure(day, Measure.MONTHLY_ACTIVE_USERS, "", monthly_active_users(day)),
        Figure(day, Measure.ENABLED_USERS, "", summary["users"] - summary["disabled"]),
        Figure(day, Measure.USERS_WITH_MFA, "", users_with_mfa()),
    ]
    high_water = User.objects.aggregate(top=Max("id"))["top"] or 0
    with transaction.atomic():
        DailyFigure.objects.filter(day=day).delete()
        DailyFigure.objects.bulk_create(
            DailyFigure(
                day=day,
                measure=figure.measure,
                dimension=figure.dimension[:255],
                label=figure.label[:255],
                value=figure.value,
            )
            for figure in figures
            if figure.value
        )
        RolledDay.objects.update_or_create(
            day=day, defaults={"rolled_at": now, "user_high_water": high_water}
        )
    return len(figures)


def days_to_roll_up(*, now: datetime | None = None) -> list[date]:
    """The finished days not rolled up yet: after the last rolled day, at most CATCH_UP_DAYS
    back, up to yesterday (UTC)."""
    today = (now or timezone.now()).astimezone(UTC).date()
    first = today - timedelta(days=CATCH_UP_DAYS)
    last = RolledDay.objects.aggregate(last=Max("day"))["last"]
    if last is not None and last >= first:
        first = last + timedelta(days=1)
    return [first + timedelta(days=offset) for offset in range((today - first).days)]


def tenant_roll_up(*, now: datetime | None = None) -> list[date]:
    """Roll up every day this tenant still owes (days_to_roll_up); the days written."""
    days = days_to_roll_up(now=now)
    for day in days:
        day_roll_up(day=day, now=now)
    return days
