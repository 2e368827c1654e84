"""Start the real server (or a Celery worker) as a subprocess for end-to-end tests."""

from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until_healthy(base_url: str, process: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}")
        try:
            if requests.get(f"{base_url}/healthz", timeout=1).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    raise RuntimeError("server did not become healthy in time")


def start_gunicorn(
    environment: dict,
    port: int,
    *extra_args: str,
    output: Path | None = None,
    public_port: int | None = None,
) -> subprocess.Popen:
    """gunicorn serving ciam.wsgi on loopback `port`, healthy; its stdout and stderr (the
    application's log lines) go to the file `output` when given. Links and token issuers name
    `public_port` (a reverse proxy's, the same for every server behind it), by default `port`."""
    stream = open(output, "ab") if output is not None else None  # noqa: SIM115
    process = subprocess.Popen(
        [
            sys.executable, "-m", "gunicorn", "ciam.wsgi", "--bind", f"127.0.0.1:{port}",
            "--workers", "1", "--threads", "4", "--log-level", "warning", *extra_args,
        ],
        cwd=ROOT,
        env={**environment, "PUBLIC_PORT": str(public_port or port)},
        stdout=stream,
        stderr=stream,
    )  # fmt: skip
    if stream is not None:
        stream.close()  # the server holds its own copy
    wait_until_healthy(f"http://127.0.0.1:{port}", process)
    return process


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def children(pid: int) -> list[int]:
    """The process ids of `pid`'s direct children (gunicorn's worker, Celery's pool)."""
    found: list[int] = []
    with contextlib.suppress(FileNotFoundError):
        for task in Path(f"/proc/{pid}/task").iterdir():
            with contextlib.suppress(FileNotFoundError):
                found.extend(int(child) for child in (task / "children").read_text().split())
    return found


def crash(process: subprocess.Popen) -> None:
    """Kill `process` and its children at once (SIGKILL: no graceful stop, as in a crash or
    the OOM killer), and reap it."""
    import os
    import signal

    pids = [process.pid, *children(process.pid)]
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    process.wait()


def start_celery_worker(
    environment: dict, *extra_args: str, timeout: float = 60
) -> subprocess.Popen:
    """A Celery worker (one process, as in production's smallest setup) that has said it is
    ready; `extra_args` are added to its command (e.g. `-Q interactive`)."""
    process = subprocess.Popen(
        [
            sys.executable, "-m", "celery", "-A", "ciam", "worker", "--pool", "prefork",
            "--concurrency", "1", "--loglevel", "info", "--without-gossip", "--without-mingle",
            "--include", "tests.celery_tasks", *extra_args,
        ],
        cwd=ROOT,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )  # fmt: skip
    deadline = time.monotonic() + timeout
    assert process.stdout is not None
    for line in process.stdout:
        if " ready." in line:
            break
        if time.monotonic() > deadline or process.poll() is not None:
            raise RuntimeError("Celery worker did not start")
    # Keep draining its output so the worker never blocks on a full pipe.
    threading.Thread(target=lambda: [None for _ in process.stdout], daemon=True).start()
    return process


@contextlib.contextmanager
def tenant_served(environment: dict, *, prefix: str, server_args: tuple[str, ...] = ()):
    """A new tenant (committed, unique slug) and a running server (gunicorn, with
    `server_args` added): yields the tenant, the server's base URL and the tenant's Host
    header. The tenant is deleted afterwards."""
    import uuid

    from tenants.models import Tenant
    from tenants.services import tenant_create, tenant_delete
    from tests.helpers import PASSWORD

    slug = f"{prefix}-{uuid.uuid4().hex[:8]}"
    tenant = tenant_create(
        name=prefix.title(), slug=slug, admin_email=f"a@{slug}.example", admin_password=PASSWORD
    )
    port = free_port()
    server = start_gunicorn(environment, port, *server_args)
    try:
        yield tenant, f"http://127.0.0.1:{port}", f"{slug}.localhost:{port}"
    finally:
        stop(server)
        if Tenant.objects.filter(slug=slug).exists():  # the test may have deleted it
            tenant_delete(tenant=tenant, confirm_slug=slug, actor=None)


def _wait_listening(process, port: int, name: str, log: Path) -> None:
    """Until `process` accepts connections on `port`; its log in the error if it never does."""
    deadline = time.monotonic() + 20
    while True:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return
        if process.poll() is not None or time.monotonic() > deadline:
            output = log.read_text() if log.exists() else ""
            raise RuntimeError(f"{name} did not start: {output}")
        time.sleep(0.1)


@contextlib.contextmanager
def pgbouncer(*, pool_size: int, server_port: int = 5432, port: int | None = None):
    """A real PgBouncer in transaction mode on a free port (or `port`), in front of the local
    PostgreSQL, with `pool_size` server connections per database: yields its port.

    PgBouncer refuses to run as root, so as root it runs as the postgres user (Debian's
    packages create it), from a folder that user can read.
    """
    import os
    import pwd
    import shutil
    import tempfile

    executable = shutil.which("pgbouncer") or "/usr/sbin/pgbouncer"
    folder = Path(tempfile.mkdtemp(prefix="pgbouncer-"))
    port = port or free_port()
    (folder / "pgbouncer.ini").write_text(
        "[databases]\n"
        f"* = host=127.0.0.1 port={server_port} user=postgres\n"
        "[pgbouncer]\n"
        f"listen_addr = 127.0.0.1\nlisten_port = {port}\nunix_socket_dir =\n"
        "auth_type = any\npool_mode = transaction\n"
        f"default_pool_size = {pool_size}\nmin_pool_size = 0\nreserve_pool_size = 0\n"
        "max_client_conn = 200\nserver_reset_query =\n"
        "ignore_startup_parameters = extra_float_digits,options\n"
        f"logfile = {folder / 'pgbouncer.log'}\n"
    )
    command = [executable, str(folder / "pgbouncer.ini")]
    if os.geteuid() == 0:
        user = pwd.getpwnam("postgres")
        os.chown(folder, user.pw_uid, user.pw_gid)
        os.chown(folder / "pgbouncer.ini", user.pw_uid, user.pw_gid)
        command = ["setpriv", f"--reuid={user.pw_uid}", f"--regid={user.pw_gid}",
                   "--clear-groups", *command]  # fmt: skip
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    try:
        _wait_listening(process, port, "PgBouncer", folder / "pgbouncer.log")
        yield port
    finally:
        stop(process)
        shutil.rmtree(folder, ignore_errors=True)


@contextlib.contextmanager
def nginx(upstream_ports: list[int], *, port: int | None = None):
    """A real nginx (Debian's package) on a free loopback port (or `port`), balancing
    round-robin over web servers on `upstream_ports` as production's reverse proxy does
    (deploy/nginx): it keeps the Host header, appends the client to X-Forwarded-For, and names
    the server that answered in `X-Upstream`. Yields its port."""
    import os
    import shutil
    import tempfile

    executable = shutil.which("nginx") or "/usr/sbin/nginx"
    folder = Path(tempfile.mkdtemp(prefix="nginx-"))
    port = port or free_port()
    servers = "".join(f"    server 127.0.0.1:{upstream};\n" for upstream in upstream_ports)
    temp_paths = "".join(
        f"  {kind}_temp_path {folder / kind};\n"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    (folder / "nginx.conf").write_text(
        ("user root root;\n" if os.geteuid() == 0 else "")
        + f"worker_processes 1;\nerror_log {folder / 'error.log'};\npid {folder / 'nginx.pid'};\n"
        "events { worker_connections 256; }\n"
        "http {\n  access_log off;\n" + temp_paths
        + f"  upstream ciam {{\n{servers}  }}\n"
        f"  server {{\n    listen 127.0.0.1:{port};\n"
        "    location / {\n"
        "      proxy_pass http://ciam;\n"
        "      proxy_set_header Host $http_host;\n"
        "      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;\n"
        "      proxy_set_header X-Request-ID $request_id;\n"
        "      proxy_next_upstream error timeout;\n"
        "      add_header X-Upstream $upstream_addr always;\n"
        "    }\n  }\n}\n"
    )  # fmt: skip
    process = subprocess.Popen(
        [executable, "-c", str(folder / "nginx.conf"), "-p", str(folder), "-g", "daemon off;"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )
    try:
        _wait_listening(process, port, "nginx", folder / "error.log")
        yield port
    finally:
        stop(process)
        shutil.rmtree(folder, ignore_errors=True)
