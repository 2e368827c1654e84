"""Console > Insights: the tenant's usage over a period, as charts with their numbers."""

from __future__ import annotations

from django.shortcuts import render
from django.utils.translation import gettext as _

from accounts.roles import LOG_READERS
from audit.models import SignInEvent
from audit.selectors import log_retention_get
from console.decorators import console_role
from insights import charts
from insights.models import Measure
from insights.selectors import (
    DEFAULT_PERIOD,
    FAILURE_SERIES,
    PERIODS,
    SUCCESS_SERIES,
    Report,
    insights_report,
)

# Who reads usage: the roles that read the logs it is counted from (Reports reader, Security
# administrator; Global administrators hold every role).
INSIGHTS_READERS = LOG_READERS


@console_role(*INSIGHTS_READERS)
def insights(request):
    period = request.GET.get("period", DEFAULT_PERIOD)
    if period not in PERIODS:
        period = DEFAULT_PERIOD
    report = insights_report(period)
    context = {
        "report": report,
        "periods": [(key, label) for key, (label, _length) in PERIODS.items()],
        "period_label": PERIODS[period][0],
        "trend_charts": _trend_charts(report),
        "breakdown_charts": _breakdown_charts(report),
        "retention": log_retention_get(),
    }
    return render(request, "insights/console/insights.html", context)


def _trend_charts(report: Report) -> list[charts.Chart]:
    hourly = report.period == "24h"
    unit = _("Hour (UTC)") if hourly else _("Day (UTC)")
    per = _("per hour") if hourly else _("per day")
    made = [
        (SUCCESS_SERIES, _("Successful sign-ins"), "chart-bar"),
        (FAILURE_SERIES, _("Failed sign-ins"), "chart-bar chart-bar-failure"),
    ]
    if not hourly:
        made += [
            (Measure.DAILY_ACTIVE_USERS, _("Daily active users"), "chart-bar chart-bar-users"),
            (Measure.SIGN_UPS, _("Sign-ups"), "chart-bar chart-bar-sign-ups"),
            (Measure.INVITATIONS_SENT, _("Invitations sent"), "chart-bar chart-bar-invitations"),
        ]
    result = []
    for key, title, css in made:
        points = report.series.get(key, [])
        total = sum(value for _label, value in points)
        peak = max(points, key=lambda point: point[1], default=("", 0))
        description = _("%(title)s %(per)s: %(total)s in all, at most %(peak)s (%(when)s).") % {
            "title": title, "per": per, "total": total, "peak": peak[1], "when": peak[0],
        }  # fmt: skip
        result.append(
            charts.column_chart(
                key=f"trend-{key}",
                title=f"{title} {per}",
                description=description,
                points=points,
                label_heading=unit,
                value_heading=title,
                series_class=css,
            )  # fmt: skip
        )
    return result


def _labels(choices) -> dict[str, str]:
    return {str(value): str(label) for value, label in choices}


def _breakdown_charts(report: Report) -> list[charts.Chart]:
    methods = _labels(SignInEvent.Method.choices)
    reasons = _labels(SignInEvent.FailureReason.choices)
    made = [
        (Measure.SIGN_INS_BY_APP, _("Sign-ins by app"), _("App"), {}),
        (Measure.SIGN_INS_BY_METHOD, _("Sign-ins by method"), _("Method"), methods),
        (Measure.SIGN_INS_BY_IDP, _("Sign-ins by identity provider"), _("Identity provider"), {}),
        (Measure.SIGN_IN_FAILURES, _("Failed sign-ins by reason"), _("Reason"), reasons),
    ]
    result = []
    for measure, title, heading, names in made:
        items = [
            (names.get(dimension, label) or _("(none)"), value)
            for dimension, label, value in report.breakdown(measure)
        ]
        if items:
            description = "; ".join(f"{label}: {value}" for label, value in items[:10])
        else:
            description = _("None in this period.")
        result.append(
            charts.row_chart(
                key=f"breakdown-{measure}",
                title=str(title),
                description=description,
                items=items,
                label_heading=heading,
                value_heading=_("Sign-ins"),
            )  # fmt: skip
        )
    return result
