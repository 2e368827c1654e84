"""`make run`: find or start PostgreSQL, find Redis (or run tasks in-process), migrate,
seed the demo tenants, then serve on PORT (8000) with Celery workers beside it."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable


def answers(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def celery_workers(name: str, schedule: Path | None = None) -> list[list[str]]:
    """The arguments of the Celery workers started beside the server (bench/fairness.py
    starts the same): the emails people wait for on a page have a worker of their own
    (README, "Background work"); the other takes invitations and bulk work, and runs beat
    (its schedule in `schedule` when given)."""
    beat = ["-B", *(["--schedule", str(schedule)] if schedule else [])]
    return [
        ["-Q", "interactive", "-n", f"interactive-{name}@%h", "--concurrency", "1"],
        ["-Q", "invitations,bulk", "-n", f"work-{name}@%h", "--concurrency", "2", *beat],
    ]


def database_url() -> str:
    if os.environ.get("DATABASE_URL"):
        return os.environ["DATABASE_URL"]
    if not os.environ.get("EMBEDDED_POSTGRES") and answers("127.0.0.1", 5432):
        ensure_database("host=127.0.0.1 port=5432 user=postgres dbname=postgres", "ciam")
        return "postgres://postgres@127.0.0.1:5432/ciam"
    import pgserver

    data_dir = Path(os.environ.get("EMBEDDED_POSTGRES_DIR", ROOT / ".data" / "pg"))
    print(f"No PostgreSQL on 127.0.0.1:5432: starting an embedded one under {data_dir}")
    # Stopped again when this launcher exits.
    server = pgserver.get_server(data_dir, cleanup_mode="stop")
    uri = server.get_uri("postgres")
    # Its own pg_dump renders the tenant template: one on PATH may be of an older major
    # version than this server, and pg_dump refuses to dump a newer server.
    os.environ.setdefault("PG_DUMP", str(Path(pgserver.__file__).parent / "pginstall/bin/pg_dump"))
    ensure_database(uri, "ciam")
    return server.get_uri("ciam")


def ensure_database(dsn: str, name: str) -> None:
    import psycopg

    with psycopg.connect(dsn, autocommit=True) as connection:
        exists = connection.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [name]
        ).fetchone()
        if not exists:
            connection.execute(f'CREATE DATABASE "{name}"')


def redis_url() -> str:
    if "REDIS_URL" in os.environ:
        url = os.environ["REDIS_URL"]
    else:
        url = "redis://127.0.0.1:6379/0" if answers("127.0.0.1", 6379) else ""
    if not url:
        print("No Redis: background tasks (emails) run in-process, synchronously.")
    return url


def main() -> int:
    port = os.environ.get("PORT", "8000")
    database = database_url()  # before the copy: an embedded server also sets PG_DUMP
    environment = dict(os.environ)
    environment.setdefault("DEBUG", "true")
    environment["DATABASE_URL"] = database
    environment["REDIS_URL"] = redis_url()
    environment.setdefault("PUBLIC_PORT", port)
    environment.setdefault("EMAIL_URL", "consolemail://")
    # The development server runs a thread per connection; persistent database connections
    # outlived their threads there (a server held 50 after some hundred requests, and the
    # database then refused others). Each request closes its own.
    environment.setdefault("CONN_MAX_AGE", "0")

    def manage(*args: str) -> None:
        subprocess.run([PYTHON, "manage.py", *args], cwd=ROOT, env=environment, check=True)

    manage("migrate_schemas", "-v", "0")
    print("Demo tenants:")
    manage("seed_demo")

    processes = []
    if environment["REDIS_URL"]:
        (ROOT / ".data").mkdir(exist_ok=True)  # beat keeps its schedule there
        # One schedule file per port: two launchers side by side do not share one.
        schedule = ROOT / ".data" / f"celerybeat-schedule-{port}"
        for arguments in celery_workers(str(port), schedule):
            processes.append(
                subprocess.Popen(
                    [PYTHON, "-m", "celery", "-A", "ciam", "worker", "-l", "warning", *arguments],
                    cwd=ROOT,
                    env=environment,
                    start_new_session=True,  # its pool (and beat) stop with it (stop below)
                )
            )
    server_command = [PYTHON, "manage.py", "runserver", f"0.0.0.0:{port}"]
    if os.environ.get("RUN_NO_RELOAD"):
        server_command.append("--noreload")
    processes.append(
        subprocess.Popen(server_command, cwd=ROOT, env=environment, start_new_session=True)
    )
    print(
        f"\n  Platform:         http://localhost:{port}/\n"
        f"  Operator console: http://localhost:{port}/operator/  (operator@localhost;\n"
        f"                    the first sign-in sets up an authenticator app: scan its QR code)\n"
        f"  Contoso console:  http://contoso.localhost:{port}/console/  (admin@contoso.example)\n"
        f"  Fabrikam console: http://fabrikam.localhost:{port}/console/  (admin@fabrikam.example)\n"
        f"  Demo password for every account: demo passphrase for testing\n",
        flush=True,
    )

    def stop(*_):
        # Each child leads its own process group: the signal reaches what it started too
        # (Celery's pool and beat, which would otherwise outlive it and keep our output open).
        for process in processes:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        return processes[-1].wait()
    finally:
        stop()
        for process in processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        for process in processes:  # members that ignored SIGTERM (a beat still starting)
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)


if __name__ == "__main__":
    sys.exit(main())
