"""Request logs never hold a URL secret (SECURITY item 41): invitation links, password reset
and email confirmation keys, codes and tokens in query strings. Checked on the output of the
real servers: gunicorn's access log and runserver's request log (`make run`)."""

from __future__ import annotations

import subprocess
import sys
import uuid

import pytest
import requests
from django_tenants.utils import tenant_context

from ciam.log_redaction import url_secrets_redacted
from tests.server import ROOT, free_port, stop, tenant_served, wait_until_healthy

pytestmark = [pytest.mark.server]


@pytest.mark.parametrize(
    ("logged", "expected"),
    [
        ("GET /invite/Ab_9-x/ HTTP/1.1", "GET /invite/[redacted]/ HTTP/1.1"),
        ("POST /invite/Ab_9-x/code/", "POST /invite/[redacted]/code/"),
        ("GET /invite/new/", "GET /invite/new/"),
        ("/invite/guests/5d1e/renew/", "/invite/guests/5d1e/renew/"),
        ("Gone: /accounts/confirm-email/M:1/", "Gone: /accounts/confirm-email/[redacted]/"),
        ("/accounts/password/reset/key/1-ab-cd/", "/accounts/password/reset/key/[redacted]/"),
        ("/accounts/password/reset/key/done/", "/accounts/password/reset/key/done/"),
        ("/o/logout/?id_token_hint=eyJ.x.y&state=s", "/o/logout/?id_token_hint=[redacted]&state=s"),
        ("/cb?state=1&code=Zz", "/cb?state=1&code=[redacted]"),
        ("/o/revoke/?token=a%2Bb%2Fc&x=1", "/o/revoke/?token=[redacted]&x=1"),
        ("/in/?next=/o/%3Fcode%3Dabc%26x%3D1", "/in/?next=/o/%3Fcode%3D[redacted]%26x%3D1"),
        ("/o/authorize/?code_challenge=h", "/o/authorize/?code_challenge=h"),
    ],
)  # fmt: skip
def test_url_secrets_are_redacted_and_the_rest_of_the_line_kept(logged, expected):
    assert url_secrets_redacted(logged) == expected


def _secret_urls(tenant) -> dict[str, str]:
    """A live invitation link, a password reset link and an RP logout with an ID token hint:
    each secret, and the URL that carries it."""
    from allauth.account.forms import default_token_generator
    from allauth.account.utils import user_pk_to_url_str
    from django.contrib.auth import get_user_model

    from guests.services import invitation_create

    with tenant_context(tenant):
        admin = get_user_model().objects.get(email=f"a@{tenant.slug}.example")
        invitation = invitation_create(
            invited_by=admin, email=f"{uuid.uuid4().hex[:8]}@partner.example",
            redirect_url="https://app.partner.example/",
        )  # fmt: skip
        reset_key = default_token_generator.make_token(admin)
        uid = user_pk_to_url_str(admin)
    invite_token = invitation.redeem_url.rstrip("/").rsplit("/", 1)[1]
    hint = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl"
    return {
        invite_token: f"/invite/{invite_token}/",
        reset_key: f"/accounts/password/reset/key/{uid}-{reset_key}/",
        hint: f"/o/logout/?id_token_hint={hint}&state=kept",
    }


def _visit(base: str, host: str, urls: dict[str, str]) -> None:
    for url in urls.values():
        answer = requests.get(f"{base}{url}", headers={"Host": host}, timeout=10)
        assert answer.status_code < 500, (url, answer.status_code)
    assert requests.get(f"{base}/invite/new/", headers={"Host": host}, timeout=10).ok


def test_gunicorn_access_log_holds_no_url_secret(subprocess_env, committed, tmp_path):
    access_log = tmp_path / "access.log"
    arguments = ("--access-logfile", str(access_log))
    with tenant_served(subprocess_env, prefix="logs", server_args=arguments) as (
        tenant,
        base,
        host,
    ):
        urls = _secret_urls(tenant)
        _visit(base, host, urls)
    logged = access_log.read_text()
    for secret in urls:
        assert secret not in logged
    # The lines are there, with the request id, and say which page without the secret.
    assert '"GET /invite/[redacted]/ HTTP/1.1" 200' in logged
    assert "GET /accounts/password/reset/key/[redacted]/" in logged
    assert "id_token_hint=[redacted]&state=kept" in logged
    assert '"GET /invite/new/ HTTP/1.1" 302' in logged
    assert "request_id=" in logged and "request_id=-" not in logged


def test_runserver_request_log_holds_no_url_secret(subprocess_env, committed, tmp_path):
    from tenants.services import tenant_create, tenant_delete
    from tests.helpers import PASSWORD

    slug = f"runlog-{uuid.uuid4().hex[:8]}"
    tenant = tenant_create(
        name="Runlog", slug=slug, admin_email=f"a@{slug}.example", admin_password=PASSWORD
    )
    port = free_port()
    output = (tmp_path / "runserver.log").open("w")
    server = subprocess.Popen(
        [sys.executable, "manage.py", "runserver", "--noreload", f"127.0.0.1:{port}"],
        cwd=ROOT,
        env={**subprocess_env, "PUBLIC_PORT": str(port)},
        stdout=output,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_until_healthy(f"http://127.0.0.1:{port}", server)
        urls = _secret_urls(tenant)
        _visit(f"http://127.0.0.1:{port}", f"{slug}.localhost:{port}", urls)
    finally:
        stop(server)
        output.close()
        tenant_delete(tenant=tenant, confirm_slug=slug, actor=None)
    logged = (tmp_path / "runserver.log").read_text()
    for secret in urls:
        assert secret not in logged
    assert "GET /invite/[redacted]/ HTTP/1.1" in logged
    assert "GET /invite/new/ HTTP/1.1" in logged
