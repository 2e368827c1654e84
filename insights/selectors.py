"""What Console > Overview and Insights read: the roll-ups of the finished days, plus the live
part of the days not rolled up yet (today, counted from the raw rows of those days only,
through the indexes on their times)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from django.db import connection
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from audit.models import SignInEvent
from insights.models import DailyFigure, Measure, RolledDay
from insights.services import CATCH_UP_DAYS, Figure, day_start, range_figures, user_snapshot

# The periods Console > Insights offers: their key, label and length.
PERIODS = {
    "24h": (_("Last 24 hours"), timedelta(hours=24)),
    "7d": (_("Last 7 days"), timedelta(days=7)),
    "30d": (_("Last 30 days"), timedelta(days=30)),
    "90d": (_("Last 90 days"), timedelta(days=90)),
}
DEFAULT_PERIOD = "7d"


def newest_user_before(moment: datetime) -> int:
    """The id of the newest user created before `moment`, found by walking the primary key
    down from the top: it reads only the users created since (ids grow with date_joined)."""
    from accounts.models import User

    table = connection.ops.quote_name(User._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT id FROM {table} WHERE date_joined < %s ORDER BY id DESC LIMIT 1", [moment]
        )
        row = cursor.fetchone()
    return row[0] if row else 0


@dataclass
class Report:
    """A period's figures: `totals[measure][dimension]`, per-day (or per-hour) `series` of
    the main measures, and the latest snapshot (monthly active users, MFA adoption)."""

    period: str
    start: datetime
    end: datetime
    totals: dict[str, dict[str, int]] = field(default_factory=dict)
    labels: dict[str, dict[str, str]] = field(default_factory=dict)
    series: dict[str, list[tuple[str, int]]] = field(default_factory=dict)
    monthly_active_users: int | None = None
    monthly_active_users_day: date | None = None
    enabled_users: int = 0
    users_with_mfa: int = 0
    # Over the last 24 hours: distinct users (a day's figure would count some twice).
    distinct_active_users: int | None = None

    def total(self, measure: str, dimension: str | None = None) -> int:
        values = self.totals.get(measure, {})
        if dimension is None:
            return sum(values.values())
        return values.get(dimension, 0)

    def breakdown(self, measure: str) -> list[tuple[str, str, int]]:
        """(dimension, label, value) of a measure, largest first."""
        labels = self.labels.get(measure, {})
        return sorted(
            (
                (dimension, labels.get(dimension) or dimension, value)
                for dimension, value in self.totals.get(measure, {}).items()
                if value
            ),
            key=lambda item: (-item[2], item[1]),
        )

    @property
    def mfa_adoption_percent(self) -> int | None:
        if not self.enabled_users:
            return None
        return round(100 * self.users_with_mfa / self.enabled_users)

    @property
    def sign_ins_succeeded(self) -> int:
        return self.total(Measure.SIGN_INS, SignInEvent.Result.SUCCESS)

    @property
    def sign_ins_failed(self) -> int:
        return self.total(Measure.SIGN_INS, SignInEvent.Result.FAILURE)

    @property
    def sign_ins_locked_out(self) -> int:
        return self.total(Measure.SIGN_INS, SignInEvent.Result.LOCKED_OUT)

    @property
    def key_figures(self) -> list[tuple[str, str, str]]:
        """(key, label, value as shown) of the period's headline numbers."""
        mau = self.monthly_active_users
        adoption = self.mfa_adoption_percent
        figures = [
            ("sign_ins", _("Successful sign-ins"), self.sign_ins_succeeded),
            ("failures", _("Failed sign-ins"), self.sign_ins_failed),
            ("locked_out", _("Locked out"), self.sign_ins_locked_out),
            ("with_mfa", _("Sign-ins with a second factor"), self.total(Measure.SIGN_INS_WITH_MFA)),
            ("sign_ups", _("Sign-ups"), self.total(Measure.SIGN_UPS)),
            ("active_users", self.active_users_label, self.active_users),
            ("monthly_active_users", _("Monthly active users"), "—" if mau is None else mau),
            ("mfa_adoption", _("Users with MFA"), "—" if adoption is None else f"{adoption} %"),
            ("invitations_sent", _("Invitations sent"), self.total(Measure.INVITATIONS_SENT)),
            (
                "invitations_accepted",
                _("Invitations accepted"),
                self.total(Measure.INVITATIONS_ACCEPTED),
            ),
            (
                "invitations_expired",
                _("Invitations expired"),
                self.total(Measure.INVITATIONS_EXPIRED),
            ),
        ]
        return [(key, label, str(value)) for key, label, value in figures]

    @property
    def active_users_label(self) -> str:
        if self.distinct_active_users is not None:
            return _("Active users")
        return _("Daily active users (average)")

    @property
    def active_users(self) -> int:
        if self.distinct_active_users is not None:
            return self.distinct_active_users
        days = self.series.get(Measure.DAILY_ACTIVE_USERS) or []
        return round(sum(value for _day, value in days) / len(days)) if days else 0


# The measures charted per day (or per hour for the last 24 hours).
SERIES = (
    Measure.SIGN_INS,
    Measure.SIGN_UPS,
    Measure.DAILY_ACTIVE_USERS,
    Measure.INVITATIONS_SENT,
)
SUCCESS_SERIES = "sign_ins_succeeded"
FAILURE_SERIES = "sign_ins_failed"


# A tenant whose latest rolled day had this many sign-ins (about a million users) counts the
# live part of its figures (today's rows: 100,000 and more) at most once a minute: every
# reader of the overview and Insights in that minute gets the same report, whose end time
# says how fresh it is. Smaller tenants count at each visit (a few thousand rows).
BUSY_SIGN_INS_PER_DAY = 10_000
BUSY_REPORT_SECONDS = 60


def _is_busy() -> bool:
    from django.db.models import Sum

    latest = RolledDay.objects.order_by("-day").values_list("day", flat=True).first()
    if latest is None:
        return False
    sign_ins = DailyFigure.objects.filter(day=latest, measure=Measure.SIGN_INS).aggregate(
        total=Sum("value")
    )["total"]
    return (sign_ins or 0) >= BUSY_SIGN_INS_PER_DAY


def insights_report(period: str = DEFAULT_PERIOD, *, now: datetime | None = None) -> Report:
    """The figures of `period` up to `now`. For a busy tenant (_is_busy) the report of the
    last BUSY_REPORT_SECONDS is reused when `now` is not given."""
    if period not in PERIODS:
        period = DEFAULT_PERIOD
    if now is None and _is_busy():
        from django.core.cache import cache

        key = f"insights:report:{period}"  # the cache's keys are per tenant schema
        report = cache.get(key)
        if report is None:
            report = _report(period, timezone.now())
            cache.set(key, report, BUSY_REPORT_SECONDS)
        return report
    return _report(period, now or timezone.now())


def _report(period: str, now: datetime) -> Report:
    length = PERIODS[period][1]
    if length <= timedelta(days=1):
        report = _report_of_hours(period, now - length, now)
    else:
        report = _report_of_days(period, now, length.days)
    _add_snapshot(report)
    return report


def _report_of_days(period: str, now: datetime, days: int) -> Report:
    today = now.astimezone(UTC).date()
    first = today - timedelta(days=days - 1)
    report = Report(period=period, start=day_start(first), end=now)
    last_rolled = RolledDay.objects.aggregate(last=Max("day"))["last"]
    rolled_until = min(last_rolled, today - timedelta(days=1)) if last_rolled else None
    figures: list[Figure] = []
    if rolled_until is not None and rolled_until >= first:
        rows = DailyFigure.objects.filter(day__gte=first, day__lte=rolled_until).exclude(
            measure__in=(
                Measure.MONTHLY_ACTIVE_USERS,
                Measure.ENABLED_USERS,
                Measure.USERS_WITH_MFA,
                Measure.DIRECTORY,
            )
        )
        figures += [
            Figure(row.day, row.measure, row.dimension, row.value, row.label)
            for row in rows.only("day", "measure", "dimension", "label", "value")
        ]
    # The live part: the days after the last rolled one (today, and yesterday until tonight's
    # roll-up), from their raw rows only.
    if rolled_until is not None and rolled_until >= first:
        live_from = rolled_until + timedelta(days=1)
    else:
        live_from = first
    # Days older than the roll-up ever makes up are never read raw (a tenant that had no
    # roll-up yet, e.g. right after an upgrade, shows them as zero until then).
    live_from = max(live_from, today - timedelta(days=CATCH_UP_DAYS))
    live_start = day_start(live_from)
    figures += range_figures(live_start, now, live=True)
    _add_figures(report, figures)
    day_keys = [(first + timedelta(days=offset)) for offset in range(days)]
    _add_series(report, figures, [(day, day.isoformat()) for day in day_keys])
    return report


def _report_of_hours(period: str, start: datetime, now: datetime) -> Report:
    report = Report(period=period, start=start, end=now)
    figures = range_figures(start, now, live=True)
    _add_figures(report, figures)
    # Sign-ins per hour: the chart of the last 24 hours.
    table = connection.ops.quote_name(SignInEvent._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT date_trunc('hour', occurred_at AT TIME ZONE 'UTC'), result, count(*) "
            f"FROM {table} WHERE occurred_at >= %s AND occurred_at < %s AND method <> %s "
            "GROUP BY 1, 2",
            [start, now, SignInEvent.Method.TOKEN],
        )
        rows = cursor.fetchall()
    first_hour = start.astimezone(UTC).replace(minute=0, second=0, microsecond=0, tzinfo=None)
    hours = [first_hour + timedelta(hours=offset) for offset in range(25)]
    hours = [hour for hour in hours if hour < now.astimezone(UTC).replace(tzinfo=None)]
    succeeded: dict[datetime, int] = defaultdict(int)
    failed: dict[datetime, int] = defaultdict(int)
    for hour, result, count in rows:
        if result == SignInEvent.Result.SUCCESS:
            succeeded[hour] += count
        elif result == SignInEvent.Result.FAILURE:
            failed[hour] += count
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT count(DISTINCT user_public_id) FROM {table} WHERE occurred_at >= %s "
            "AND occurred_at < %s AND result = %s",
            [start, now, SignInEvent.Result.SUCCESS],
        )
        report.distinct_active_users = cursor.fetchone()[0]
    report.series[SUCCESS_SERIES] = [(f"{hour:%H}:00", succeeded[hour]) for hour in hours]
    report.series[FAILURE_SERIES] = [(f"{hour:%H}:00", failed[hour]) for hour in hours]
    return report


def _add_figures(report: Report, figures: list[Figure]) -> None:
    for figure in figures:
        measure = report.totals.setdefault(figure.measure, {})
        measure[figure.dimension] = measure.get(figure.dimension, 0) + figure.value
        if figure.label:
            report.labels.setdefault(figure.measure, {})[figure.dimension] = figure.label


def _add_series(report: Report, figures: list[Figure], days: list[tuple[date, str]]) -> None:
    per_day: dict[tuple[str, date], int] = defaultdict(int)
    for figure in figures:
        if figure.measure == Measure.SIGN_INS:
            if figure.dimension == SignInEvent.Result.SUCCESS:
                per_day[SUCCESS_SERIES, figure.day] += figure.value
            elif figure.dimension == SignInEvent.Result.FAILURE:
                per_day[FAILURE_SERIES, figure.day] += figure.value
        elif figure.measure in SERIES:
            per_day[figure.measure, figure.day] += figure.value
    for name in (SUCCESS_SERIES, FAILURE_SERIES, *SERIES[1:]):
        report.series[name] = [(label, per_day[name, day]) for day, label in days]


def _add_snapshot(report: Report) -> None:
    """Monthly active users and MFA adoption as of the latest roll-up; a tenant never rolled
    up yet (a new one, small) counts its users now."""
    latest = RolledDay.objects.order_by("-day").first()
    values = {}
    if latest is not None:
        values = dict(
            DailyFigure.objects.filter(
                day=latest.day,
                measure__in=(
                    Measure.MONTHLY_ACTIVE_USERS,
                    Measure.ENABLED_USERS,
                    Measure.USERS_WITH_MFA,
                ),
                dimension="",
            ).values_list("measure", "value")
        )
        report.monthly_active_users = values.get(Measure.MONTHLY_ACTIVE_USERS, 0)
        report.monthly_active_users_day = latest.day
        report.enabled_users = values.get(Measure.ENABLED_USERS, 0)
        report.users_with_mfa = values.get(Measure.USERS_WITH_MFA, 0)
    else:
        snapshot = user_snapshot()
        report.enabled_users = snapshot["enabled"]
        report.users_with_mfa = snapshot["with_mfa"]


# A directory this large is counted by the nightly roll-up, not on every overview visit
# (counting a million users takes a few hundred milliseconds).
DIRECTORY_LIVE_LIMIT = 50_000


def directory_counts() -> tuple[dict[str, int], date | None]:
    """The overview's directory counts and the day they are of: counted now (None) while the
    latest roll-up saw fewer than DIRECTORY_LIVE_LIMIT users, else that roll-up's."""
    from accounts.selectors import directory_summary

    latest = RolledDay.objects.order_by("-day").first()
    if latest is not None:
        counts = dict(
            DailyFigure.objects.filter(day=latest.day, measure=Measure.DIRECTORY).values_list(
                "dimension", "value"
            )
        )
        if counts.get("users", 0) >= DIRECTORY_LIVE_LIMIT:
            keys = ("users", "members", "guests", "admins", "disabled")
            return {key: counts.get(key, 0) for key in keys}, latest.day
    return directory_summary(), None


# Getting started ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ChecklistItem:
    key: str
    label: str
    hint: str
    url_name: str
    is_done: bool


@dataclass(frozen=True)
class Checklist:
    items: tuple[ChecklistItem, ...]

    @property
    def done_count(self) -> int:
        return sum(item.is_done for item in self.items)

    @property
    def is_complete(self) -> bool:
        return self.done_count == len(self.items)


def getting_started() -> Checklist:
    """A new tenant's first steps, each ticked from what the tenant has: an app registered, a
    guest invited, a published branding, MFA required of someone."""
    from branding.models import Branding
    from guests.models import Invitation
    from mfa.models import MfaPolicy
    from mfa.selectors import mfa_policy_get
    from oidc.models import Application

    requirement = mfa_policy_get().requirement
    mfa_on = requirement not in (MfaPolicy.Requirement.OFF, MfaPolicy.Requirement.OPTIONAL)
    items = [
        ChecklistItem(
            "app",
            _("Register an app"),
            _("Let your web, mobile or single-page app sign people in."),
            "console:apps:list",
            Application.objects.exists(),
        ),
        ChecklistItem(
            "guest",
            _("Invite a guest"),
            _("Bring a partner in with the identity they already have."),
            "console:guests:list",
            Invitation.objects.exists(),
        ),
        ChecklistItem(
            "branding",
            _("Brand the sign-in pages"),
            _("Your logo, colours and texts on the pages your users see."),
            "console:branding:edit",
            Branding.objects.filter(state=Branding.State.PUBLISHED).exists(),
        ),
        ChecklistItem(
            "mfa",
            _("Turn on MFA"),
            _("Require a second factor of everyone, of administrators or of guests."),
            "console:policies:mfa",
            mfa_on,
        ),
    ]
    return Checklist(items=tuple(items))
