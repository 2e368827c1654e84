"""Server processes keep each tenant's user flow in memory; a change made anywhere reaches the
hosted pages of every running server within seconds."""

from __future__ import annotations

import time
import uuid

import requests
from django_tenants.utils import tenant_context

from accounts.models import SignUpAttribute
from accounts.services import sign_up_attribute_save, user_flow_update
from tenants.services import tenant_create, tenant_delete
from tests.conftest import PASSWORD
from tests.server import free_port, start_gunicorn, stop


def page_within(url: str, host: str, wanted, seconds: float = 5) -> str:
    deadline = time.monotonic() + seconds
    while True:
        body = requests.get(url, headers={"Host": host}, timeout=5).text
        if wanted(body) or time.monotonic() > deadline:
            return body
        time.sleep(0.1)


def test_user_flow_changes_reach_a_running_server(subprocess_env, committed):
    slug = f"flow-{uuid.uuid4().hex[:8]}"
    tenant = tenant_create(
        name="Flows", slug=slug, admin_email="a@flows.example", admin_password=PASSWORD
    )
    port = free_port()
    server = start_gunicorn(subprocess_env, port)
    base = f"http://127.0.0.1:{port}"
    host = f"{slug}.localhost:{port}"
    try:
        # Read (and kept) by the server.
        assert "Create one" in requests.get(f"{base}/accounts/login/", headers={"Host": host}).text
        signup = requests.get(f"{base}/accounts/signup/", headers={"Host": host}).text
        assert 'name="attr_jobTitle"' not in signup
        with tenant_context(tenant):
            user_flow_update(actor=None, signup_enabled=False)
        login = page_within(f"{base}/accounts/login/", host, lambda body: "Create one" not in body)
        assert "Create one" not in login
        with tenant_context(tenant):
            user_flow_update(actor=None, signup_enabled=True)
            sign_up_attribute_save(
                actor=None,
                key="jobTitle",
                label="Job title",
                data_type=SignUpAttribute.DataType.STRING,
                required=False,
                position=5,
            )
        signup = page_within(
            f"{base}/accounts/signup/", host, lambda body: 'name="attr_jobTitle"' in body
        )
        assert 'name="attr_jobTitle"' in signup
    finally:
        stop(server)
        tenant_delete(tenant=tenant, confirm_slug=slug, actor=None)
