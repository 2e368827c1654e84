"""Starts the platform the way `make run` does (bin/run.py) and fetches real pages."""

from __future__ import annotations

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
