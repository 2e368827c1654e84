"""A change made in one process reaches the host cache of every other server process."""

from __future__ import annotations

import time
import uuid

import requests

from tenants.services import tenant_create, tenant_delete, tenant_resume, tenant_suspend
from tests.conftest import PASSWORD
from tests.server import free_port, start_gunicorn, stop


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
    slug = f"route-{uuid.uuid4().hex[:8]}"
    tenant = tenant_create(
        name="Routing", slug=slug, admin_email="a@routing.example", admin_password=PASSWORD
    )
    port = free_port()
    server = start_gunicorn(subprocess_env, port)
    url = f"http://127.0.0.1:{port}/"
    host = f"{slug}.localhost:{port}"
    try:
        assert requests.get(url, headers={"Host": host}, timeout=5).status_code == 200  # cached
        tenant_suspend(tenant=tenant, actor=None)
        assert status_within(url, host, 503) == 503
        tenant_resume(tenant=tenant, actor=None)
        assert status_within(url, host, 200) == 200
        tenant_delete(tenant=tenant, confirm_slug=slug, actor=None)
        assert status_within(url, host, 404) == 404
    finally:
        stop(server)
