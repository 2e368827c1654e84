"""The nightly roll-up is queued for every active tenant (read from the public tenant table);
each task first asks its own schema whether a finished day with activity is owed, one small
query, and a tenant whose days are rolled up and that did nothing since does no more."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django_tenants.utils import tenant_context

from insights.services import tenant_roll_up
from insights.tasks import work_condition, work_parameters
from tenants.selectors import active_tenants_each, schema_has
from tests.insights.helpers import at, fresh_world, sign_in_at, today


def _has_work(world) -> bool:
    with tenant_context(world.tenant):
        return schema_has(work_condition(), work_parameters())


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
    assert world.tenant.pk in {tenant.pk for tenant in active_tenants_each(batch=1)}
    Tenant.objects.filter(pk=world.tenant.pk).update(status=Tenant.Status.SUSPENDED)
    assert world.tenant.pk not in {tenant.pk for tenant in active_tenants_each(batch=1)}
