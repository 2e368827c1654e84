"""Server processes keep each tenant's published branding in memory; publishing or resetting
reaches the hosted pages of a running server within seconds."""

from __future__ import annotations

import pytest
import requests
from django_tenants.utils import tenant_context

from branding.services import branding_draft_update, branding_publish, branding_reset
from tests.helpers import eventually
from tests.server import tenant_served

pytestmark = [pytest.mark.server]


def sign_in_page_shows(base: str, host: str, wanted) -> bool:
    return wanted(requests.get(f"{base}/accounts/login/", headers={"Host": host}, timeout=5).text)


def test_publish_and_reset_reach_a_running_server(subprocess_env, committed):
    with tenant_served(subprocess_env, prefix="brand") as (tenant, base, host):
        # Read (and kept) by the server: the default look.
        assert sign_in_page_shows(base, host, lambda body: "/branding/theme-" not in body)
        with tenant_context(tenant):
            branding_draft_update(actor=None, sign_in_text="Hello from the brand")
            branding_publish(actor=None)
        eventually(
            lambda: sign_in_page_shows(base, host, lambda body: "Hello from the brand" in body),
            timeout=5,
            interval=0.1,
        )
        with tenant_context(tenant):
            branding_reset(actor=None)
        eventually(
            lambda: sign_in_page_shows(base, host, lambda body: "/branding/theme-" not in body),
            timeout=5,
            interval=0.1,
        )
