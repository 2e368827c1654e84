"""The Celery path itself: a task queued in a tenant runs in that tenant's schema, in a real
worker process, and its email reaches a real SMTP server."""

from __future__ import annotations

import pytest
from django_tenants.utils import tenant_context

from tests.celery_tasks import send_probe_email

pytestmark = [pytest.mark.server]


def test_task_runs_in_the_schema_of_the_tenant_that_queued_it(
    acme, globex, committed, celery_worker_process, mailbox
):
    from django.contrib.auth import get_user_model

    with tenant_context(acme.tenant):
        acme_users = get_user_model().objects.count()
        send_probe_email.delay("probe-acme@example.org")
    with tenant_context(globex.tenant):
        globex_users = get_user_model().objects.count()
        send_probe_email.delay("probe-globex@example.org")

    (acme_message,) = mailbox.wait_for("probe-acme@example.org")
    (globex_message,) = mailbox.wait_for("probe-globex@example.org")
    assert f"Acme Corporation has {acme_users} users" in acme_message.get_content()
    assert f"Globex has {globex_users} users" in globex_message.get_content()
