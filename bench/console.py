"""Console benchmark: the Users list of a tenant with 1,000,000 users and 10,000,000 sign-in
rows (issue 17).

    .venv/bin/python bench/console.py                      # 1M users, 10M sign-ins, 5 s each
    .venv/bin/python bench/console.py --users 100000 --sign-ins 1000000 --seconds 2

Seeds one tenant: users with COPY (90 % members, 10 % guests, 2 % disabled, 0.1 % deleted,
10 % never signed in, attributes with a city), sign-in rows inside PostgreSQL
(generate_series: 90 days up to now, in time order), ANALYZEs,
then measures on one server process (bench/harness.py) the console's Users list: its first
page, filtered pages (guests who signed in during the last 30 days, sorted by last sign-in;
guests with no sign-in for 90 days, as Console > Guests links to them), an attribute
filter, the last page through keyset pagination, and a user's page (their latest sign-ins
from the 10M-row log). Target: each under 50 ms of server time at p95.
"""

from __future__ import annotations

import argparse
import io
import random
import re
import time
import uuid
from datetime import UTC, datetime, timedelta

import harness

HOST = "acme.localhost"
PASSWORD = "a long and unusual passphrase for measuring"
TARGET_MS = 50.0
FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"
CITIES = ["Paris", "London", "Berlin", "Madrid", "Rome", "Lisbon", "Vienna", "Prague"]


def _columns(cursor, table: str) -> list[tuple[str, str]]:
    cursor.execute(
        "SELECT column_name, data_type FROM information_schema.columns "
        "WHERE table_schema = current_schema() AND table_name = %s AND column_name <> 'id' "
        "ORDER BY ordinal_position",
        [table],
    )
    return cursor.fetchall()


def _blank(data_type: str, now_text: str) -> str:
    """A value for a column the generator does not fill (one another feature added)."""
    if data_type in ("text", "character varying", "inet"):
        return "" if data_type != "inet" else r"\N"
    if data_type == "boolean":
        return "f"
    if data_type in ("jsonb", "json"):
        return "{}"
    if data_type.startswith("timestamp"):
        return now_text
    if data_type == "uuid":
        return str(uuid.uuid4())
    if data_type == "ARRAY":
        return "{}"
    return "0"


def copy_rows(cursor, table: str, count: int, row, *, chunk: int = 50_000) -> float:
    """COPY `count` rows into `table`; `row(number)` gives {column: text value} (\\N for
    NULL); other columns get a blank of their type."""
    columns = _columns(cursor, table)
    now_text = datetime.now(UTC).isoformat()
    names = [name for name, _type in columns]
    started = time.perf_counter()
    quoted = ", ".join(f'"{name}"' for name in names)
    with cursor.copy(f"COPY {table} ({quoted}) FROM STDIN") as copy:
        buffer = io.StringIO()
        for number in range(count):
            values = row(number)
            buffer.write(
                "\t".join(
                    values[name] if name in values else _blank(data_type, now_text)
                    for name, data_type in columns
                )
            )
            buffer.write("\n")
            if number % chunk == chunk - 1:
                copy.write(buffer.getvalue())
                buffer = io.StringIO()
        copy.write(buffer.getvalue())
    return time.perf_counter() - started


def seed(user_count: int, sign_in_count: int):
    from django.db import connection
    from django_tenants.utils import tenant_context

    from accounts.models import User
    from audit.models import SignInEvent
    from tenants.services import tenant_create

    tenant = tenant_create(
        name="Acme Bench", slug="acme", admin_email="admin@acme.example", admin_password=PASSWORD
    )
    randomness = random.Random(17)
    now = datetime.now(UTC)
    # A hash that no password matches: these users never sign in in this benchmark.
    unusable = "!" + "x" * 39
    public_ids: list[str] = []

    def user_row(number: int) -> dict:
        public_id = str(uuid.UUID(int=randomness.getrandbits(128), version=4))
        public_ids.append(public_id)
        joined = now - timedelta(seconds=randomness.randrange(3 * 365 * 86400))
        signed_in = (
            r"\N" if number % 10 == 0
            else (now - timedelta(seconds=randomness.randrange(90 * 86400))).isoformat()
        )  # fmt: skip
        deleted = number % 1000 == 999
        city = CITIES[number % len(CITIES)]
        return {
            "password": unusable, "last_login": signed_in, "is_superuser": "f",
            "first_name": f"Given{number}", "last_name": f"Sur{number}", "is_staff": "f",
            "is_active": "f" if number % 50 == 49 or deleted else "t",
            "date_joined": joined.isoformat(), "public_id": public_id,
            "email": f"user{number:07d}@people.example", "display_name": f"Person {number}",
            "user_type": "guest" if number % 10 == 3 else "member", "admin_roles": "{}",
            "attributes": f'{{"city": "{city}", "givenName": "Given{number}"}}',
            "deleted_at": (now - timedelta(days=3)).isoformat() if deleted else r"\N",
            "enabled_before_deletion": "t",
        }  # fmt: skip

    with tenant_context(tenant), connection.cursor() as cursor:
        raw = cursor.cursor  # psycopg's cursor: COPY
        seconds = copy_rows(raw, User._meta.db_table, user_count, user_row)
        print(f"{user_count:,} users copied in {seconds:.1f} s", flush=True)
        cursor.execute(f"SELECT min(id) FROM {User._meta.db_table} WHERE email LIKE 'user%%'")
        first_id = cursor.fetchone()[0]

        # The sign-in log is written inside PostgreSQL (generate_series): sending 10,000,000
        # rows from Python took most of an hour on a loaded machine. Rows in time order (as
        # the log is written), spread over 90 days up to now; each user gets the same share
        # (a multiplicative walk over the ids); one in seven a wrong password.
        started = time.perf_counter()
        cursor.execute(
            f"INSERT INTO {SignInEvent._meta.db_table} (public_id, occurred_at, user_id, "
            "user_public_id, user_email, user_name, email_typed, ip_address, user_agent, "
            'method, result, failure_reason, app_id, app_name, "grant", mfa_used, mfa_method, '
            "policies, request_id, idp, idp_subject, upstream_error) "
            "SELECT gen_random_uuid(), now() - make_interval(secs => (%(rows)s - n) * "
            "%(spacing)s), u.id, u.public_id, u.email, u.display_name, u.email, "
            "'203.0.113.9', %(agent)s, 'password', "
            "CASE WHEN n %% 7 = 0 THEN 'failure' ELSE 'success' END, "
            "CASE WHEN n %% 7 = 0 THEN 'wrong_password' ELSE '' END, '', '', '', false, '', "
            "'[]', '', '', '', '' "
            "FROM generate_series(1, %(rows)s) AS n "
            f"JOIN {User._meta.db_table} AS u "
            "ON u.id = %(first)s + (n::bigint * 104729) %% %(users)s",
            {
                "rows": sign_in_count,
                "users": user_count,
                "first": first_id,
                "spacing": 90 * 86400.0 / max(sign_in_count, 1),
                "agent": FIREFOX,
            },
        )
        print(
            f"{sign_in_count:,} sign-in rows written in {time.perf_counter() - started:.1f} s",
            flush=True,
        )
        started = time.perf_counter()
        cursor.execute(f"ANALYZE {User._meta.db_table}")
        cursor.execute(f"ANALYZE {SignInEvent._meta.db_table}")
        print(f"ANALYZE in {time.perf_counter() - started:.1f} s", flush=True)
    return tenant, public_ids[user_count // 2]


def console_client(server) -> harness.Client:
    client = harness.Client(server.base_url, host=HOST)
    page = client.get("/accounts/login/")
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
    answer = client.post(
        "/accounts/login/",
        data={"csrfmiddlewaretoken": token, "login": "admin@acme.example", "password": PASSWORD},
        headers={"Referer": f"http://{HOST}/accounts/login/"},
    )
    assert answer.status in (302, 303), (answer.status, answer.text[:500])
    listed = client.get("/console/users/")
    assert listed.status == 200, (listed.status, listed.headers.get("Location"))
    return client


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--users", type=int, default=1_000_000)
    parser.add_argument("--sign-ins", type=int, default=10_000_000)
    parser.add_argument("--seconds", type=float, default=5.0)
    options = parser.parse_args()

    with harness.bench_database("console") as database_url:
        harness.django_setup(database_url)
        _tenant, someone = seed(options.users, options.sign_ins)
        with harness.server(database_url) as server:
            harness.pin_to_core()
            floor = harness.measure_floor(server, host=HOST)
            client = console_client(server)
            since = (datetime.now(UTC) - timedelta(days=30)).date().isoformat()
            inactive_since = (datetime.now(UTC) - timedelta(days=90)).date().isoformat()
            pages = {
                "Users: first page": "/console/users/",
                "Users: guests signed in last 30 days, by last sign-in": (
                    f"/console/users/?type=guest&signed_in_after={since}&sort=-last_login"
                ),
                # Console > Guests' link: the inactive guests report (never signed in
                # included), in the list's default order.
                "Users: guests with no sign-in for 90 days": (
                    f"/console/users/?type=guest&inactive_since={inactive_since}&sort=last_login"
                ),
                "Users: attribute city=Paris, newest first": (
                    "/console/users/?attribute=city%3DParis&sort=-date_joined"
                ),
                "Users: last page (keyset)": "/console/users/?page=last",
                "Users: last page by creation": "/console/users/?sort=date_joined&page=last",
                "A user's page (sign-ins from the 10M-row log)": f"/console/users/{someone}/",
            }
            results = []
            for label, path in pages.items():
                answer = client.get(path)
                assert answer.status == 200, (label, answer.status)

                def call(path=path):
                    response = client.get(path)
                    if response.status != 200:
                        raise RuntimeError(f"{path} answered {response.status}")
                    return response

                results.append(harness.measure(label, call, seconds=options.seconds, server=server))
            harness.print_table(
                f"Console, {options.users:,} users, {options.sign_ins:,} sign-in rows",
                results,
                floor=floor,
            )
            for result in results:
                cpu = result.server_cpu_ms or 0.0
                verdict = "met" if result.percentile(0.95) <= TARGET_MS else "NOT met"
                print(
                    f"{result.label}: p95 {result.percentile(0.95):.1f} ms "
                    f"(server CPU {cpu:.1f} ms/call), target {TARGET_MS:.0f} ms {verdict}"
                )


if __name__ == "__main__":
    main()
