"""The database goes away under a running server, then comes back: people get a plain 503 page
in the tenant's look with Retry-After, never a traceback, and the server serves again without
a restart once the database answers.

The database is reached through a real PgBouncer that the test stops and starts again on the
same port: to the server that is PostgreSQL going away (connections refused, open ones cut),
without stopping the PostgreSQL that other tests share."""

from __future__ import annotations

import re

import pytest
import requests

from tests.helpers import eventually, make_user
from tests.server import free_port, pgbouncer, start_gunicorn, stop

pytestmark = [pytest.mark.server]


def test_a_database_outage_answers_503_in_the_tenants_look_and_recovers(
    subprocess_env, acme_committed
):
    port = free_port()
    host = f"{acme_committed.host.split(':')[0]}:{port}"

    person = make_user(acme_committed)
    browser = requests.Session()
    browser.headers["Host"] = host

    def sign_in_page() -> requests.Response:
        return browser.get(f"http://127.0.0.1:{port}/accounts/login/", timeout=30)

    def sign_in(token: str) -> requests.Response:
        return browser.post(
            f"http://127.0.0.1:{port}/accounts/login/",
            {"csrfmiddlewaretoken": token, "login": person.email,
             "password": "not the password"},
            headers={"Referer": f"http://{host}/accounts/login/"},
            timeout=30,
        )  # fmt: skip

    with pgbouncer(pool_size=4) as bouncer_port:
        database_url = subprocess_env["DATABASE_URL"].replace(":5432/", f":{bouncer_port}/")
        server = start_gunicorn(
            {**subprocess_env, "DATABASE_URL": database_url, "DATABASE_POOLED": "true"}, port
        )
        try:
            page = sign_in_page()  # the process now knows the tenant
            assert page.status_code == 200
            token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)[1]
        except BaseException:
            stop(server)
            raise
    try:
        # What needs the database (a sign-in looks the person up) answers 503; the sign-in page
        # itself needs nothing the process does not keep, and still shows.
        down = sign_in(token)
        assert down.status_code == 503
        assert down.headers["Retry-After"] == "30"
        assert "Temporarily unavailable" in down.text
        assert acme_committed.tenant.name in down.text  # the tenant's look, from memory
        assert "Traceback" not in down.text and "OperationalError" not in down.text
        ready = requests.get(f"http://127.0.0.1:{port}/readyz", headers={"Host": host})
        assert ready.status_code == 503

        with pgbouncer(pool_size=4, port=bouncer_port):
            # The wrong password is refused on the page again: the database answers.
            eventually(
                lambda: sign_in(token).status_code == 200,
                timeout=30, interval=0.3, message="the server did not serve again",
            )  # fmt: skip
            assert "Temporarily unavailable" not in sign_in(token).text
    finally:
        stop(server)
