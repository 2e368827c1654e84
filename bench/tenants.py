"""Tenants benchmark: provisioning, migrate_schemas over many tenants, routing cost.

    .venv/bin/python bench/tenants.py                 # the full run (1,000 tenants, ~10 min)
    .venv/bin/python bench/tenants.py --tenants 200   # a quicker look

Prints markdown tables:
1. time to provision one tenant (`tenant_create`, admin password hashing included) when
   0, 100 and 1,000 tenants already exist, with a spare schema ready (the normal case:
   a background task refills them, here done untimed between creations) and without one
   (the template script runs). Target: p95 <= 200 ms at 1,000 and growing less than
   10 % from the first level to the last;
2. `manage.py migrate_schemas` over all tenants with nothing to do (target <= 5 s) and with
   one additive migration (a nullable column on the user table of every schema; target
   <= 60 s). The additive migration is a temporary migration module that exists only in
   this benchmark's settings overlay; the code's own migrations are untouched;
3. the cost of tenant routing per request: a trivial page on a tenant host, the same page
   on the platform host and on a server without the tenant middleware, plus stock
   django-tenants for reference. Target < 0.2 ms;
4. at each level, the time of each beat task's "which tenants have work" query, read from
   the public work index (tenants/work.py) with every tenant holding a row (an email sent
   a minute ago, not due yet) and 1 % of them with work of every kind due; the nightly
   tasks' read of the public tenant table; /readyz's migrations check; and, for reference,
   the former discovery (one UNION ALL over the outbox of 500 schemas at a time). Target:
   flat from level to level;
5. at each level, the memory of one database connection after it served requests in 100,
   1,000 and 10,000 different tenants (as many as exist): this process's Django connection
   answers each tenant's sign-in page and a token request (unknown client) through the
   real URLconf and middleware (Django's test client, which keeps the connection across
   requests as a server thread does within CONN_MAX_AGE), then reads its own backend's
   memory contexts (pg_backend_memory_contexts: all, and CacheMemoryContext where the
   relcache and catcache live) and the backend's private memory from
   /proc/<pid>/smaps_rollup where readable. Target: < 100 MB after every tenant, or
   connections recycled before (the settings' CONN_MAX_AGE bound is printed);
6. at each level, the catalog: pg_class and pg_attribute rows and sizes (indexes
   included) and the time of `VACUUM (ANALYZE)` of each;
7. (`bound`, at the top level) the same visits through the real server, one worker with 4
   threads, for 1,000 tenants: the largest private memory of its PostgreSQL backends and
   the connections it opened, with DATABASE_TENANTS_PER_CONNECTION at its default and off.

Levels: 0, 100, 1,000, 5,000 and --tenants (those below it), or --levels. With
--keep-database a long run fills the database once and later runs (--levels) measure on it.

The tenants that only fill the database to 100 and 1,000 are created in bulk (same
template script, no administrator) on two connections; the measured ones go through
`tenant_create`.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import harness

PASSWORD = "a long and unusual passphrase"
TRIVIAL_PATH = "/bench/trivial/"
ROUTING_ROUNDS = 5
PARTS = ["provisioning", "work", "memory", "catalog", "routing", "migrations", "bound"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tenants", type=int, default=1000, help="tenants at the top level")
    parser.add_argument("--creations", type=int, default=20, help="measured creations a level")
    parser.add_argument("--routing-seconds", type=float, default=1.5, help="per variant a round")
    parser.add_argument(
        "--parts",
        default=",".join(PARTS),
        help=f"comma-separated subset of {','.join(PARTS)}",
    )
    parser.add_argument(
        "--levels",
        help="comma-separated levels to measure (default: 0, 100, 1,000, 5,000 below --tenants)",
    )
    parser.add_argument(
        "--keep-database",
        action="store_true",
        help="reuse the benchmark database if it exists and leave it afterwards (drop it with "
        "DROP DATABASE ciam_bench_tenants)",
    )
    options = parser.parse_args()
    parts = set(options.parts.split(","))
    if parts - set(PARTS):
        parser.error(f"unknown parts: {', '.join(sorted(parts - set(PARTS)))}")
    levels = sorted({level for level in (0, 100, 1000, 5000) if level < options.tenants})
    levels.append(options.tenants)
    if options.levels:
        levels = sorted(
            int(level.replace(",", "").replace("_", "")) for level in options.levels.split(",")
        )

    with (
        harness.bench_database("tenants", keep=options.keep_database) as url,
        tempfile.TemporaryDirectory() as overlay,
    ):
        harness.django_setup(url)
        overlay_directory = Path(overlay)
        collected: dict[str, list[dict[str, str]]] = {"work": [], "memory": [], "catalog": []}
        measures = {"work": work_discovery, "memory": connection_memory, "catalog": catalog}
        titles = {
            "work": "Which tenants have work: each beat task's discovery",
            "memory": "Memory of one database connection after visiting tenants",
            "catalog": "Catalog size and VACUUM time",
        }

        def at_level(level: int) -> None:
            for part, measure in measures.items():
                if part not in parts:
                    continue
                rows = measure(level)
                collected[part].extend(rows)
                # Each level as soon as it is measured: a long run stopped early keeps them.
                print(f"\n({part} at {level:,} tenants)\n", flush=True)
                print(harness.markdown_table(rows), flush=True)

        if "provisioning" in parts:
            provisioning(levels, options.creations, at_level=at_level)
        else:
            for level in levels:
                tenants_fill_to(level)
                at_level(level)
        for part, rows in collected.items():
            if rows:
                print(f"\n### {titles[part]}\n")
                print(harness.markdown_table(rows), flush=True)
                if part == "memory":
                    print(f"\n{_connection_bound(rows)}", flush=True)
        if "routing" in parts:
            routing(url, overlay_directory, options.routing_seconds)
        if "bound" in parts:
            bound_through_server(url)
        if "migrations" in parts:
            migrations(url, overlay_directory)
        print(f"\n{harness.machine_line()}\n", flush=True)


# Provisioning ------------------------------------------------------------------------------


def tenant_count() -> int:
    from tenants.models import Tenant

    return Tenant.objects.count()


def tenants_fill_to(count: int) -> None:
    """Bulk-create plain tenants (template schema, primary domain) until `count` exist."""
    missing = count - tenant_count()
    if missing <= 0:
        return
    started = time.perf_counter()
    start = tenant_count()
    numbers = list(range(start, start + missing))
    halves = [numbers[0::2], numbers[1::2]]
    threads = [threading.Thread(target=_fill, args=(half,)) for half in halves]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    print(f"(filled to {tenant_count():,} tenants in {elapsed:.0f} s)", file=sys.stderr)
    # What autovacuum does after so many inserts (some development servers run without it):
    # the work-index queries are planned on the tenant table's real size.
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE tenants_tenant, tenants_domain, tenants_tenantwork")


def _fill(numbers: list[int], batch: int = 1) -> None:
    # One schema a transaction: each creation takes a lock on each of its ~240 relations,
    # and PostgreSQL's shared lock table (max_locks_per_transaction x max_connections, 6,400
    # by default) is shared with everything else on the server.
    from django.db import connection, transaction

    from tenants.models import Domain, Tenant
    from tenants.provisioning import schema_create_from_template
    from tenants.services import schema_name_for

    try:
        for first in range(0, len(numbers), batch):
            with transaction.atomic():
                for number in numbers[first : first + batch]:
                    slug = f"filler-{number:05d}"
                    tenant = Tenant.objects.create(
                        name=f"Filler {number}", slug=slug, schema_name=schema_name_for(slug)
                    )
                    Domain.objects.create(
                        domain=tenant.primary_host, tenant=tenant, is_primary=True, is_verified=True
                    )
                    schema_create_from_template(tenant.schema_name, spare_defaults=False)
                    connection.set_schema_to_public()
    finally:
        connection.close()


def provisioning(levels: list[int], creations: int, *, at_level=None) -> None:
    from tenants import provisioning as fast

    # A Celery worker refills the spare schemas after each creation; here another process
    # refills them between creations, untimed (its catalog invalidations reach this
    # process's connection as a worker's reach a web server's).
    fast._spare_schemas_refill_later = lambda: None
    phases = _phase_timers()
    rows, phase_rows = [], []
    for level in levels:
        tenants_fill_to(level)
        if at_level:
            at_level(level)
        for spare in [True, False]:
            for durations in phases.values():
                durations.clear()
            durations = provisioning_durations(level, creations, spare=spare)
            how = "a spare schema ready" if spare else "no spare (template script)"
            rows.append(harness.durations_summary(f"{level:,} tenants, {how}", durations))
            phase_row = {"tenants": f"{level:,}", "schema from": "spare" if spare else "script"}
            timed = [0.0] * len(durations)
            for phase, spent in phases.items():
                phase_row[f"{phase} p50 ms"] = f"{statistics.median(spent) * 1000:.1f}"
                if phase in PHASES_ON_ANOTHER_THREAD:
                    continue  # overlaps the others: not part of the rest's sum
                timed = [total + one for total, one in zip(timed, spent, strict=True)]
            rest = [whole - part for whole, part in zip(durations, timed, strict=True)]
            phase_row["rest p50 ms"] = f"{statistics.median(rest) * 1000:.1f}"
            phase_rows.append(phase_row)
            print(f"(provisioning) {harness.markdown_table([rows[-1]])}", flush=True)
    print("\n### Provisioning one tenant (tenant_create)\n")
    print(harness.markdown_table(rows))
    print(
        "\nWhere the time goes (medians; the password hash runs on its own thread from the "
        "start, beside the rest; checks = the values' checks, password strength included; "
        "rest = rows, audit, commit):\n"
    )
    print(harness.markdown_table(phase_rows))


# tenant_create hashes the administrator's password on another thread while it checks the
# values and writes everything else: that phase overlaps the others.
PHASES_ON_ANOTHER_THREAD = {"password hash"}


def _phase_timers() -> dict[str, list[float]]:
    """Time the parts of tenant_create by wrapping them in this process only: the checks,
    the schema script, the administrator's password hash and each TENANT_DEFAULTS hook."""
    import importlib

    from django.conf import settings

    from accounts.sign_in.hasher import TunedArgon2PasswordHasher
    from tenants import services

    phases: dict[str, list[float]] = {}

    def timed(name, function):
        spent = phases.setdefault(name, [])

        def wrapper(*args, **kwargs):
            started = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                spent.append(time.perf_counter() - started)

        return wrapper

    services.tenant_create_problems = timed("checks", services.tenant_create_problems)
    services.schema_create_from_template = timed("schema", services.schema_create_from_template)
    TunedArgon2PasswordHasher.encode = timed("password hash", TunedArgon2PasswordHasher.encode)
    for dotted in settings.TENANT_DEFAULTS:
        module_name, name = dotted.rsplit(".", 1)
        module = importlib.import_module(module_name)
        setattr(module, name, timed(name, getattr(module, name)))
    return phases


def provisioning_durations(level: int, creations: int, *, spare: bool) -> list[float]:
    from django.db import connection

    from tenants.provisioning import spare_schemas
    from tenants.services import tenant_create

    durations = []
    with connection.cursor() as cursor:
        # Spares left by an earlier run on a kept database hold keys sealed under that run's
        # secret: the creation would make a new key, a cost the normal case does not pay.
        for name in spare_schemas():
            cursor.execute(f'DROP SCHEMA "{name}" CASCADE')
    refiller = SpareRefiller() if spare else None
    for index in range(creations):
        if refiller:
            refiller.fill()
        # The run's id: a kept database (--keep-database) holds earlier runs' tenants.
        slug = f"measured-{harness.run_id()}-{level}-{index}-{'spare' if spare else 'script'}"
        started = time.perf_counter()
        tenant_create(
            name=f"Measured {level} {index}",
            slug=slug,
            admin_email=f"admin@{slug}.example",
            admin_password=PASSWORD,
        )
        durations.append(time.perf_counter() - started)
        connection.set_schema_to_public()
    if refiller:
        refiller.stop()
    return durations


class SpareRefiller:
    """tenants.provisioning.spare_schemas_fill in its own process and connection, as the
    Celery worker runs it after each creation in production."""

    # The environment is this process's (harness.django_setup): same database, same secret.
    SCRIPT = (
        "import sys; sys.path.insert(0, sys.argv[1]); import django; django.setup(); "
        "from tenants.provisioning import spare_schemas_fill\n"
        "for _line in sys.stdin:\n"
        "    print(spare_schemas_fill(), flush=True)\n"
    )

    def __init__(self):
        self.process = subprocess.Popen(
            [sys.executable, "-c", self.SCRIPT, str(harness.ROOT)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )

    def fill(self) -> None:
        self.process.stdin.write("fill\n")
        self.process.stdin.flush()
        if not self.process.stdout.readline():
            raise RuntimeError("the spare refill process ended")

    def stop(self) -> None:
        self.process.stdin.close()
        self.process.wait(timeout=60)


# Work discovery ----------------------------------------------------------------------------

WORK_ROUNDS = 20


def work_discovery(level: int) -> list[dict[str, str]]:
    """Fill the public work index as a busy platform would hold it, then time each beat
    task's discovery (median and worst of WORK_ROUNDS)."""
    from django.db import connection
    from django.utils import timezone

    from tenants.migration_executor import migration_fingerprint, tenants_recorded_behind
    from tenants.models import TenantWork
    from tenants.selectors import active_tenants_each
    from tenants.work import tenants_with_work_due

    tenants = tenant_count()
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM tenants_tenantwork")
        # Every tenant sent an email a minute ago (its relay row is not due yet)...
        cursor.execute(
            "INSERT INTO tenants_tenantwork (tenant_id, kind, due_at) "
            "SELECT id, %s, now() + interval '1 minute' FROM tenants_tenant "
            "WHERE schema_name <> 'public'",
            [TenantWork.Kind.OUTBOX_RELAY],
        )
        # ... and one in a hundred has work of every kind due now.
        for kind in TenantWork.Kind.values:
            cursor.execute(
                "INSERT INTO tenants_tenantwork (tenant_id, kind, due_at) "
                "SELECT id, %s, now() - interval '1 second' FROM tenants_tenant "
                "WHERE schema_name <> 'public' AND id %% 100 = 0 "
                "ON CONFLICT (tenant_id, kind) DO UPDATE SET due_at = EXCLUDED.due_at",
                [kind],
            )
        cursor.execute("ANALYZE tenants_tenantwork")

    def timed(label: str, call, note: str = "") -> dict[str, str]:
        durations, found = [], 0
        for _ in range(WORK_ROUNDS):
            started = time.perf_counter()
            found = call()
            durations.append(time.perf_counter() - started)
        row = harness.durations_summary(label, durations)
        return {"tenants": f"{tenants:,}", **row, "tenants found": f"{found:,}", "note": note}

    def server_ms(kind: str) -> str:
        """PostgreSQL's own planning + execution time of the discovery's two statements (the
        due rows on the index, their tenants by key; EXPLAIN ANALYZE): what the machine's
        load does not blur as much as the round trip."""
        import re

        from tenants.models import Tenant

        due = TenantWork.objects.filter(kind=kind, due_at__lte=timezone.now()).order_by(
            "due_at", "tenant_id"
        )[:1000]
        ids = list(due.values_list("tenant_id", flat=True))
        plans = [
            due.values_list("due_at", "tenant_id").explain(analyze=True),
            Tenant.objects.filter(pk__in=ids, status="active").explain(analyze=True),
        ]
        spent = [
            float(value)
            for plan in plans
            for value in re.findall(r"(?:Planning|Execution) Time: ([\d.]+)", plan)
        ]
        return f"server {sum(spent):.2f} ms (EXPLAIN ANALYZE)"

    now = timezone.now()
    rows = [
        timed(
            f"{kind} (index)",
            lambda kind=kind: len(tenants_with_work_due(kind, now=timezone.now())),
            note=server_ms(kind),
        )
        for kind in TenantWork.Kind.values
    ]
    rows.append(
        timed(
            "nightly roll-up / prune: active tenants (public table, 500 a query)",
            lambda: sum(1 for _ in active_tenants_each()),
        )
    )
    fingerprint = migration_fingerprint()  # the code's: computed once a process
    rows.append(
        timed(
            "/readyz migrations check (public record)",
            lambda: tenants_recorded_behind(fingerprint) * 0,
        )
    )
    rows.append(_former_discovery(tenants, now))
    return rows


def _former_discovery(tenants: int, now) -> dict[str, str]:
    """The discovery before the index, for reference: every active schema's outbox asked in
    one UNION ALL per 500 schemas (what tenants.selectors.active_tenant_schemas_where did)."""
    from django.db import connection

    from emails.services import OUTBOX_STALE_AFTER

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT schema_name FROM tenants_tenant WHERE status = 'active' "
            "AND schema_name <> 'public' ORDER BY id"
        )
        schemas = [row[0] for row in cursor.fetchall()]
    durations, found = [], 0
    for _ in range(3):
        started = time.perf_counter()
        found = 0
        with connection.cursor() as cursor:
            for first in range(0, len(schemas), 500):
                parts = [
                    f'SELECT %s WHERE EXISTS (SELECT 1 FROM "{name}".guests_outboxemail '
                    "WHERE status = 'queued' AND queued_at <= %s)"
                    for name in schemas[first : first + 500]
                ]
                params = [
                    value
                    for name in schemas[first : first + 500]
                    for value in (name, now - OUTBOX_STALE_AFTER)
                ]
                if parts:
                    cursor.execute(" UNION ALL ".join(parts), params)
                    found += len(cursor.fetchall())
        durations.append(time.perf_counter() - started)
    row = harness.durations_summary(
        "former outbox discovery (UNION ALL, 500 schemas a query)", durations
    )
    return {"tenants": f"{tenants:,}", **row, "tenants found": f"{found:,}", "note": "reference"}


# Connection memory -------------------------------------------------------------------------

VISITS = (100, 1000, 10_000)
MEMORY_GOAL_MB = 100


def connection_memory(level: int) -> list[dict[str, str]]:
    """A fresh connection serves requests in 100, 1,000 then 10,000 tenants (as many as
    exist), the way a server thread does; its backend's memory after each step."""
    import logging

    from django.db import connection
    from django.test import Client

    from tenants.models import Tenant

    tenants = list(Tenant.objects.exclude(schema_name="public").order_by("id")[: max(VISITS)])
    connection.close()
    client = Client()  # keeps this thread's connection between requests, as a server thread
    # A request first: the connection exists, with Django's start-up queries done.
    client.get("/healthz", HTTP_HOST="localhost")
    connection.ensure_connection()
    pid = _backend_pid()
    rows = [_memory_row(level, 0, pid, 0.0)]
    visited, elapsed = 0, 0.0
    requests_log = logging.getLogger("django.request")
    level_before = requests_log.level
    requests_log.setLevel(logging.ERROR)  # each token request's 401 is logged as a warning
    try:
        for target in sorted({min(count, len(tenants)) for count in VISITS} - {0}):
            started = time.perf_counter()
            for tenant in tenants[visited:target]:
                _visit(client, tenant)
            elapsed += time.perf_counter() - started
            visited = target
            rows.append(_memory_row(level, visited, pid, elapsed))
    finally:
        requests_log.setLevel(level_before)
        connection.close()
    return rows


def _visit(client, tenant) -> None:
    """What a sign-in starts with on a tenant host: the sign-in page, a token request (an
    unknown client: the application lookup, answered 401), and the user lookups of a
    password sign-in (by email) and of a signed-in request (by id), in the tenant's schema."""
    from django.contrib.auth import get_user_model
    from django.db import connection

    from accounts.sign_in.backend import user_by_pk

    host = tenant.primary_host
    page = client.get("/accounts/login/", HTTP_HOST=host)
    token = client.post(
        "/o/token/",
        {"grant_type": "client_credentials", "client_id": "bench", "client_secret": "bench"},
        HTTP_HOST=host,
    )
    if page.status_code != 200 or token.status_code not in {400, 401}:
        raise SystemExit(f"{host}: sign-in page {page.status_code}, token {token.status_code}")
    connection.set_tenant(tenant)
    get_user_model().objects.with_email(f"someone@{host}").first()
    user_by_pk(1)
    connection.set_schema_to_public()


def _backend_pid() -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


def _memory_row(level: int, visited: int, pid: int, seconds: float) -> dict[str, str]:
    from django.db import connection

    if _backend_pid() != pid:
        raise SystemExit("the connection was replaced while visiting tenants")
    with connection.cursor() as cursor:
        cursor.execute(
            # Allocated blocks (what the process holds; they grow in blocks of up to 8 MB)
            # and the bytes in use in them.
            "SELECT sum(total_bytes), sum(total_bytes - free_bytes), "
            "sum(total_bytes) FILTER (WHERE name = 'CacheMemoryContext' "
            "OR parent = 'CacheMemoryContext') "
            "FROM pg_backend_memory_contexts"
        )
        total, used, cache = cursor.fetchone()
    private = _private_mb(pid)
    megabyte = 1024 * 1024
    return {
        "tenants": f"{level:,}",
        "tenants visited": f"{visited:,}",
        "backend contexts allocated MB": f"{total / megabyte:.1f}",
        "in use MB": f"{used / megabyte:.1f}",
        "of which CacheMemoryContext MB": f"{(cache or 0) / megabyte:.1f}",
        "backend private MB (/proc)": private,
        "visiting s": f"{seconds:.1f}",
        "target": f"< {MEMORY_GOAL_MB}" if visited else "",
    }


def _private_mb(pid: int) -> str:
    """The backend process's anonymous (private heap) memory: its RSS less the shared
    buffers it mapped. Unreadable when PostgreSQL runs as another user on another host."""
    try:
        text = Path(f"/proc/{pid}/smaps_rollup").read_text()
    except OSError:
        return "n/a"
    fields = dict(line.split(":", 1) for line in text.splitlines()[1:] if ":" in line)
    kilobytes = int(fields.get("Anonymous", " 0 kB").split()[0])
    return f"{kilobytes / 1024:.1f}"


BOUND_VISITS = 1000


def bound_through_server(url: str) -> None:
    """The bound at work in the real server: one gunicorn worker (4 threads) answers the
    sign-in page and a token request of each of 1,000 tenants in turn, with
    DATABASE_TENANTS_PER_CONNECTION at its default and then off. Every 25 tenants the
    private memory of each of the worker's PostgreSQL backends is read: the largest one
    seen, and how many connections were opened along the way."""
    from django.db import connection

    from tenants.models import Tenant

    hosts = [
        tenant.primary_host
        for tenant in Tenant.objects.exclude(schema_name="public").order_by("id")[:BOUND_VISITS]
    ]
    rows = []
    for bound in ("200", "0"):
        with harness.server(
            url, DATABASE_TENANTS_PER_CONNECTION=bound, LOG_LEVEL="ERROR"
        ) as server:
            harness.pin_to_core(harness.LOAD_CORE)
            backends: set[int] = set()
            largest = 0.0
            started = time.perf_counter()
            for number, host in enumerate(hosts, start=1):
                client = harness.Client(server.base_url, host=host)
                page = client.get("/accounts/login/")
                token = client.post(
                    "/o/token/",
                    data={
                        "grant_type": "client_credentials",
                        "client_id": "bench",
                        "client_secret": "bench",
                    },
                )
                if page.status != 200 or token.status not in {400, 401}:
                    raise SystemExit(f"{host}: sign-in page {page.status}, token {token.status}")
                if number % 25 == 0 or number == len(hosts):
                    with connection.cursor() as cursor:
                        cursor.execute(
                            "SELECT pid FROM pg_stat_activity WHERE datname = "
                            "current_database() AND pid <> pg_backend_pid() "
                            "AND backend_type = 'client backend'"
                        )
                        pids = [pid for (pid,) in cursor.fetchall()]
                    backends.update(pids)
                    for pid in pids:
                        private = _private_mb(pid)
                        if private != "n/a":
                            largest = max(largest, float(private))
            seconds = time.perf_counter() - started
        rows.append(
            {
                "DATABASE_TENANTS_PER_CONNECTION": bound if bound != "0" else "0 (off)",
                "tenants visited": f"{len(hosts):,}",
                "connections opened": f"{len(backends)}",
                "largest backend private MB": f"{largest:.1f}",
                "seconds": f"{seconds:.0f}",
                "target": f"< {MEMORY_GOAL_MB}",
            }
        )
        print(f"(bound) {harness.markdown_table([rows[-1]])}", flush=True)
    print("\n### The connection bound in a real server (one worker, 4 threads)\n")
    print(harness.markdown_table(rows), flush=True)


def _connection_bound(rows: list[dict[str, str]]) -> str:
    """The bound the settings put on a connection's life, and what it means at the rate and
    growth measured on the last level: one thread serving a new tenant on every visit."""
    from django.conf import settings

    age = settings.DATABASES["default"].get("CONN_MAX_AGE")
    if age is None:
        return "CONN_MAX_AGE is None: connections are never recycled by age."
    if age == 0:
        return "CONN_MAX_AGE = 0: each request opens and closes its own connection."
    bound = (
        f"CONN_MAX_AGE = {age} s: a server thread's connection is closed at the end of its "
        f"first request after {age} s, so it serves at most {age} s of requests."
    )
    # The last step of the last level: its slope leaves out the one-off growth of the first
    # visits (public tables, Django's own), counted in the steps before.
    last, before = rows[-1], rows[-2] if len(rows) > 1 else rows[-1]
    tenants = int(last["tenants"].replace(",", ""))
    visited = int(last["tenants visited"].replace(",", ""))
    step = visited - int(before["tenants visited"].replace(",", ""))
    seconds = float(last["visiting s"])
    if last["tenants"] == before["tenants"] and step > 0 and seconds:
        reached = float(last["backend contexts allocated MB"])
        per_tenant = (reached - float(before["backend contexts allocated MB"])) / step
        within = min(tenants, round(visited / seconds * age))
        bound += (
            f" At this run's pace ({visited / seconds:.0f} tenants/s on one connection, "
            f"{per_tenant * 1024:.0f} KB more a tenant over the last step) that is up to "
            f"{within:,} tenants, about {reached + per_tenant * (within - visited):.0f} MB "
            f"(goal < {MEMORY_GOAL_MB} MB)."
        )
    return bound


# Catalog -----------------------------------------------------------------------------------


def catalog(level: int) -> list[dict[str, str]]:
    """pg_class and pg_attribute: rows, sizes (indexes included), VACUUM (ANALYZE) time."""
    from django.db import connection

    rows = []
    with connection.cursor() as cursor:
        for table in ["pg_class", "pg_attribute"]:
            name = f"pg_catalog.{table}"
            cursor.execute(
                f"SELECT count(*), pg_relation_size(%s), pg_indexes_size(%s), "
                f"pg_total_relation_size(%s) FROM {name}",
                [name, name, name],
            )
            count, heap, indexes, total = cursor.fetchone()
            started = time.perf_counter()
            cursor.execute(f"VACUUM (ANALYZE) {name}")
            vacuum = time.perf_counter() - started
            megabyte = 1024 * 1024
            rows.append(
                {
                    "tenants": f"{level:,}",
                    "catalog": table,
                    "rows": f"{count:,}",
                    "table MB": f"{heap / megabyte:.1f}",
                    "indexes MB": f"{indexes / megabyte:.1f}",
                    "total MB": f"{total / megabyte:.1f}",
                    "VACUUM (ANALYZE) s": f"{vacuum:.2f}",
                }
            )
    return rows


# Migrations --------------------------------------------------------------------------------


def migrations(url: str, overlay: Path) -> None:
    from django.db import connection

    schemas = tenant_count()
    rows = []
    noop = [harness.migrate(url) for _ in range(3)]
    rows.append(
        {
            "what": f"no-op migrate_schemas, {schemas:,} tenants (median of 3)",
            "seconds": f"{statistics.median(noop):.2f}",
            "target": "<= 5",
        }
    )
    startup = _django_startup_seconds(url)
    rows.append(
        {
            "what": "of which Python + Django start-up (manage.py check --help)",
            "seconds": f"{startup:.2f}",
            "target": "",
        }
    )

    environment = _additive_migration_overlay(overlay)
    rows.append(
        {
            "what": f"additive migration (nullable column), {schemas:,} tenants + public",
            "seconds": f"{harness.migrate(url, **environment):.2f}",
            "target": "<= 60",
        }
    )
    rows.append(
        {
            "what": "no-op migrate_schemas right after it",
            "seconds": f"{harness.migrate(url, **environment):.2f}",
            "target": "<= 5",
        }
    )
    print("\n### migrate_schemas\n")
    print(harness.markdown_table(rows))

    # The figures mean nothing unless every schema really got the column. Spare schemas
    # made after the migration have it too; they are not counted.
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE c.relname = 'accounts_user' AND a.attname = 'bench_note' "
            "AND NOT a.attisdropped AND NOT starts_with(n.nspname, 'spare_')"
        )
        with_column = cursor.fetchone()[0]
    expected = schemas + 2  # every tenant, the template and public
    print(f"\nbench_note column present in {with_column} of {expected} schemas")
    if with_column != expected:
        raise SystemExit("the additive migration missed schemas")


def _django_startup_seconds(url: str) -> float:
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "manage.py", "check", "--help"],
        cwd=harness.ROOT,
        env=harness.server_environment(url),
        check=True,
        capture_output=True,
    )
    return time.perf_counter() - started


def _additive_migration_overlay(overlay: Path) -> dict[str, str]:
    """Settings whose accounts migrations are the code's plus one adding a nullable column."""
    from django.db.migrations.loader import MigrationLoader

    package = overlay / "bench_accounts_migrations"
    shutil.copytree(harness.ROOT / "accounts" / "migrations", package)
    (leaf,) = MigrationLoader(None, ignore_no_migrations=True).graph.leaf_nodes("accounts")
    (package / "9999_bench_note.py").write_text(
        "from django.db import migrations, models\n\n\n"
        "class Migration(migrations.Migration):\n"
        f"    dependencies = [{leaf!r}]\n"
        "    operations = [\n"
        "        migrations.AddField('user', 'bench_note', models.TextField(null=True)),\n"
        "    ]\n"
    )
    return harness.settings_overlay(
        overlay,
        "bench_additive_settings",
        'MIGRATION_MODULES = {"accounts": "bench_accounts_migrations"}\n',
    )


# Routing -----------------------------------------------------------------------------------


def routing(url: str, overlay: Path, seconds: float) -> None:
    from tenants.models import Tenant

    tenant_host = Tenant.objects.order_by("-created_at").first().primary_host
    for urlconf, base in [
        ("bench_urls_tenant", "ciam.urls_tenant"),
        ("bench_urls_public", "ciam.urls_public"),
    ]:
        (overlay / f"{urlconf}.py").write_text(
            "from django.http import HttpResponse\n"
            "from django.urls import path\n\n"
            f"from {base} import handler404, handler500, urlpatterns as base\n\n\n"
            "def trivial(request):\n"
            "    return HttpResponse('ok', content_type='text/plain')\n\n\n"
            f"urlpatterns = [path({TRIVIAL_PATH[1:]!r}, trivial), *base]\n"
            "__all__ = ['handler404', 'handler500', 'urlpatterns']\n"
        )
    urls = 'ROOT_URLCONF = "bench_urls_tenant"\nPUBLIC_SCHEMA_URLCONF = "bench_urls_public"\n'
    ours = harness.settings_overlay(overlay, "bench_routing_ours", urls)
    without = harness.settings_overlay(
        overlay,
        "bench_routing_without",
        urls
        + 'MIDDLEWARE = [m for m in MIDDLEWARE if m != "tenants.middleware.TenantMiddleware"]\n',
    )
    stock = harness.settings_overlay(
        overlay,
        "bench_routing_stock",
        urls + 'MIDDLEWARE = ["django_tenants.middleware.main.TenantMainMiddleware" '
        'if m == "tenants.middleware.TenantMiddleware" else m for m in MIDDLEWARE]\n'
        'DATABASES["default"]["ENGINE"] = "django_tenants.postgresql_backend"\n',
    )
    with (
        harness.server(url, **ours) as ours_server,
        harness.server(url, **without) as without_server,
        harness.server(url, **stock) as stock_server,
    ):
        harness.pin_to_core(harness.LOAD_CORE)
        variants = [
            ("tenant host", ours_server, tenant_host),
            ("platform host", ours_server, "localhost"),
            ("no tenant middleware", without_server, tenant_host),
            ("stock django-tenants, tenant host", stock_server, tenant_host),
        ]
        for _, server, host in variants:
            answer = harness.Client(server.base_url, host=host).get(TRIVIAL_PATH)
            if answer.status != 200 or answer.body != b"ok":
                raise SystemExit(f"{host} on {server.base_url} answered {answer.status}")
        # Interleaved rounds: noise from anything else on the machine hits every variant (and
        # the floor) alike.
        collected: dict[str, list[harness.Result]] = {label: [] for label, _, _ in variants}
        floors = []
        for _ in range(ROUTING_ROUNDS):
            floors.append(harness.measure_floor(ours_server, host=tenant_host, seconds=seconds / 2))
            for label, server, host in variants:
                client = harness.Client(server.base_url, host=host)
                collected[label].append(
                    harness.measure(
                        f"GET {TRIVIAL_PATH}, {label}",
                        lambda client=client: client.get(TRIVIAL_PATH),
                        seconds=seconds,
                        warmup=0.2,
                        server=server,
                    )
                )
        results = {label: _merge(parts) for label, parts in collected.items()}
        floor = _merge(floors)
    harness.print_table("Routing: a trivial page", list(results.values()), floor=floor)
    base = results["no tenant middleware"]
    rows = []
    for label in ["tenant host", "platform host", "stock django-tenants, tenant host"]:
        result = results[label]
        rows.append(
            {
                "routing cost of": label,
                "p50 ms": f"{result.percentile(0.5) - base.percentile(0.5):+.3f}",
                "server CPU ms/request": f"{result.server_cpu_ms - base.server_cpu_ms:+.3f}",
                "target": "< 0.2" if label == "tenant host" else "",
            }
        )
    rows.append(_middleware_in_process(tenant_host))
    print("\n### Routing cost per request (difference with no tenant middleware)\n")
    print(harness.markdown_table(rows))


def _merge(parts: list[harness.Result]) -> harness.Result:
    return harness.Result(
        label=parts[0].label,
        calls=sum(p.calls for p in parts),
        errors=sum(p.errors for p in parts),
        seconds=sum(p.seconds for p in parts),
        latencies=[latency for p in parts for latency in p.latencies],
        concurrency=parts[0].concurrency,
        server_cpu=sum(p.server_cpu or 0.0 for p in parts),
    )


def _middleware_in_process(host: str, calls: int = 20_000) -> dict[str, str]:
    """TenantMiddleware alone around a view that does nothing, in this process."""
    from django.http import HttpResponse
    from django.test import RequestFactory

    from tenants.middleware import TenantMiddleware

    response = HttpResponse("ok")
    middleware = TenantMiddleware(lambda request: response)
    request = RequestFactory().get(TRIVIAL_PATH, HTTP_HOST=host)
    for _ in range(1000):
        middleware(request)
    started = time.perf_counter()
    for _ in range(calls):
        middleware(request)
    elapsed = time.perf_counter() - started
    return {
        "routing cost of": f"TenantMiddleware alone, in process ({calls:,} calls)",
        "p50 ms": "",
        "server CPU ms/request": f"{elapsed / calls * 1000:.4f}",
        "target": "< 0.2",
    }


if __name__ == "__main__":
    main()
