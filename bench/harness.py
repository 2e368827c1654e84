"""Shared helpers for the benchmarks under bench/ (benchmarks, not tests).

A benchmark script (`bench/<topic>.py`, run as `.venv/bin/python bench/<topic>.py`)
typically does:

    import harness

    with harness.bench_database("login") as database_url:   # fresh DB, migrated
        harness.django_setup(database_url)                  # Django in this process (seeding)
        ...seed data with services (tenant_create, ...)...
        with harness.server(database_url) as server:         # ONE gunicorn worker, core 0
            harness.pin_to_core(1)                            # the load generator: core 1
            floor = harness.measure_floor(server, host="acme.localhost")
            client = harness.Client(server.base_url, host="acme.localhost")
            result = harness.measure("GET /", lambda: client.get("/"), seconds=5)
            harness.print_table("Login", [result], floor=floor)

What the figures mean:
- The server is one gunicorn worker process pinned to core 0, so its requests per
  second are per core. It runs 4 threads (gthread), as production does: while one
  request waits for PostgreSQL another uses the core, so a single process is limited
  by its CPU, not by database round trips. `server CPU ms` is the worker's user+system CPU time per
  call read from /proc: the cost on the server, whatever the client does.
- PostgreSQL and Redis are moved to the load generator's core while the server runs (as
  with a database on its own machine), and restored afterwards.
- The client keeps its connection alive between requests, as browsers and OAuth libraries
  do.
- p50/p95/p99 are wall-clock latencies of single calls seen by the client
  (concurrency 1 unless asked otherwise), loopback only.
- The floor is GET /healthz measured in the same run against the same server:
  answered by a middleware before tenant lookup, with no I/O, it is what
  gunicorn + Django's handler cost on this machine. Comparing with it makes
  figures from different machines readable.

Loops are bounded by time and by a maximum number of calls. Databases are
named `<base>_bench_<topic>` (or `<base>_<topic>` when DATABASE_URL's name
already says "bench") and are dropped when the benchmark ends.
"""

from __future__ import annotations

import contextlib
import http.client
import os
import secrets
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode, urlsplit, urlunsplit

from requests.structures import CaseInsensitiveDict

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/ciam"
SERVER_CORE = 0
LOAD_CORE = 1
# Every measurement stops at whichever comes first: its duration or this many calls.
MAX_CALLS = 200_000


# Databases -------------------------------------------------------------------------------


def database_url(topic: str) -> str:
    """The URL of this benchmark's own database on the server DATABASE_URL points at."""
    parts = urlsplit(os.environ.get("DATABASE_URL", DEFAULT_DATABASE_URL))
    base = parts.path.lstrip("/") or "ciam"
    name = f"{base}_{topic}" if "bench" in base else f"{base}_bench_{topic}"
    return urlunsplit(parts._replace(path=f"/{name}"))


def _database_name(url: str) -> str:
    name = urlsplit(url).path.lstrip("/")
    # Never touch the development database or anyone's test database.
    if "bench" not in name or name.startswith("test_"):
        raise ValueError(f"refusing to create or drop {name!r}: not a benchmark database")
    return name


def _maintenance_connection(url: str):
    import psycopg

    parts = urlsplit(url)
    return psycopg.connect(
        urlunsplit(parts._replace(path="/postgres", query="")),
        autocommit=True,
    )


def database_create(url: str) -> None:
    """Create the database of `url` empty (dropping a leftover from an interrupted run)."""
    name = _database_name(url)
    with _maintenance_connection(url) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}"')


def database_drop(url: str) -> None:
    name = _database_name(url)
    with _maintenance_connection(url) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def server_environment(url: str, **extra: str) -> dict[str, str]:
    """Production-like settings (DEBUG off, real secret) served over plain http on loopback."""
    environment = {
        key: value
        for key, value in os.environ.items()
        if key not in {"CIAM_TESTING", "DEBUG", "PYTEST_XDIST_WORKER", "DJANGO_SETTINGS_MODULE"}
    }
    environment.update(
        DATABASE_URL=url,
        DJANGO_SETTINGS_MODULE="ciam.settings",
        SECRET_KEY=_run_secret,
        REDIS_URL=os.environ.get("CIAM_TEST_REDIS_URL")
        or os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"),
        # Each run gets its own cache keys: nothing leaks between runs or into anyone's cache.
        CACHE_KEY_PREFIX=f"bench-{_run_id}",
        PUBLIC_SCHEME="http",
        SECURE_SSL_REDIRECT="false",
        LOG_LEVEL="WARNING",
        EMAIL_URL="dummymail://",
    )
    environment.update(extra)
    return environment


_run_secret = secrets.token_urlsafe(50)
_run_id = secrets.token_hex(4)


def run_id() -> str:
    """This run's short random id (cache keys, names that must not meet an earlier run's)."""
    return _run_id


def settings_overlay(directory: Path, module: str, body: str) -> dict[str, str]:
    """Environment for a server or command running `ciam.settings` plus `body`.

    Writes `<directory>/<module>.py` (`from ciam.settings import *` then `body`) and returns
    DJANGO_SETTINGS_MODULE and PYTHONPATH, to pass to `server(...)` or `migrate(...)`.
    Modules the overlay names (URLconfs, migration packages) go in the same directory.
    """
    (Path(directory) / f"{module}.py").write_text(
        "from ciam.settings import *  # noqa: F403\n\n" + body
    )
    return {"DJANGO_SETTINGS_MODULE": module, "PYTHONPATH": str(directory)}


def migrate(url: str, **environment: str) -> float:
    """Run `manage.py migrate_schemas` on `url` in a subprocess; returns the seconds it took."""
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "manage.py", "migrate_schemas", "--noinput", "-v", "0"],
        cwd=ROOT,
        env=server_environment(url, **environment),
        check=True,
    )
    return time.perf_counter() - started


@contextlib.contextmanager
def bench_database(topic: str, *, migrated: bool = True, keep: bool = False) -> Iterator[str]:
    """A fresh database for this benchmark (migrated unless told not to), dropped afterwards.

    With `keep`, an existing database of the same name is used as it is and left in place
    afterwards (a long run fills it once; later runs measure on it)."""
    url = database_url(topic)
    if not (keep and database_exists(url)):
        database_create(url)
    try:
        if migrated:
            migrate(url)
        yield url
    finally:
        _close_django_connections()
        if not keep:
            database_drop(url)


def database_exists(url: str) -> bool:
    name = _database_name(url)
    with _maintenance_connection(url) as connection:
        found = connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        return found.fetchone() is not None


def django_setup(url: str) -> None:
    """Configure Django in this process on `url`, with the same settings as the server."""
    os.environ.update(server_environment(url))
    os.environ.pop("CIAM_TESTING", None)
    import django

    django.setup()


def _close_django_connections() -> None:
    if "django.db" in sys.modules:
        from django.db import connections

        connections.close_all()


# Server ------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Server:
    process: subprocess.Popen
    port: int

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def cpu_seconds(self) -> float:
        """User + system CPU time of the gunicorn master and its worker so far."""
        total = 0.0
        ticks = os.sysconf("SC_CLK_TCK")
        for pid in [self.process.pid, *_children(self.process.pid)]:
            with contextlib.suppress(FileNotFoundError, ProcessLookupError):
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                # Fields 14 and 15 of /proc/pid/stat (utime, stime), counted after the name.
                total += (int(fields[11]) + int(fields[12])) / ticks
        return total


def _children(pid: int) -> list[int]:
    found: list[int] = []
    with contextlib.suppress(FileNotFoundError):
        for task in Path(f"/proc/{pid}/task").iterdir():
            text = (task / "children").read_text().split()
            found.extend(int(child) for child in text)
    return found


def _service_pids() -> list[int]:
    """PostgreSQL and Redis processes on this machine (those this user may see)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            name = (entry / "comm").read_text().strip()
            if name in {"postgres", "redis-server"} or name.startswith("postgres:"):
                pids.append(int(entry.name))
    return pids


@contextlib.contextmanager
def services_on_load_core() -> Iterator[None]:
    """Move PostgreSQL and Redis (and the backends they fork later) to the load generator's
    core while the server runs, so that the server's core does the server's work only, as
    with a database on its own machine. Restored afterwards; skipped where not permitted."""
    moved: dict[int, set[int]] = {}
    for pid in _service_pids():
        with contextlib.suppress(OSError):
            before = os.sched_getaffinity(pid)
            os.sched_setaffinity(pid, {LOAD_CORE})
            moved[pid] = before
    try:
        yield
    finally:
        for pid in [*moved, *_service_pids()]:
            with contextlib.suppress(OSError):
                os.sched_setaffinity(pid, moved.get(pid, set(range(os.cpu_count() or 1))))


@contextlib.contextmanager
def server(url: str, *, core: int = SERVER_CORE, **environment: str) -> Iterator[Server]:
    """The real server: ONE gunicorn worker process (4 threads) on `url`, pinned to `core`, on
    loopback, with PostgreSQL and Redis moved to the other core while it runs."""
    with services_on_load_core(), _server(url, core=core, **environment) as running:
        yield running


@contextlib.contextmanager
def _server(url: str, *, core: int, **environment: str) -> Iterator[Server]:
    port = free_port()
    process = subprocess.Popen(
        [
            "taskset", "-c", str(core), sys.executable, "-m", "gunicorn", "ciam.wsgi",
            "--bind", f"127.0.0.1:{port}", "--workers", "1",
            "--worker-class", "gthread", "--threads", "4",
            "--backlog", "64", "--log-level", "warning",
        ],
        cwd=ROOT,
        env=server_environment(url, PUBLIC_PORT=str(port), **environment),
    )  # fmt: skip
    running = Server(process=process, port=port)
    try:
        _wait_until_healthy(running)
        yield running
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_until_healthy(running: Server, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if running.process.poll() is not None:
            raise RuntimeError(f"server exited with {running.process.returncode}")
        with contextlib.suppress(OSError, http.client.HTTPException):
            if Client(running.base_url).get("/healthz").status == 200:
                return
        time.sleep(0.1)
    raise RuntimeError("server did not become healthy in time")


def pin_to_core(core: int = LOAD_CORE) -> None:
    """Pin this process (the load generator) and the threads it starts later to `core`."""
    os.sched_setaffinity(0, {core})


# Client ------------------------------------------------------------------------------------


@dataclass
class Response:
    status: int
    headers: Mapping[str, str]
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")


@dataclass
class Client:
    """A small HTTP client for the load generator: an explicit Host header (tenant hosts do
    not resolve here), cookies kept whatever their Secure flag, redirects never followed.
    Like a browser or an OAuth library, it keeps its connection open between requests
    (gunicorn's gthread worker keeps it 2 s); `keep_alive=False` opens one per request.

    Not thread-safe: give each thread its own Client.
    """

    base_url: str
    host: str = "localhost"
    cookies: dict[str, str] = field(default_factory=dict)
    keep_alive: bool = True
    _connection: http.client.HTTPConnection | None = field(default=None, repr=False)

    def request(
        self,
        method: str,
        path: str,
        *,
        data: dict | None = None,
        headers: dict[str, str] | None = None,
        body: bytes | None = None,
    ) -> Response:
        all_headers = {"Host": self.host}
        if not self.keep_alive:
            all_headers["Connection"] = "close"
        if self.cookies:
            all_headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if data is not None:
            body = urlencode(data).encode()
            all_headers["Content-Type"] = "application/x-www-form-urlencoded"
        all_headers.update(headers or {})
        try:
            answer, payload = self._exchange(method, path, body, all_headers)
        except (http.client.HTTPException, ConnectionError):
            # The server closed an idle kept-alive connection: once more on a new one.
            self.close()
            answer, payload = self._exchange(method, path, body, all_headers)
        if answer.will_close or not self.keep_alive:
            self.close()
        for header in answer.headers.get_all("Set-Cookie") or []:
            cookie = SimpleCookie()
            cookie.load(header)
            for name, morsel in cookie.items():
                self.cookies[name] = morsel.value
        # Header names compared without case, as HTTP says (some servers send them lowercase).
        return Response(answer.status, CaseInsensitiveDict(answer.headers.items()), payload)

    def _exchange(self, method, path, body, headers):
        if self._connection is None:
            parts = urlsplit(self.base_url)
            self._connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
        self._connection.request(method, path, body=body, headers=headers)
        answer = self._connection.getresponse()
        return answer, answer.read()

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def get(self, path: str, **kwargs) -> Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs) -> Response:
        return self.request("POST", path, **kwargs)


# Measuring ---------------------------------------------------------------------------------


@dataclass
class Result:
    label: str
    calls: int
    errors: int
    seconds: float
    latencies: list[float]
    concurrency: int
    server_cpu: float | None = None

    @property
    def per_second(self) -> float:
        return self.calls / self.seconds if self.seconds else 0.0

    def percentile(self, share: float) -> float:
        """Latency in milliseconds at `share` (0-1) of the sorted calls."""
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        index = min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))
        return ordered[index] * 1000

    @property
    def server_cpu_ms(self) -> float | None:
        if self.server_cpu is None or not self.calls:
            return None
        return self.server_cpu / self.calls * 1000


def measure(
    label: str,
    call: Callable[[], object],
    *,
    seconds: float = 5.0,
    warmup: float = 0.5,
    concurrency: int = 1,
    server: Server | None = None,
    max_calls: int = MAX_CALLS,
) -> Result:
    """Call `call` repeatedly for `seconds` (after `warmup`) from `concurrency` threads.

    A call that raises counts as an error, as does one returning a Response whose status is
    500 or more. Give `server` to get the server's CPU time per call.
    """
    return measure_interleaved(
        [(label, call)], seconds=seconds, slices=1, warmup=warmup, concurrency=concurrency,
        server=server, max_calls=max_calls,
    )[0]  # fmt: skip


def measure_interleaved(
    entries: list[tuple[str, Callable[[], object]]],
    *,
    seconds: float = 5.0,
    slices: int = 5,
    warmup: float = 0.5,
    concurrency: int = 1,
    server: Server | None = None,
    max_calls: int = MAX_CALLS,
) -> list[Result]:
    """measure() for several kinds of call at once: each kind runs for `seconds` in all, in
    `slices` turns taken in rotation (A, B, C, A, B, C...), and its Result sums its turns.
    A shared machine changes speed over minutes; in turns, each kind meets the same changes,
    so the difference between two kinds says what the kinds cost, not when each ran."""
    for _label, call in entries:
        _run_for(call, warmup, concurrency, max_calls)
    totals = {label: ([], 0, 0.0, 0.0) for label, _call in entries}
    for _turn in range(slices):
        for label, call in entries:
            cpu_before = server.cpu_seconds() if server else 0.0
            started = time.perf_counter()
            latencies, errors = _run_for(call, seconds / slices, concurrency, max_calls // slices)
            elapsed = time.perf_counter() - started
            cpu = server.cpu_seconds() - cpu_before if server else 0.0
            kept, failed, spent, ran = totals[label]
            totals[label] = (kept + latencies, failed + errors, spent + cpu, ran + elapsed)
    return [
        Result(
            label=label,
            calls=len(latencies),
            errors=errors,
            seconds=ran,
            latencies=latencies,
            concurrency=concurrency,
            server_cpu=spent if server else None,
        )
        for label, (latencies, errors, spent, ran) in totals.items()
    ]


def _run_for(
    call: Callable[[], object], seconds: float, concurrency: int, max_calls: int
) -> tuple[list[float], int]:
    if seconds <= 0:
        return [], 0
    deadline = time.perf_counter() + seconds
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()

    def loop() -> None:
        mine: list[float] = []
        failed = 0
        budget = max_calls // concurrency
        while len(mine) + failed < budget:
            begun = time.perf_counter()
            if begun >= deadline:
                break
            try:
                outcome = call()
            except Exception:
                failed += 1
                continue
            if isinstance(outcome, Response) and outcome.status >= 500:
                failed += 1
                continue
            mine.append(time.perf_counter() - begun)
        with lock:
            latencies.extend(mine)
            errors[0] += failed

    threads = [threading.Thread(target=loop) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return latencies, errors[0]


def measure_floor(
    server: Server, *, host: str = "localhost", seconds: float = 3.0, concurrency: int = 1
) -> Result:
    """GET /healthz in this run: gunicorn + Django's handler with no application work."""
    client = Client(server.base_url, host=host)
    return measure(
        "floor: GET /healthz",
        lambda: client.get("/healthz"),
        seconds=seconds,
        concurrency=concurrency,
        server=server,
    )


def durations_summary(label: str, durations: list[float]) -> dict[str, str]:
    """p50/p95/max in milliseconds of a list of durations in seconds (for non-HTTP timings)."""
    ordered = sorted(durations)

    def at(share: float) -> float:
        return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))] * 1000

    return {
        "what": label,
        "n": str(len(ordered)),
        "p50 ms": f"{statistics.median(ordered) * 1000:.1f}",
        "p95 ms": f"{at(0.95):.1f}",
        "max ms": f"{ordered[-1] * 1000:.1f}",
    }


def add_load_options(parser, *, who: str, rounds_help: str) -> None:
    """--seconds, --concurrency and --rounds, the options every load benchmark takes."""
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument(
        "--concurrency",
        type=int,
        default=4,
        help=f"{who} at once; more than one keeps the single worker busy (its capacity)",
    )
    parser.add_argument("--rounds", type=int, default=3, help=rounds_help)


def median_index(results: list[Result]) -> int:
    """Index of the median round by rate (a shared machine changes speed over minutes: the
    verdict is on the median of interleaved rounds, not on one measurement)."""
    order = sorted(range(len(results)), key=lambda index: results[index].per_second)
    return order[len(order) // 2]


# Reporting ---------------------------------------------------------------------------------


def markdown_table(rows: list[dict[str, str]]) -> str:
    if not rows:
        return ""
    columns = list(rows[0])
    lines = [
        "| " + " | ".join(columns) + " |",
        "|" + "|".join("---" for _ in columns) + "|",
    ]
    lines += ["| " + " | ".join(str(row.get(c, "")) for c in columns) + " |" for row in rows]
    return "\n".join(lines)


def print_table(title: str, results: list[Result], *, floor: Result | None = None) -> None:
    """Print results as a markdown table, each next to the floor measured in the same run."""
    rows = []
    for result in [*([floor] if floor else []), *results]:
        cpu = result.server_cpu_ms
        row = {
            "what": result.label,
            "calls": str(result.calls),
            "errors": str(result.errors),
            "conc.": str(result.concurrency),
            "req/s (1 core)": f"{result.per_second:.0f}",
            "p50 ms": f"{result.percentile(0.50):.2f}",
            "p95 ms": f"{result.percentile(0.95):.2f}",
            "p99 ms": f"{result.percentile(0.99):.2f}",
            "server CPU ms/call": f"{cpu:.3f}" if cpu is not None else "",
        }
        if floor:
            row["vs floor p50"] = f"{result.percentile(0.5) / floor.percentile(0.5):.1f}x"
        rows.append(row)
    print(f"\n### {title}\n")
    print(markdown_table(rows))
    print(f"\n{machine_line()}\n", flush=True)


def machine_line() -> str:
    """Date and machine, to paste next to the figures."""
    model = ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return (
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {os.cpu_count()} cores"
        f"{', ' + model if model else ''}, Python {sys.version.split()[0]}; server: one gunicorn "
        f"worker process (gthread, 4 threads) on core {SERVER_CORE}, load generator on core "
        f"{LOAD_CORE}"
    )
