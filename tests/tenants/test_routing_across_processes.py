"""A change made in one process reaches the host cache of every other server process."""

from __future__ import annotations

import time

import requests

from tenants.services import tenant_delete, tenant_resume, tenant_suspend
from tests.server import tenant_served


def status_within(url: str, host: str, expected: int, seconds: float = 5) -> int:
    deadline = time.monotonic() + seconds
    while True:
        status = requests.get(url, headers={"Host": host}, timeout=5).status_code
        if status == expected or time.monotonic() > deadline:
            return status
        time.sleep(0.1)


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
