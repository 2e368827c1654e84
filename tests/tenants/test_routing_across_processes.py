"""A change made in one process reaches the host cache of every other server process."""

from __future__ import annotations

import pytest
import requests

from tenants.services import tenant_delete, tenant_resume, tenant_suspend
from tests.helpers import eventually
from tests.server import tenant_served

pytestmark = [pytest.mark.server]


def status_within(url: str, host: str, expected: int, seconds: float = 5) -> int:
    """The status `url` answers once it is `expected` (the test fails if it never is)."""
    return eventually(
        lambda: (
            (status := requests.get(url, headers={"Host": host}, timeout=5).status_code) == expected
            and status
        ),
        timeout=seconds,
        interval=0.1,
        message=f"{url} did not answer {expected} within {seconds} seconds",
    )


def test_suspending_in_one_process_reaches_a_running_server_within_seconds(
    subprocess_env, committed
):
    with tenant_served(subprocess_env, prefix="route") as (tenant, base, host):
        url = f"{base}/"
        assert requests.get(url, headers={"Host": host}, timeout=5).status_code == 200  # cached
        tenant_suspend(tenant=tenant, actor=None)
        assert status_within(url, host, 503) == 503
        tenant_resume(tenant=tenant, actor=None)
        assert status_within(url, host, 200) == 200
        tenant_delete(tenant=tenant, confirm_slug=tenant.slug, actor=None)
        assert status_within(url, host, 404) == 404
