"""Insights figures against the raw rows they are counted from: a fresh tenant with sign-ins,
users and invitations on chosen days; the roll-up of the finished days plus today's live part
give the counts of the rows, before and after the roll-up; a roll-up run again writes the
same rows."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django_tenants.utils import tenant_context

from insights.models import DailyFigure, Measure, RolledDay
from insights.selectors import insights_report
from insights.services import day_roll_up, day_start, tenant_roll_up
from tests.insights.helpers import (
    at,
    fresh_world,
    invitation_at,
    member_at,
    sign_in_at,
    today,
)


def _fixture():
    """The rows of the story below; returns the days and people."""
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from mfa.models import PasskeyDevice

    User = get_user_model()
    now = timezone.now()
    t = today()
    day_a, day_b = t - timedelta(days=3), t - timedelta(days=2)
    earlier_today = day_start(t) + (now - day_start(t)) / 2
    # The tenant and its first users are older than the period.
    User.objects.update(date_joined=at(t - timedelta(days=60)))
    alice, bob, carol, dave = (member_at(at(t - timedelta(days=40))) for _ in range(4))
    disabled = member_at(at(t - timedelta(days=40)), is_active=False)
    PasskeyDevice.objects.create(user=alice, name="key", credential_id="a", public_key=b"k")
    PasskeyDevice.objects.create(user=disabled, name="key", credential_id="d", public_key=b"k")
    # Sign-ups: two members and a guest on day A, one on day B, two today.
    member_at(at(day_a, 0, 0))
    member_at(at(day_a, 23, 59))
    member_at(at(day_a, 9), user_type="guest")
    member_at(at(day_b, 9))
    member_at(earlier_today)
    member_at(earlier_today)

    # Ten days ago, outside the 7 days but inside dave's 30.
    sign_in_at(at(t - timedelta(days=10)), user=dave, method="password", result="success")
    # Day A, from its first to its last second.
    sign_in_at(at(day_a, 0, 0), user=alice, method="password", result="success",
               mfa_method="passkey")  # fmt: skip
    sign_in_at(at(day_a, 8), user=bob, method="password", result="failure",
               failure_reason="wrong_password")  # fmt: skip
    sign_in_at(at(day_a, 8), user=bob, method="password", result="failure",
               failure_reason="wrong_password")  # fmt: skip
    sign_in_at(at(day_a, 9), email="nobody@example.org", method="password", result="failure",
               failure_reason="unknown_account")  # fmt: skip
    sign_in_at(at(day_a, 9), user=bob, method="password", result="locked_out",
               failure_reason="locked_out")  # fmt: skip
    sign_in_at(at(day_a, 10), user=carol, method="federated", result="success", idp="google")
    sign_in_at(at(day_a, 11), user=alice, method="token", result="success", app_id="app-1",
               app_name="Portal", grant="authorization_code")  # fmt: skip
    for _ in range(2):
        sign_in_at(at(day_a, 12), user=alice, method="token", result="success",
                   app_id="app-1", app_name="Portal", grant="refresh_token")  # fmt: skip
    sign_in_at(at(day_a, 13), method="token", result="success", app_id="daemon",
               app_name="Daemon", grant="client_credentials")  # fmt: skip
    sign_in_at(at(day_a, 23, 59) + timedelta(seconds=59), user=alice, method="token",
               result="failure", failure_reason="invalid_grant", app_id="app-1",
               grant="refresh_token")  # fmt: skip
    # Day B.
    sign_in_at(at(day_b, 7), user=bob, method="email_code", result="success")
    sign_in_at(at(day_b, 8), user=alice, method="passkey", result="success")
    sign_in_at(at(day_b, 9), user=bob, method="email_code", result="failure",
               failure_reason="wrong_code")  # fmt: skip
    # Today, before now.
    for _ in range(2):
        sign_in_at(earlier_today, user=alice, method="password", result="success")
    sign_in_at(earlier_today, user=bob, method="password", result="failure",
               failure_reason="wrong_password")  # fmt: skip
    sign_in_at(earlier_today, user=bob, method="token", result="success", app_id="app-1",
               app_name="Portal", grant="authorization_code")  # fmt: skip
    sign_in_at(earlier_today, user=carol, method="token", result="success", app_id="app-2",
               app_name="Shop", grant="authorization_code")  # fmt: skip

    # Invitations: two sent on day A, one today; one accepted on day B; one expired on day A
    # (and one whose expiry passed that day but governance has not marked yet).
    invitation_at(at(day_a, 10))
    invitation_at(at(day_a, 11))
    invitation_at(earlier_today)
    invitation_at(at(t - timedelta(days=20)), status="Accepted", accepted=at(day_b, 10))
    invitation_at(at(t - timedelta(days=40)), status="Expired", expires=at(day_a, 5))
    invitation_at(at(t - timedelta(days=40)), expires=at(day_a, 6))
    return {"day_a": day_a, "day_b": day_b, "users": (alice, bob, carol, dave)}


EXPECTED_WEEK = {
    (Measure.SIGN_INS, "success"): 6,
    (Measure.SIGN_INS, "failure"): 5,
    (Measure.SIGN_INS, "locked_out"): 1,
    (Measure.SIGN_IN_FAILURES, "wrong_password"): 3,
    (Measure.SIGN_IN_FAILURES, "unknown_account"): 1,
    (Measure.SIGN_IN_FAILURES, "wrong_code"): 1,
    (Measure.SIGN_INS_WITH_MFA, ""): 1,
    (Measure.SIGN_INS_BY_METHOD, "password"): 3,
    (Measure.SIGN_INS_BY_METHOD, "federated"): 1,
    (Measure.SIGN_INS_BY_METHOD, "email_code"): 1,
    (Measure.SIGN_INS_BY_METHOD, "passkey"): 1,
    (Measure.SIGN_INS_BY_IDP, "google"): 1,
    (Measure.SIGN_INS_BY_APP, "app-1"): 2,
    (Measure.SIGN_INS_BY_APP, "app-2"): 1,
    (Measure.SIGN_UPS, ""): 5,
    (Measure.INVITATIONS_SENT, ""): 3,
    (Measure.INVITATIONS_ACCEPTED, ""): 1,
    (Measure.INVITATIONS_EXPIRED, ""): 1,
}


def _week_figures(report) -> dict:
    return {key: report.total(*key) for key in EXPECTED_WEEK}


def _raw_week_counts(report) -> dict:
    """The same figures counted straight from the sign-in log, as an admin would by filtering
    it: interactive rows of the period by result."""
    from audit.models import SignInEvent

    rows = SignInEvent.objects.filter(occurred_at__gte=report.start).exclude(method="token")
    return {
        result: rows.filter(result=result).count()
        for result in ("success", "failure", "locked_out")
    }


@pytest.fixture
def world(db):
    world = fresh_world()
    with tenant_context(world.tenant):
        story = _fixture()
    return world, story


def test_the_figures_of_the_last_7_days_are_the_counts_of_the_rows(world):
    world, story = world
    with tenant_context(world.tenant):
        live = insights_report("7d")
        assert _week_figures(live) == EXPECTED_WEEK
        assert _raw_week_counts(live) == {"success": 6, "failure": 5, "locked_out": 1}

        # The nightly roll-up writes the finished days; the figures do not change.
        for day in (story["day_a"], story["day_b"]):
            day_roll_up(day=day)
        rolled = insights_report("7d")
        assert _week_figures(rolled) == EXPECTED_WEEK
        assert rolled.labels[Measure.SIGN_INS_BY_APP] == {"app-1": "Portal", "app-2": "Shop"}

        day_a, day_b = story["day_a"], story["day_b"]
        active = dict(rolled.series[Measure.DAILY_ACTIVE_USERS])
        assert active[day_a.isoformat()] == 2  # alice (and her tokens), carol
        assert active[day_b.isoformat()] == 2
        assert active[today().isoformat()] == 3  # alice; bob and carol through apps
        assert dict(rolled.series["sign_ins_failed"])[day_a.isoformat()] == 3

        # Monthly active users of day B: dave ten days ago, alice, bob, carol.
        assert rolled.monthly_active_users == 4
        assert rolled.monthly_active_users_day == day_b
        # MFA adoption: alice's passkey; the disabled user's does not count.
        from django.contrib.auth import get_user_model

        enabled = get_user_model().objects.filter(is_active=True).count()
        assert (rolled.enabled_users, rolled.users_with_mfa) == (enabled, 1)


def test_the_last_24_hours_are_counted_from_their_rows(world):
    world, _story = world
    with tenant_context(world.tenant):
        report = insights_report("24h")
        assert (report.sign_ins_succeeded, report.sign_ins_failed) == (2, 1)
        assert report.total(Measure.SIGN_INS_BY_APP) == 2
        assert report.distinct_active_users == 3
        assert sum(value for _hour, value in report.series["sign_ins_succeeded"]) == 2


def test_a_day_rolled_up_again_gives_the_same_rows(world):
    world, story = world
    with tenant_context(world.tenant):
        day_roll_up(day=story["day_a"])
        first = sorted(DailyFigure.objects.values_list("day", "measure", "dimension", "value"))
        day_roll_up(day=story["day_a"])
        again = sorted(DailyFigure.objects.values_list("day", "measure", "dimension", "value"))
        assert again == first
        assert (story["day_a"], Measure.SIGN_INS, "success", 2) in first
        assert RolledDay.objects.filter(day=story["day_a"]).count() == 1


def test_the_tenant_roll_up_writes_the_owed_days_once(world):
    world, story = world
    with tenant_context(world.tenant):
        days = tenant_roll_up()
        assert story["day_a"] in days and story["day_b"] in days
        assert days[-1] == today() - timedelta(days=1)
        assert tenant_roll_up() == []  # nothing owed any more


def test_a_day_older_than_the_sign_in_log_keeps_is_not_rolled_up_again(world):
    world, _story = world
    with tenant_context(world.tenant), pytest.raises(ValidationError):
        day_roll_up(day=today() - timedelta(days=31))


def test_a_busy_tenants_report_is_counted_at_most_once_a_minute(world):
    """A tenant whose latest rolled day had BUSY_SIGN_INS_PER_DAY sign-ins or more (about a
    million users) reuses its report for BUSY_REPORT_SECONDS: today's 100,000 rows are not
    counted at every visit. A smaller tenant counts at each visit."""
    from django.core.cache import cache
    from django.utils import timezone

    from insights.selectors import BUSY_SIGN_INS_PER_DAY

    world, story = world
    alice = story["users"][0]
    with tenant_context(world.tenant):
        day_roll_up(day=story["day_b"])
        for period in ("24h", "7d"):
            cache.delete(f"insights:report:{period}")
        first = insights_report("24h")
        sign_in_at(timezone.now(), user=alice, method="password", result="success")
        assert insights_report("24h").sign_ins_succeeded == first.sign_ins_succeeded + 1

        # The same tenant, busy: its rolled day counted that many sign-ins.
        DailyFigure.objects.filter(day=story["day_b"], measure=Measure.SIGN_INS).update(
            value=BUSY_SIGN_INS_PER_DAY
        )
        busy = insights_report("24h")
        sign_in_at(timezone.now(), user=alice, method="password", result="success")
        again = insights_report("24h")
        assert again.sign_ins_succeeded == busy.sign_ins_succeeded  # the same report
        assert again.end == busy.end
        # Asked for a given moment (the roll-up, tests), it is always counted.
        counted = insights_report("24h", now=timezone.now())
        assert counted.sign_ins_succeeded == busy.sign_ins_succeeded + 1
        cache.delete("insights:report:24h")
