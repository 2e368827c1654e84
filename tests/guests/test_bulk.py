"""Bulk invitation from a CSV: a report of exactly the bad rows, every good row delivered once,
progress that reaches 100% while the admin may come and go."""

from __future__ import annotations

import re
import uuid
from collections import Counter

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django_tenants.utils import tenant_context

from guests import services
from tests.helpers import eventually

pytestmark = [pytest.mark.server, pytest.mark.slow]


def test_a_thousand_row_csv_reports_exactly_the_bad_rows_and_delivers_each_good_row_once(
    acme_committed, celery_worker_process, mailbox
):
    run = uuid.uuid4().hex[:8]
    domain = f"bulk-{run}.example"
    denied = f"denied-{run}.example"
    with tenant_context(acme_committed.tenant):
        services.guest_settings_update(
            actor=acme_committed.admin, domain_mode="deny", domains=[denied]
        )
    lines = ["email,display name,redirect URL,message"]
    expected_bad: dict[int, str] = {}
    for number in range(2, 1002):  # file line numbers: line 1 is the header
        email = f"p{number}@{domain}"
        if number % 97 == 0:
            email = f"not-an-email-{number}"
            expected_bad[number] = "bad email"
        elif number % 89 == 0:
            email = f"p{number}@{denied}"
            expected_bad[number] = "denied domain"
        elif number % 83 == 0:
            email = f"p{number - 1}@{domain}".upper()  # the previous row, differently cased
            expected_bad[number] = "duplicate"
        elif number == 500:
            email = acme_committed.member.email
            expected_bad[number] = "already a member"
        lines.append(f'{email},Partner {number},https://app.acme.example/,"Hello, {number}"')
    good = 1000 - len(expected_bad)

    client = acme_committed.client(user=acme_committed.admin)
    upload = SimpleUploadedFile("partners.csv", "\n".join(lines).encode(), content_type="text/csv")
    response = client.post("/console/guests/bulk/", {"file": upload})
    assert response.status_code == 302
    bulk_url = response["Location"]
    try:
        page = client.get(bulk_url).content.decode()
        report = re.findall(r"<tr><td>(\d+)</td><td>[^<]*</td><td>([^<]+)</td></tr>", page)
        assert {int(row): reason for row, reason in report} == expected_bad
        assert f"1000 rows: {good} valid, {len(expected_bad)} rejected." in page

        # The admin polls the progress fragment (as htmx does) until it says done.
        def finished():
            fragment = client.get(bulk_url, HTTP_HX_REQUEST="true").content.decode()
            return f"Emails: {good} sent" in fragment and fragment

        fragment = eventually(finished, timeout=90, interval=0.5)
        assert "100%" in fragment and "Done." in fragment
        assert "hx-trigger" not in fragment  # polling stops once everything is settled
    finally:
        with tenant_context(acme_committed.tenant):
            services.guest_settings_update(
                actor=acme_committed.admin, domain_mode="any", domains=[]
            )
    delivered = Counter(message["X-Envelope-To"] for message in mailbox.to(f"@{domain}"))
    assert len(delivered) == good and set(delivered.values()) == {1}
