"""Server processes keep each tenant's user flow in memory; a change made anywhere reaches the
hosted pages of every running server within seconds."""

from __future__ import annotations

import pytest
import requests
from django_tenants.utils import tenant_context

from accounts.models import SignUpAttribute
from accounts.services import sign_up_attribute_save, user_flow_update
from tests.helpers import eventually
from tests.server import tenant_served

pytestmark = [pytest.mark.server]


def page_once(url: str, host: str, wanted) -> bool:
    return wanted(requests.get(url, headers={"Host": host}, timeout=5).text)


def test_user_flow_changes_reach_a_running_server(subprocess_env, committed):
    with tenant_served(subprocess_env, prefix="flow") as (tenant, base, host):
        # Read (and kept) by the server.
        login = requests.get(f"{base}/accounts/login/", headers={"Host": host}, timeout=5)
        assert "Create one" in login.text
        signup = requests.get(f"{base}/accounts/signup/", headers={"Host": host}, timeout=5)
        assert 'name="attr_jobTitle"' not in signup.text
        with tenant_context(tenant):
            user_flow_update(actor=None, signup_enabled=False)
        eventually(
            lambda: page_once(
                f"{base}/accounts/login/", host, lambda body: "Create one" not in body
            ),
            timeout=5,
            interval=0.1,
        )
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
        eventually(
            lambda: page_once(
                f"{base}/accounts/signup/", host, lambda body: 'name="attr_jobTitle"' in body
            ),
            timeout=5,
            interval=0.1,
        )
