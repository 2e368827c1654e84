"""One tenant's administrator never reaches another tenant's audit log, sign-in log exports or
bulk invitation uploads: not by the other's ids on their own host, not by their session on
the other's host."""

from __future__ import annotations

import uuid

import pytest
from django.test import Client
from django_tenants.utils import tenant_context

from audit.models import SignInLogExport
from audit.services import audit_record
from guests.models import BulkInvitation


@pytest.fixture
def globex_private(globex):
    marker = f"globex-only-{uuid.uuid4().hex[:10]}"
    with tenant_context(globex.tenant):
        audit_record(actor=globex.admin, action="user.update", target_label=marker)
        export = SignInLogExport.objects.create(status="done", content=f"time (UTC)\n{marker}\n")
        bulk = BulkInvitation.objects.create(file_name=f"{marker}.csv", created_by=globex.admin)
    return {
        "marker": marker,
        "audit": "/console/logs/audit/",
        "download": f"/console/logs/sign-ins/exports/{export.public_id}/download/",
        "bulk": f"/console/guests/bulk/{bulk.public_id}/",
    }


def test_the_owner_sees_them(globex, globex_private):
    admin = globex.client(user=globex.admin)
    for page in ("audit", "download", "bulk"):
        response = admin.get(globex_private[page])
        assert response.status_code == 200, page
        assert globex_private["marker"] in response.content.decode(), page


def test_another_tenants_admin_gets_404_for_their_ids(acme, globex_private):
    admin = acme.client(user=acme.admin)
    assert admin.get(globex_private["download"]).status_code == 404
    assert admin.get(globex_private["bulk"]).status_code == 404
    audit = admin.get(globex_private["audit"])
    assert audit.status_code == 200  # acme's own audit log
    assert globex_private["marker"] not in audit.content.decode()


def test_another_tenants_admin_session_is_not_signed_in_on_their_host(acme, globex, globex_private):
    acme_admin = acme.client(user=acme.admin)
    on_globex = Client(HTTP_HOST=globex.host)
    on_globex.cookies = acme_admin.cookies  # the session cookie, replayed on the other host
    for page in ("audit", "download", "bulk"):
        response = on_globex.get(globex_private[page])
        assert response.status_code in (302, 403, 404), (page, response.status_code)
        if response.status_code == 302:
            assert "/accounts/login/" in response["Location"], page
        assert globex_private["marker"] not in response.content.decode(), page
