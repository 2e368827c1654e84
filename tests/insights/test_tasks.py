"""The two nightly beat tasks with a real Celery worker: each queues a task in the schema of
every tenant with work, and the worker rolls up that tenant's days or prunes its logs there."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django_tenants.utils import tenant_context

from audit.services import log_cutoff
from tests.helpers import eventually
from tests.insights.helpers import at, fresh_world, sign_in_at, today

pytestmark = pytest.mark.server


@pytest.fixture
def committed_world(committed):
    from tenants.services import tenant_delete

    world = fresh_world()
    yield world
    tenant_delete(tenant=world.tenant, confirm_slug=world.tenant.slug, actor=None)


def test_the_nightly_tasks_roll_up_and_prune_each_tenant_in_its_own_schema(
    committed_world, celery_worker_process
):
    from audit.models import SignInEvent
    from audit.tasks import logs_prune_all
    from insights.models import DailyFigure, Measure, RolledDay
    from insights.tasks import roll_up_all

    world = committed_world
    yesterday = today() - timedelta(days=1)
    with tenant_context(world.tenant):
        sign_in_at(at(yesterday, 9), user=world.admin, method="password", result="success")
        sign_in_at(log_cutoff(30) - timedelta(seconds=1), user=world.admin, method="password",
                   result="success")  # fmt: skip

    assert roll_up_all()["tenants"] >= 1

    def rolled() -> bool:
        with tenant_context(world.tenant):
            return RolledDay.objects.filter(day=yesterday).exists()

    eventually(rolled, timeout=60, message="the worker did not roll up yesterday")
    with tenant_context(world.tenant):
        figure = DailyFigure.objects.get(
            day=yesterday, measure=Measure.SIGN_INS, dimension="success"
        )
        assert figure.value == 1

    assert logs_prune_all()["tenants"] >= 1

    def pruned() -> bool:
        with tenant_context(world.tenant):
            return not SignInEvent.objects.filter(occurred_at__lt=log_cutoff(30)).exists()

    eventually(pruned, timeout=60, message="the worker did not prune the old sign-in")
    with tenant_context(world.tenant):
        assert SignInEvent.objects.filter(occurred_at__gte=log_cutoff(30)).count() == 1
