"""Console overview and insights benchmark: a large tenant's Overview and Insights pages and
its nightly roll-up (issue 17).

    .venv/bin/python bench/console_overview.py                          # 1M users, 10M sign-ins
    .venv/bin/python bench/console_overview.py --users 100000 --sign-ins 1000000 --seconds 3

Seeds one tenant with `--users` users and `--sign-ins` sign-in log rows spread evenly over
`--days` days up to now (generated inside PostgreSQL with generate_series, which writes as
fast as COPY without sending the rows), then measures in this process the roll-up of
yesterday (target: under 10 s) and of the other days of the week, and on one server process
(bench/harness.py) GET /console/ (the overview: key figures of the last 7 days, the
checklist, the directory's counts) and GET /console/insights/ for 24 hours and 30 days, as
a Global administrator. Target: p95 under 50 ms for the overview.
"""

from __future__ import annotations

import argparse
import re
import time
from datetime import timedelta

import harness

HOST = "acme.localhost"
PASSWORD = "quiet harbour lanterns drift at dawn"
ROLL_UP_TARGET_S = 10.0
OVERVIEW_TARGET_MS = 50.0


def seed(users: int, sign_ins: int, days: int):
    from django.db import connection
    from django_tenants.utils import tenant_context

    from tenants.services import tenant_create

    tenant = tenant_create(
        name="Acme Bench", slug="acme", admin_email="admin@acme.example", admin_password=PASSWORD
    )
    started = time.perf_counter()
    with tenant_context(tenant), connection.cursor() as cursor:
        # Users: one in twenty a guest, one in fifty disabled; ids grow with date_joined.
        cursor.execute(
            "INSERT INTO accounts_user (password, is_superuser, first_name, last_name, "
            "is_staff, is_active, date_joined, public_id, email, display_name, user_type, "
            "admin_roles, attributes, enabled_before_deletion, language) "
            "SELECT '!', false, 'First', 'Last', false, n %% 50 <> 0, "
            "now() - make_interval(secs => (%(users)s - n) * %(spacing)s), "
            "md5(n::text)::uuid, 'user' || n || '@bench.example', '', "
            "CASE WHEN n %% 20 = 0 THEN 'guest' ELSE 'member' END, '{}', '{}', true, '' "
            "FROM generate_series(1, %(users)s) AS n",
            {"users": users, "spacing": days * 86400.0 * 2 / max(users, 1)},
        )
        cursor.execute("SELECT min(id) FROM accounts_user WHERE email LIKE 'user%%'")
        first_id = cursor.fetchone()[0]
        # Sign-ins: in time order; 80 % interactive (mostly successes, some failures and
        # lockouts, some federated), 20 % the token endpoint (code exchanges and refreshes).
        cursor.execute(
            "INSERT INTO accounts_signinevent (public_id, occurred_at, user_id, "
            "user_public_id, user_email, user_name, email_typed, ip_address, user_agent, "
            'method, result, failure_reason, app_id, app_name, "grant", mfa_used, mfa_method, '
            "policies, request_id, idp, idp_subject, upstream_error) "
            "SELECT gen_random_uuid(), now() - make_interval(secs => (%(rows)s - n) * "
            "%(spacing)s), u, md5((u - %(first)s + 1)::text)::uuid, '', '', '', '192.0.2.1', "
            "'bench', "
            "CASE WHEN n %% 5 = 0 THEN 'token' WHEN n %% 11 = 0 THEN 'federated' "
            "WHEN n %% 7 = 0 THEN 'email_code' ELSE 'password' END, "
            "CASE WHEN n %% 13 = 0 AND n %% 5 <> 0 THEN 'failure' "
            "WHEN n %% 101 = 0 AND n %% 5 <> 0 THEN 'locked_out' ELSE 'success' END, "
            "CASE WHEN n %% 13 = 0 AND n %% 5 <> 0 THEN 'wrong_password' ELSE '' END, "
            "CASE WHEN n %% 5 = 0 THEN 'app-' || (n %% 7) ELSE '' END, "
            "CASE WHEN n %% 5 = 0 THEN 'Bench app ' || (n %% 7) ELSE '' END, "
            "CASE WHEN n %% 10 = 0 THEN 'authorization_code' WHEN n %% 5 = 0 "
            "THEN 'refresh_token' ELSE '' END, n %% 9 = 0, '', '[]', '', "
            "CASE WHEN n %% 11 = 0 AND n %% 5 <> 0 THEN 'google' ELSE '' END, '', '' "
            "FROM (SELECT n, %(first)s + (n::bigint * 7919) %% %(users)s AS u "
            "FROM generate_series(1, %(rows)s) AS n) AS rows",
            {
                "rows": sign_ins,
                "users": users,
                "first": first_id,
                "spacing": days * 86400.0 / max(sign_ins, 1),
            },
        )
        cursor.execute("ANALYZE accounts_user")
        cursor.execute("ANALYZE accounts_signinevent")
    print(
        f"seeded {users:,} users and {sign_ins:,} sign-ins in {time.perf_counter() - started:.1f} s"
    )
    return tenant


def roll_up_week(tenant) -> list[tuple[str, float]]:
    from django.utils import timezone
    from django_tenants.utils import tenant_context

    from insights.services import day_roll_up

    today = timezone.now().date()
    timings = []
    with tenant_context(tenant):
        for back in range(1, 8):
            day = today - timedelta(days=back)
            started = time.perf_counter()
            day_roll_up(day=day)
            timings.append((day.isoformat(), time.perf_counter() - started))
    return timings


def signed_in_client(server) -> harness.Client:
    client = harness.Client(server.base_url, host=HOST)
    page = client.get("/accounts/login/")
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
    answer = client.post(
        "/accounts/login/",
        data={"csrfmiddlewaretoken": token, "login": "admin@acme.example", "password": PASSWORD},
        headers={"Referer": f"http://{HOST}/accounts/login/"},
    )
    assert answer.status in (302, 303), (answer.status, answer.text[:500])
    return client


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=1_000_000)
    parser.add_argument("--sign-ins", type=int, default=10_000_000)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--seconds", type=float, default=5.0)
    options = parser.parse_args()

    with harness.bench_database("console_overview") as database_url:
        harness.django_setup(database_url)
        tenant = seed(options.users, options.sign_ins, options.days)
        timings = roll_up_week(tenant)
        print("\n## Roll-up, one day each (in process)\n")
        print(harness.markdown_table([
            {"day": day, "seconds": f"{seconds:.2f}",
             "target": f"<= {ROLL_UP_TARGET_S:.0f} s" if index == 0 else ""}
            for index, (day, seconds) in enumerate(timings)
        ]))  # fmt: skip
        with harness.server(database_url) as server:
            harness.pin_to_core(harness.LOAD_CORE)
            floor = harness.measure_floor(server, host=HOST)
            client = signed_in_client(server)
            results = [
                harness.measure(
                    f"GET {path}",
                    lambda path=path: client.get(path),
                    seconds=options.seconds,
                    server=server,
                )  # fmt: skip
                for path in (
                    "/console/",
                    "/console/insights/?period=24h",
                    "/console/insights/?period=7d",
                    "/console/insights/?period=30d",
                )
            ]
            harness.print_table(
                f"Console overview and insights, {options.users:,} users, "
                f"{options.sign_ins:,} sign-ins (target: overview p95 <= "
                f"{OVERVIEW_TARGET_MS:.0f} ms)",
                results,
                floor=floor,
            )


if __name__ == "__main__":
    main()
