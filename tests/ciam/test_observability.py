"""Observability on a real gunicorn with two worker processes (README, "Observability"):
Prometheus metrics summed over the workers, `/metrics` refused to a remote client without
the token, JSON log lines with the request id and tenant and no URL secret."""

from __future__ import annotations

import json
import re
import uuid

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from tests.helpers import PASSWORD, make_user
from tests.oidc.helpers import register_app
from tests.server import free_port, start_gunicorn, stop

pytestmark = [pytest.mark.server]

METRICS_TOKEN = "scrape-" + uuid.uuid4().hex


def _sign_in(base: str, host: str, email: str, password: str) -> requests.Response:
    """A browser's password sign-in, on new connections (so the workers share them)."""
    session = requests.Session()
    page = session.get(f"{base}/accounts/login/", headers={"Host": host}, timeout=30)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
    return session.post(
        f"{base}/accounts/login/",
        {"csrfmiddlewaretoken": token, "login": email, "password": password},
        headers={"Host": host, "Referer": f"http://{host}/accounts/login/", "Connection": "close"},
        allow_redirects=False,
        timeout=30,
    )


def _samples(text: str) -> dict[tuple, float]:
    samples = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def _scrape(base: str, **headers) -> requests.Response:
    return requests.get(f"{base}/metrics", headers={"Connection": "close", **headers}, timeout=30)


def test_metrics_sum_over_workers_and_refuse_remote_clients(
    subprocess_env, acme_committed, tmp_path
):
    acme = acme_committed
    folder = tmp_path / "prometheus"
    port = free_port()
    server = start_gunicorn(
        {**subprocess_env, "PROMETHEUS_MULTIPROC_DIR": str(folder),
         "METRICS_TOKEN": METRICS_TOKEN, "TRUSTED_PROXY_COUNT": "1"},
        port, "--workers", "2",
    )  # fmt: skip
    base, host = f"http://127.0.0.1:{port}", f"{acme.host.split(':')[0]}:{port}"
    person = make_user(acme)
    daemon = register_app(acme, app_type="daemon", name="Metrics daemon")
    try:
        for _ in range(4):
            assert _sign_in(base, host, person.email, PASSWORD).status_code == 302
        for n in range(3):
            answer = _sign_in(base, host, person.email, f"wrong guess {n}")
            assert answer.status_code == 200
        for _ in range(5):
            issued = requests.post(
                f"{base}/o/token/",
                {"grant_type": "client_credentials"},
                auth=(daemon.client_id, daemon.secret),
                headers={"Host": host, "Connection": "close"},
                timeout=30,
            )
            assert issued.status_code == 200, issued.text
        refused = requests.post(
            f"{base}/o/token/",
            {"grant_type": "client_credentials"},
            auth=(daemon.client_id, "not the secret"),
            headers={"Host": host, "Connection": "close"},
            timeout=30,
        )
        assert refused.status_code == 401

        # Both worker processes counted, and every scrape (whichever worker answers) sums them.
        pids = {path.stem.rsplit("_", 1)[1] for path in folder.glob("counter_*.db")}
        assert len(pids) == 2, pids
        for _ in range(4):
            scrape = _scrape(base)  # from loopback: allowed without the token
            assert scrape.status_code == 200
            samples = _samples(scrape.text)
            sign_ins = {
                labels: value
                for (name, labels), value in samples.items()
                if name == "ciam_sign_ins_total"
            }
            assert sign_ins[(("method", "password"), ("result", "success"))] == 4
            assert sign_ins[(("method", "password"), ("result", "failure"))] == 3
            tokens = ("ciam_token_requests_total", (("grant", "client_credentials"),))
            assert samples[(tokens[0], (*tokens[1], ("result", "issued")))] == 5
            assert samples[(tokens[0], (*tokens[1], ("result", "invalid_client")))] == 1
            # Latency by route: the resolved URL name, never the raw path.
            login = (("method", "POST"), ("route", "federation.views.SignInView"))
            assert samples.get(("ciam_request_duration_seconds_count", login)) == 7, [
                labels for name, labels in samples if name == "ciam_requests_total"
            ]
            assert not any("/accounts/" in str(labels) for _name, labels in samples)
            for queue in ("interactive", "invitations", "bulk"):
                assert ("ciam_celery_queue_length", (("queue", queue),)) in samples
            assert ("ciam_email_outbox_backlog", ()) in samples
            assert ("ciam_email_outbox_oldest_age_seconds", ()) in samples
            assert ("ciam_cache_redis_outages_total", ()) in samples

        # A client that looks remote (through our proxy) is refused without the token.
        remote = {"X-Forwarded-For": "93.184.216.34"}
        assert _scrape(base, **remote).status_code == 403
        wrong = _scrape(base, **remote, Authorization="Bearer not-the-token")
        assert wrong.status_code == 403 and "ciam_" not in wrong.text
        allowed = _scrape(base, **remote, Authorization=f"Bearer {METRICS_TOKEN}")
        assert allowed.status_code == 200 and "ciam_sign_ins_total" in allowed.text
        # On a tenant's host too, and never with a tenant label.
        on_tenant = _scrape(base, Host=host, **remote)
        assert on_tenant.status_code == 403
        assert acme.tenant.schema_name not in _scrape(base, Host=host).text
    finally:
        stop(server)


def test_json_log_lines_carry_request_id_and_tenant_and_no_secret(
    subprocess_env, acme_committed, tmp_path
):
    acme = acme_committed
    output, access = tmp_path / "server.log", tmp_path / "access.log"
    port = free_port()
    server = start_gunicorn(
        {**subprocess_env, "LOG_FORMAT": "json", "LOG_LEVEL": "INFO"},
        port, "--workers", "2", "--access-logfile", str(access), "--log-level", "info",
        output=output,
    )  # fmt: skip
    base, host = f"http://127.0.0.1:{port}", f"{acme.host.split(':')[0]}:{port}"
    secret = "s3cr3t" + uuid.uuid4().hex
    request_id = "req-" + uuid.uuid4().hex[:16]
    try:
        # A 404 under an invitation path: Django logs "Not Found: <path>" (a warning).
        missing = requests.get(
            f"{base}/invite/{secret}/no-such-page/?code={secret}",
            headers={"Host": host, "X-Request-ID": request_id},
            timeout=30,
        )
        assert missing.status_code == 404
        assert missing.headers["X-Request-ID"] == request_id
        assert _sign_in(base, host, make_user(acme).email, PASSWORD).status_code == 302
    finally:
        stop(server)

    lines = [line for line in output.read_text().splitlines() if line.strip()]
    access_lines = [line for line in access.read_text().splitlines() if line.strip()]
    assert lines and access_lines
    records = [json.loads(line) for line in lines + access_lines]  # every line is JSON
    for record in records:
        assert {"time", "level", "logger", "message", "tenant", "request_id"} <= set(record)
    not_found = [r for r in records if r["logger"] == "django.request"]
    assert not_found and not_found[0]["request_id"] == request_id
    assert not_found[0]["tenant"] == acme.tenant.schema_name
    assert "/invite/[redacted]/" in not_found[0]["message"]
    served = [r for r in records if r["logger"] == "gunicorn.access"]
    mine = [r for r in served if r["request_id"] == request_id]
    assert mine and mine[0]["status"] == 404 and mine[0]["tenant"] == acme.tenant.schema_name
    assert "[redacted]" in mine[0]["message"] and "[redacted]" in mine[0]["query"]
    everything = output.read_text() + access.read_text()
    assert secret not in everything
