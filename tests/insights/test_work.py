"""The nightly tasks find the tenants with work one small query each, and skip the others:
a tenant whose days are rolled up and that did nothing since is not visited."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django_tenants.utils import tenant_context

from insights.services import tenant_roll_up
from insights.tasks import work_condition, work_parameters
from tenants.selectors import active_tenant_schemas_each_where
from tests.insights.helpers import at, fresh_world, sign_in_at, today


def _has_work(world) -> bool:
    found = active_tenant_schemas_each_where(work_condition(), work_parameters(), batch=1)
    return world.tenant.schema_name in set(found)


@pytest.mark.django_db
def test_a_tenant_is_visited_only_while_a_finished_day_with_activity_is_owed():
    world = fresh_world()
    assert _has_work(world)  # new: its first admin is a new user
    with tenant_context(world.tenant):
        tenant_roll_up()
    assert not _has_work(world)

    # Activity today is tomorrow's work, not tonight's.
    with tenant_context(world.tenant):
        sign_in_at(at(today(), 0), user=world.admin, method="password", result="success")
    assert not _has_work(world)

    # A day owed with activity (yesterday's roll-up missing) is work.
    from insights.models import RolledDay

    with tenant_context(world.tenant):
        RolledDay.objects.filter(day=today() - timedelta(days=1)).delete()
        sign_in_at(at(today() - timedelta(days=1), 23), user=world.admin, method="password",
                   result="success")  # fmt: skip
    assert _has_work(world)


@pytest.mark.django_db
def test_a_suspended_tenant_is_not_visited():
    from tenants.models import Tenant

    world = fresh_world()
    Tenant.objects.filter(pk=world.tenant.pk).update(status=Tenant.Status.SUSPENDED)
    assert not _has_work(world)
