"""The token endpoint on the real server: each client-credentials token's sign-in log row is
written before its answer (none batched or deferred), and a client secret revoked by another
process is refused by the server at its next call (no cached secret outlives it)."""

from __future__ import annotations

import uuid

import pytest
import requests
from django_tenants.utils import tenant_context

from tests.helpers import PASSWORD
from tests.server import free_port, start_gunicorn, stop

pytestmark = [pytest.mark.server]


def _rows(tenant, client_id: str) -> int:
    from audit.models import SignInEvent

    with tenant_context(tenant):
        return SignInEvent.objects.filter(
            app_id=client_id, grant="client_credentials", result="success"
        ).count()


@pytest.fixture
def daemon_tenant(committed):
    from django.contrib.auth import get_user_model

    from oidc.services import application_create
    from tenants.models import Tenant
    from tenants.services import tenant_create, tenant_delete

    slug = f"ccsrv-{uuid.uuid4().hex[:8]}"
    tenant = tenant_create(
        name="Ccsrv", slug=slug, admin_email=f"a@{slug}.example", admin_password=PASSWORD
    )
    try:
        with tenant_context(tenant):
            admin = get_user_model().objects.get(email=f"a@{slug}.example")
            daemon, secret = application_create(
                actor=admin, name="Daemon", app_type="daemon", redirect_uris="",
                post_logout_redirect_uris="", is_first_party=True,
                api_permissions=["User.Invite.All"], access_token_lifetime=3600,
                id_token_lifetime=3600, refresh_token_lifetime=86400,
            )  # fmt: skip
        yield tenant, slug, daemon, secret
    finally:
        if Tenant.objects.filter(slug=slug).exists():
            tenant_delete(tenant=tenant, confirm_slug=slug, actor=None)


def test_each_client_credentials_row_is_written_before_the_answer_and_a_revoked_secret_is_refused_at_once(  # noqa: E501
    subprocess_env, daemon_tenant
):
    from oidc.models import ClientSecret

    tenant, slug, daemon, secret = daemon_tenant
    port = free_port()
    base, host = f"http://127.0.0.1:{port}", f"{slug}.localhost:{port}"
    body = {"grant_type": "client_credentials", "client_id": daemon.client_id,
            "client_secret": secret}  # fmt: skip
    server = start_gunicorn(subprocess_env, port)
    try:
        with requests.Session() as session:
            for issued in range(1, 21):
                answer = session.post(
                    f"{base}/o/token/", data=body, headers={"Host": host}, timeout=10
                )
                assert answer.status_code == 200, answer.text
                # Written and committed before the answer: there now, not "soon".
                assert _rows(tenant, daemon.client_id) == issued
            # The server has the app in its cache; the secret is revoked by this process.
            with tenant_context(tenant):
                ClientSecret.objects.filter(application=daemon).delete()
            answer = session.post(f"{base}/o/token/", data=body, headers={"Host": host}, timeout=10)
            assert answer.status_code == 401, answer.text
            assert answer.json()["error"] == "invalid_client"
            assert _rows(tenant, daemon.client_id) == 20
    finally:
        stop(server)
