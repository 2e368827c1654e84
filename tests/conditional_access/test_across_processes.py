"""Server processes keep each tenant's policies in memory; a policy turned on anywhere
applies to the sign-ins of every running server within seconds."""

from __future__ import annotations

import re

import pytest
import requests
from django.contrib.auth import get_user_model
from django_tenants.utils import tenant_context

from conditional_access.models import ConditionalAccessPolicy
from tests.helpers import PASSWORD, eventually
from tests.server import tenant_served

pytestmark = [pytest.mark.server]


def sign_in_status(base: str, host: str, email: str) -> int:
    session = requests.Session()
    page = session.get(f"{base}/accounts/login/", headers={"Host": host}, timeout=5)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
    answer = session.post(
        f"{base}/accounts/login/",
        data={"csrfmiddlewaretoken": token, "login": email, "password": PASSWORD},
        headers={"Host": host},
        allow_redirects=False,
        timeout=5,
    )
    return answer.status_code


def test_a_policy_turned_on_reaches_a_running_server(subprocess_env, committed):
    with tenant_served(subprocess_env, prefix="capolicy") as (tenant, base, host):
        with tenant_context(tenant):
            user = get_user_model().objects.create_user(
                email="someone@capolicy.example", password=PASSWORD
            )
        # The server reads the tenant's policies (the default one) and keeps them.
        assert sign_in_status(base, host, user.email) == 302
        with tenant_context(tenant):
            policy = ConditionalAccessPolicy.objects.create(
                name="Block members", state="on", users="selected", include_members=True,
                exclude_roles=["global_administrator"], grant="block",
            )  # fmt: skip
        eventually(lambda: sign_in_status(base, host, user.email) == 403, timeout=5)
        with tenant_context(tenant):
            policy.state = "report_only"
            policy.save()
        eventually(lambda: sign_in_status(base, host, user.email) == 302, timeout=5)
