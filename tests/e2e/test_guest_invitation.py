"""A guest invitation end to end in Chromium: an admin invites in the console, the email
arrives at the SMTP server, the partner opens the link, enters the emailed code, consents and
lands in the app signed in as a guest."""

from __future__ import annotations

import asyncio
import re
import uuid

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django_tenants.utils import tenant_context
from playwright.sync_api import expect

from guests.models import Invitation
from tests.browser import axe_violations
from tests.helpers import PASSWORD
from tests.mail import body_text

pytestmark = [pytest.mark.server, pytest.mark.browser]


def test_invite_in_the_console_then_redeem_with_an_emailed_code(
    browser, running_server, celery_worker_process, mailbox, worlds, committed
):
    acme = worlds["acme"]
    email = f"browser-{uuid.uuid4().hex[:8]}@partner.example"
    landing_url = running_server.url(acme.host, "/account/")

    admin = browser.new_context()
    page = admin.new_page()
    page.goto(running_server.url(acme.host, "/console/guests/invite/"))
    page.get_by_label("Email").fill(acme.admin.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.wait_for_url("**/console/guests/invite/")
    assert axe_violations(page) == []
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Display name").fill("Browser Partner")
    page.get_by_label("Redirect URL").fill(landing_url)
    page.get_by_label("Personal message").fill("Welcome from the browser test")
    page.get_by_role("button", name="Invite").click()
    page.wait_for_url("**/console/guests/invitations/**")
    assert "Pending acceptance" in page.locator("#invitation-status").inner_text()
    assert axe_violations(page) == []
    page.goto(running_server.url(acme.host, "/console/guests/"))
    assert email in page.content()
    assert axe_violations(page) == []
    admin.close()

    (invitation_email,) = mailbox.wait_for(email)
    link = re.search(r"http://acme\.localhost[^\s]*/invite/([\w-]+)/", body_text(invitation_email))
    assert link, body_text(invitation_email)
    token = link.group(1)

    partner = browser.new_context()
    page = partner.new_page()
    page.goto(running_server.url(acme.host, f"/invite/{token}/"))
    expect(page.get_by_role("heading", name="You are invited to Acme Corporation")).to_be_visible()
    assert "Welcome from the browser test" in page.content()
    assert axe_violations(page) == []
    page.get_by_role("button", name=f"Email a code to {email}").click()
    page.wait_for_url("**/invite/code/verify/")
    assert axe_violations(page) == []

    code_email = mailbox.wait_for(email, count=2)[1]
    code = re.search(r"^\s*(\d{6})\s*$", body_text(code_email), re.MULTILINE).group(1)
    page.get_by_label("Code").fill(code)
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url("**/invite/consent/")
    expect(page.get_by_role("heading", name="Join Acme Corporation as a guest")).to_be_visible()
    assert axe_violations(page) == []
    page.get_by_role("button", name="Accept").click()
    page.wait_for_url(landing_url)
    assert email in page.content()
    partner.close()

    try:
        with tenant_context(acme.tenant):
            guest = get_user_model().objects.get(email=email)
            assert guest.user_type == "guest"
            assert Invitation.objects.get(email=email).status == "Accepted"
    finally:
        # Inside Playwright's event loop Django hands this test its own database connection;
        # left open, it keeps the test database from being dropped at the end of the session.
        connection.close()


def test_bulk_upload_progress_updates_live_in_the_browser(
    browser,
    running_server,
    celery_worker_process,
    mailbox,
    worlds,
    committed,
    tmp_path,
    monkeypatch,
):
    acme = worlds["acme"]
    accept = type(mailbox).handle_DATA

    async def unhurried(server, session, envelope):
        await asyncio.sleep(0.1)  # the relay takes its time, so progress is seen moving
        return await accept(mailbox, server, session, envelope)

    monkeypatch.setattr(mailbox, "handle_DATA", unhurried)
    run = uuid.uuid4().hex[:8]
    rows = [f"p{number}@live-{run}.example,Partner {number},,Hi" for number in range(30)]
    rows[7] = "not an email,Broken,,"
    rows[12] = rows[3]  # a duplicate
    csv_file = tmp_path / "partners.csv"
    csv_file.write_text("email,display name,redirect URL,message\n" + "\n".join(rows) + "\n")

    context = browser.new_context()
    page = context.new_page()
    page.goto(running_server.url(acme.host, "/console/guests/bulk/"))
    page.get_by_label("Email").fill(acme.admin.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.wait_for_url("**/console/guests/bulk/")
    page.get_by_label("CSV file").set_input_files(str(csv_file))
    page.get_by_label("Redirect URL for rows without one").fill("https://app.acme.example/")
    page.get_by_role("button", name="Upload and invite").click()
    page.wait_for_url("**/console/guests/bulk/**-**/")

    assert "Emails: 28 sent" not in page.locator("#bulk-summary").inner_text()
    report = page.locator("#rejected-rows tbody").inner_text()
    assert "9\tnot an email\tbad email" in report and "14\t" in report and "duplicate" in report
    # No reload: htmx polls the progress fragment until every email is out.
    page.wait_for_selector("#bulk-summary:has-text('Emails: 28 sent')", timeout=30_000)
    assert page.locator("#bulk-percent").inner_text() == "100%"
    assert axe_violations(page) == []
    context.close()
    assert len(mailbox.to(f"@live-{run}.example")) == 28
