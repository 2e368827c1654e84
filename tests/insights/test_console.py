"""Console > Insights and Overview and Logs > Retention: who may open them, what they show."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone
from django_tenants.utils import tenant_context

from audit.models import AuditEvent
from tests.insights.helpers import fresh_world, sign_in_at

INSIGHTS = "/console/insights/"
RETENTION = "/console/logs/retention/"


def _admin(world, *roles):
    import uuid

    with tenant_context(world.tenant):
        return get_user_model().objects.create_user(
            email=f"{uuid.uuid4().hex[:8]}@{world.tenant.slug}.test", admin_roles=list(roles)
        )


def _figure(body: str, key: str) -> str:
    match = re.search(rf'data-figure="{key}"><dt>[^<]*</dt><dd>([^<]*)</dd>', body)
    assert match, key
    return match.group(1)


@pytest.mark.parametrize("role", ["reports_reader", "security_administrator"])
def test_report_readers_open_insights_for_each_period(acme, role):
    client = acme.client(_admin(acme, role))
    for period in ("24h", "7d", "30d", "90d"):
        response = client.get(INSIGHTS, {"period": period})
        assert response.status_code == 200
        body = response.content.decode()
        assert 'aria-current="page" href="?period=' + period in body
        assert 'role="img"' in body and "<title id=" in body and "<desc id=" in body
        assert "<table" in body
    # An unknown period shows the default one, not an error.
    assert client.get(INSIGHTS, {"period": "forever"}).status_code == 200


@pytest.mark.parametrize(
    "roles",
    [
        ["user_administrator"],
        ["guest_inviter"],
        ["branding_administrator"],
        ["application_administrator"],
        [],
    ],
)
def test_other_roles_are_refused_insights_and_see_no_figures(acme, roles):
    client = acme.client(_admin(acme, *roles))
    assert client.get(INSIGHTS).status_code == 403
    overview = client.get("/console/")
    assert overview.status_code == (200 if roles else 403)
    assert 'data-figure="sign_ins"' not in overview.content.decode()
    assert 'href="/console/insights/"' not in overview.content.decode()


def test_the_pages_show_the_figures_of_the_rows(db):
    world = fresh_world()
    with tenant_context(world.tenant):
        for result in ("success", "success", "failure"):
            sign_in_at(
                timezone.now(),
                user=world.admin, method="password", result=result,
                failure_reason="wrong_password" if result == "failure" else "",
            )  # fmt: skip
    reader = world.client(_admin(world, "reports_reader"))
    body = reader.get(INSIGHTS, {"period": "24h"}).content.decode()
    assert _figure(body, "sign_ins") == "2"
    assert _figure(body, "failures") == "1"
    assert "Wrong password" in body  # the failure reason's label, in the breakdown's table
    overview = reader.get("/console/").content.decode()
    assert _figure(overview, "sign_ins") == "2"
    assert 'href="/console/insights/"' in overview
    # The pages name what the logs keep.
    assert "The sign-in log keeps 30 days" in body


def test_the_getting_started_checklist_ticks_what_the_tenant_has_done(db):
    from tests.oidc.helpers import register_app

    world = fresh_world()
    client = world.client(world.admin)

    def steps() -> dict[str, bool]:
        body = client.get("/console/").content.decode()
        found = re.findall(r'<li class="(is-done)?" data-step="(\w+)">', body)
        return {step: bool(done) for done, step in found}

    assert steps() == {"app": False, "guest": False, "branding": False, "mfa": False}
    body = client.get("/console/").content.decode()
    assert "0 of 4 done." in body and 'href="/console/apps/"' in body

    register_app(world, name="Portal")
    assert steps()["app"] is True

    from guests.services import invitation_create

    with tenant_context(world.tenant):
        invitation_create(invited_by=world.admin, email="partner@partner.example",
                          redirect_url="https://app.example/")  # fmt: skip
    assert steps()["guest"] is True

    from branding.models import Branding

    with tenant_context(world.tenant):
        Branding.objects.create(state=Branding.State.PUBLISHED)
    assert steps()["branding"] is True

    response = client.post("/console/policies/mfa/", {
        "requirement": "required_admins", "totp_allowed": "on", "email_code_allowed": "on",
        "recovery_codes_allowed": "on", "remember_browser_days": "0",
    })  # fmt: skip
    assert response.status_code == 302
    # Every step done: the checklist gives way.
    assert "Getting started" not in client.get("/console/", follow=True).content.decode()


def test_readers_see_what_the_logs_keep_and_only_security_admins_change_it(acme):
    reader = acme.client(_admin(acme, "reports_reader"))
    page = reader.get(RETENTION)
    assert page.status_code == 200
    body = page.content.decode()
    assert "30 days and today" in body and "180 days and today" in body
    assert 'name="sign_in_days"' not in body
    refused = reader.post(RETENTION, {"sign_in_days": "60", "audit_days": "180"})
    assert refused.status_code == 403

    for roles in (["user_administrator"], ["guest_inviter"]):
        assert acme.client(_admin(acme, *roles)).get(RETENTION).status_code == 403

    security = _admin(acme, "security_administrator")
    client = acme.client(security)
    bad = client.post(RETENTION, {"sign_in_days": "7", "audit_days": "180"})
    assert bad.status_code == 400
    assert "greater than or equal to 30" in bad.content.decode()
    assert 'value="7"' in bad.content.decode()  # what was typed stays

    saved = client.post(RETENTION, {"sign_in_days": "90", "audit_days": "365"}, follow=True)
    assert "90 days and today" in saved.content.decode()
    assert "365 days and today" in saved.content.decode()
    with tenant_context(acme.tenant):
        event = AuditEvent.objects.get(action="log_retention.update")
    assert event.actor_label == security.email
    assert event.after == {"sign_in_days": 90, "audit_days": 365}


def test_a_large_directory_is_counted_by_the_roll_up_and_says_so(db, monkeypatch):
    from datetime import timedelta

    from insights import selectors
    from insights.services import day_roll_up
    from tests.insights.helpers import today

    world = fresh_world()
    client = world.client(world.admin)
    body = client.get("/console/").content.decode()
    assert "Counted by the nightly roll-up" not in body  # counted at each visit

    yesterday = today() - timedelta(days=1)
    with tenant_context(world.tenant):
        day_roll_up(day=yesterday)
    monkeypatch.setattr(selectors, "DIRECTORY_LIVE_LIMIT", 1)
    _admin(world, "reports_reader")  # a user the roll-up has not seen
    body = client.get("/console/").content.decode()
    assert f"Counted by the nightly roll-up of {yesterday:%Y-%m-%d}" in body
    assert re.search(r"<dt>Users</dt><dd>1</dd>", body)
