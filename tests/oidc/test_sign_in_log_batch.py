"""The real server writes the sign-in log rows of client-credentials tokens in batches
(oidc.sign_in_log): every issue has its row, within a moment while the server runs, and
none is lost when the server stops gracefully right after answering."""

from __future__ import annotations

import threading
import uuid

import pytest
import requests
from django_tenants.utils import tenant_context

from tests.helpers import PASSWORD, eventually
from tests.server import free_port, start_gunicorn, stop

pytestmark = [pytest.mark.server]


def _rows(tenant, client_id: str) -> int:
    from audit.models import SignInEvent

    with tenant_context(tenant):
        return SignInEvent.objects.filter(
            app_id=client_id, grant="client_credentials", result="success"
        ).count()


def _issue(base: str, host: str, client_id: str, secret: str, count: int) -> None:
    def run() -> None:
        with requests.Session() as session:
            for _ in range(count):
                answer = session.post(
                    f"{base}/o/token/",
                    data={"grant_type": "client_credentials", "client_id": client_id,
                          "client_secret": secret},
                    headers={"Host": host}, timeout=10,
                )  # fmt: skip
                assert answer.status_code == 200, answer.text

    threads = [threading.Thread(target=run) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)


def test_every_client_credentials_token_has_its_row_even_when_the_server_stops(
    subprocess_env, committed
):
    from django.contrib.auth import get_user_model

    from oidc.services import application_create
    from tenants.models import Tenant
    from tenants.services import tenant_create, tenant_delete

    slug = f"cclog-{uuid.uuid4().hex[:8]}"
    tenant = tenant_create(
        name="Cclog", slug=slug, admin_email=f"a@{slug}.example", admin_password=PASSWORD
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
        port = free_port()
        base, host = f"http://127.0.0.1:{port}", f"{slug}.localhost:{port}"
        server = start_gunicorn(subprocess_env, port)
        try:
            # While it runs: the rows arrive within a moment of the answers.
            _issue(base, host, daemon.client_id, secret, 10)
            eventually(lambda: _rows(tenant, daemon.client_id) == 40, timeout=5)
            # A burst, and a graceful stop (TERM) at once after its last answer.
            _issue(base, host, daemon.client_id, secret, 50)
        finally:
            stop(server)
        assert server.returncode == 0
        assert _rows(tenant, daemon.client_id) == 240
    finally:
        if Tenant.objects.filter(slug=slug).exists():
            tenant_delete(tenant=tenant, confirm_slug=slug, actor=None)
