"""Starts the platform the way `make run` does (bin/run.py) and fetches real pages."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from contextlib import contextmanager

import pytest
import requests

from tests.helpers import eventually
from tests.server import ROOT, free_port, stop, wait_until_healthy

pytestmark = [pytest.mark.server, pytest.mark.slow]


class Launch:
    def __init__(self, port: int):
        self.port = port
        self.output = ""

    def get(self, host: str, path: str = "/") -> requests.Response:
        return requests.get(
            f"http://127.0.0.1:{self.port}{path}",
            headers={"Host": f"{host}:{self.port}"},
            timeout=10,
        )


@contextmanager
def make_run(environment: dict[str, str]):
    """bin/run.py on a spare port until it answers /healthz; its output is kept on exit."""
    launch = Launch(free_port())
    process = subprocess.Popen(
        [sys.executable, "bin/run.py"],
        cwd=ROOT,
        env={**environment, "PORT": str(launch.port), "RUN_NO_RELOAD": "1"},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    # Read as it comes: a full pipe would stop the server at its next log line.
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(process.stdout), daemon=True)
    reader.start()
    try:
        wait_until_healthy(f"http://127.0.0.1:{launch.port}", process, timeout=180)
        yield launch
    finally:
        stop(process)
        process.wait(timeout=30)
        # The output ends when every process the launcher started is gone: a Celery process
        # left behind would keep it open (and fail the test here instead of hanging it).
        reader.join(timeout=30)
        assert not reader.is_alive(), "a process the launcher started outlived it"
        launch.output = "".join(lines)


def test_make_run_serves_the_platform_and_a_tenant(subprocess_env):
    with make_run({**subprocess_env, "REDIS_URL": subprocess_env["CIAM_TEST_REDIS_URL"]}) as run:
        platform = run.get("localhost")
        assert platform.status_code == 200
        assert "Create a tenant" in platform.text
        tenant = run.get("contoso.localhost")
        assert tenant.status_code == 200
        assert "Welcome to Contoso" in tenant.text
        assert run.get("nobody.localhost").status_code == 404
        # Celery beat started beside the server: it keeps its schedule under .data/, which
        # a fresh clone does not have (beat used to crash there).
        eventually(
            lambda: list((ROOT / ".data").glob("celerybeat-schedule*")),
            timeout=30,
            interval=0.2,
            message="Celery beat did not start",
        )
    assert "http://contoso.localhost:" in run.output
    # (A worker stopped while its pool still starts may print a traceback: not checked.)
    assert "FileNotFoundError" not in run.output


def _connections_to(database_url: str) -> int:
    import psycopg

    with psycopg.connect(database_url, autocommit=True) as conn:
        return conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
        ).fetchone()[0]


def test_make_run_holds_no_more_database_connections_than_live_requests(
    subprocess_env, database_url
):
    """The development server runs a thread per request; each thread's persistent database
    connection outlived it, and after some hundred requests the database refused others."""
    with make_run({**subprocess_env, "REDIS_URL": subprocess_env["CIAM_TEST_REDIS_URL"]}) as run:
        assert run.get("contoso.localhost", "/accounts/login/").status_code == 200
        before = _connections_to(database_url)
        for number in range(300):  # a new TCP connection each time: a new server thread each
            assert run.get("contoso.localhost", "/accounts/login/").status_code == 200
            token = requests.post(
                f"http://127.0.0.1:{run.port}/o/token/",
                data={"grant_type": "client_credentials", "client_id": f"nobody-{number}"},
                headers={"Host": f"contoso.localhost:{run.port}"},
                timeout=10,
            )
            assert token.status_code == 401
        assert _connections_to(database_url) - before <= 2


def test_make_run_without_postgres_or_redis_uses_embedded_postgres_and_inline_tasks(tmp_path):
    """No reachable PostgreSQL or Redis: an embedded PostgreSQL under the data directory, and
    background tasks run in-process (and the launcher says so)."""
    hidden = {
        "DATABASE_URL",
        "CIAM_TESTING",
        "CIAM_TEST_REDIS_URL",
        "CIAM_TEST_BROKER_URL",
        "PYTEST_XDIST_WORKER",
    }
    environment = {key: value for key, value in os.environ.items() if key not in hidden}
    environment.update(
        EMBEDDED_POSTGRES="1", EMBEDDED_POSTGRES_DIR=str(tmp_path / "pg"), REDIS_URL=""
    )
    with make_run(environment) as run:
        tenant = run.get("fabrikam.localhost")
        assert tenant.status_code == 200
        assert "Welcome to Fabrikam" in tenant.text
        ready = run.get("localhost", "/readyz").json()
        assert ready["ready"] is True
        assert ready["checks"]["redis"]["detail"] == "not configured (tasks run in-process)"
    assert "starting an embedded one" in run.output
    assert "No Redis: background tasks (emails) run in-process" in run.output
