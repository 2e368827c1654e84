"""Console > Insights and Overview in Chromium under the Content Security Policy the server
sends: the charts draw (no inline style or script is refused) and axe-core finds no
accessibility problem of any impact."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone
from django_tenants.utils import tenant_context
from playwright.sync_api import expect

from tests.browser import axe_violations
from tests.insights.helpers import sign_in_at

pytestmark = [pytest.mark.server, pytest.mark.browser]

PASSWORD = "a fresh passphrase for the reports"
EVERY_IMPACT = ("minor", "moderate", "serious", "critical")


@pytest.fixture
def reader(worlds, committed, running_server):
    world = worlds["acme"]
    with tenant_context(world.tenant):
        user = get_user_model().objects.create_user(
            email=f"reports-{uuid.uuid4().hex[:8]}@acme.test",
            password=PASSWORD,
            admin_roles=["reports_reader"],
        )
        now = timezone.now()
        rows = ((1, "success", ""), (2, "success", ""), (3, "failure", "wrong_password"))
        for hours, result, reason in (*rows, (30, "success", "")):
            sign_in_at(now - timedelta(hours=hours), user=user, method="password",
                       result=result, failure_reason=reason)  # fmt: skip
        sign_in_at(now - timedelta(hours=1), user=user, method="token", result="success",
                   app_id="browser-app", app_name="Browser test app",
                   grant="authorization_code")  # fmt: skip
    return world, user


def test_insights_and_overview_draw_under_the_csp_without_accessibility_problems(
    browser, running_server, reader
):
    world, user = reader
    context = browser.new_context(viewport={"width": 1366, "height": 900})
    page = context.new_page()
    refused: list[str] = []
    page.on(
        "console",
        lambda message: (
            refused.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    try:
        page.goto(running_server.url(world.host, "/accounts/login/?next=/console/insights/"))
        page.locator("input[name=login]").fill(user.email)
        page.locator("input[name=password]").fill(PASSWORD)
        page.locator("input[name=password]").press("Enter")
        page.wait_for_url(running_server.url(world.host, "/console/insights/"))

        problems = {}
        for path in (
            "/console/insights/?period=24h",
            "/console/insights/?period=7d",
            "/console/insights/?period=90d",
            "/console/",
            "/console/logs/retention/",
        ):
            response = page.goto(running_server.url(world.host, path))
            assert response.status == 200, path
            problems[path] = axe_violations(page, EVERY_IMPACT)
            if path.startswith("/console/insights/"):
                chart = page.get_by_role("img", name="Successful sign-ins", exact=False).first
                expect(chart).to_be_visible()
                # The bars are drawn with the stylesheet's colour, not the default black.
                fill = page.evaluate(
                    "getComputedStyle(document.querySelector('rect.chart-bar')).fill"
                )
                assert fill == "rgb(10, 75, 179)"
                assert page.get_by_role("table").count() >= 5
        assert problems == dict.fromkeys(problems, [])
        assert refused == []
        # The breakdown by app names it, in the chart and in its table.
        page.goto(running_server.url(world.host, "/console/insights/?period=24h"))
        assert page.get_by_role("rowheader", name="Browser test app").count() >= 1
        # On a phone the charts and tables stack, and the page is never wider than the window.
        page.set_viewport_size({"width": 390, "height": 800})
        for period in ("24h", "30d"):
            page.goto(running_server.url(world.host, f"/console/insights/?period={period}"))
            widths = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
            assert widths[0] <= widths[1], (period, widths)
    finally:
        context.close()
