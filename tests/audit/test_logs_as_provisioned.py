"""Rolled-back tests see acme's audit trail and sign-in log as provisioned, whatever tests that
commit (server, worker and browser tests) left there before them (tests/conftest.py,
`_logs_as_provisioned`)."""

from __future__ import annotations

import pytest
from django_tenants.utils import tenant_context

from audit.models import AuditEvent, SignInEvent
from audit.services import audit_record, sign_in_record

ACTION = "test.committed_by_an_earlier_test"
EMAIL = "left-by-an-earlier-test@acme.test"


@pytest.fixture(scope="module")
def rows_left_by_an_earlier_test(worlds, django_db_blocker):
    """What a server test leaves in acme: rows committed before the tests below start (a
    module's fixture is set up before a test's transaction begins)."""
    with django_db_blocker.unblock(), tenant_context(worlds["acme"].tenant):
        audit_record(actor=None, action=ACTION, target_label=EMAIL)
        sign_in_record(email=EMAIL, method=SignInEvent.Method.PASSWORD,
                       result=SignInEvent.Result.FAILURE)  # fmt: skip


def test_a_rolled_back_test_sees_acme_as_provisioned(rows_left_by_an_earlier_test, acme):
    with tenant_context(acme.tenant):
        assert not AuditEvent.objects.filter(action=ACTION).exists()
        assert not SignInEvent.objects.filter(email_typed=EMAIL).exists()
        # Its own rows are there, and "the event of this action" is its own.
        audit_record(actor=None, action=ACTION, target_label="this test")
        assert AuditEvent.objects.get(action=ACTION).target_label == "this test"


def test_the_rows_stay_for_tests_that_commit(rows_left_by_an_earlier_test, acme_committed):
    with tenant_context(acme_committed.tenant):
        assert AuditEvent.objects.filter(action=ACTION, target_label=EMAIL).exists()
        assert SignInEvent.objects.filter(email_typed=EMAIL).exists()
