"""Starts the platform the way `make run` does (bin/run.py) and fetches real pages."""

from __future__ import annotations

import os
import subprocess
import sys

import requests

from tests.server import ROOT, free_port, stop, wait_until_healthy


def test_make_run_serves_the_platform_and_a_tenant(subprocess_env):
    port = free_port()
    environment = {
        **subprocess_env,
        "PORT": str(port),
        "RUN_NO_RELOAD": "1",
        "REDIS_URL": subprocess_env["CIAM_TEST_REDIS_URL"],
    }
    process = subprocess.Popen(
        [sys.executable, "bin/run.py"],
        cwd=ROOT,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        wait_until_healthy(f"http://127.0.0.1:{port}", process, timeout=120)
        base = f"http://127.0.0.1:{port}"
        platform = requests.get(base, headers={"Host": f"localhost:{port}"}, timeout=10)
        assert platform.status_code == 200
        assert "Create a tenant" in platform.text
        tenant = requests.get(base, headers={"Host": f"contoso.localhost:{port}"}, timeout=10)
        assert tenant.status_code == 200
        assert "Welcome to Contoso" in tenant.text
        unknown = requests.get(base, headers={"Host": f"nobody.localhost:{port}"}, timeout=10)
        assert unknown.status_code == 404
    finally:
        stop(process)
        output = process.stdout.read() if process.stdout else ""
    assert "http://contoso.localhost:" in output


def test_make_run_without_postgres_or_redis_uses_embedded_postgres_and_inline_tasks(tmp_path):
    """No reachable PostgreSQL or Redis: an embedded PostgreSQL under the data directory, and
    background tasks run in-process (and the launcher says so)."""
    port = free_port()
    environment = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DATABASE_URL", "CIAM_TESTING", "CIAM_TEST_REDIS_URL", "PYTEST_XDIST_WORKER"}
    }
    environment.update(
        PORT=str(port),
        RUN_NO_RELOAD="1",
        EMBEDDED_POSTGRES="1",
        EMBEDDED_POSTGRES_DIR=str(tmp_path / "pg"),
        REDIS_URL="",
    )
    process = subprocess.Popen(
        [sys.executable, "bin/run.py"],
        cwd=ROOT,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        wait_until_healthy(f"http://127.0.0.1:{port}", process, timeout=180)
        base = f"http://127.0.0.1:{port}"
        tenant = requests.get(base, headers={"Host": f"fabrikam.localhost:{port}"}, timeout=10)
        assert tenant.status_code == 200
        assert "Welcome to Fabrikam" in tenant.text
        ready = requests.get(f"{base}/readyz", timeout=10).json()
        assert ready["ready"] is True
        assert ready["checks"]["redis"]["detail"] == "not configured (tasks run in-process)"
    finally:
        stop(process)
        output = process.stdout.read() if process.stdout else ""
    assert "starting an embedded one" in output
    assert "No Redis: background tasks (emails) run in-process" in output
