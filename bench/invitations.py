"""Invitations benchmark: a 10,000-row bulk invite delivered by one Celery worker process.

    .venv/bin/python bench/invitations.py               # 10,000 rows
    .venv/bin/python bench/invitations.py --rows 2000   # a quicker look

The CSV goes through the same service as the console upload (row checks, report); one Celery
worker (one pool process) creates the invitations chunk by chunk and delivers their emails to
a local SMTP server (aiosmtpd). Prints the time to check the upload,
the time until the last email is delivered, and invitations delivered per second.
The SMTP server runs in this process and keeps only the recipients, so parsing messages
does not compete with the worker for the CPU.
Target: at least 100 per second.

Uses its own database (dropped afterwards) and a Redis database of its own as cache and
broker, so that no other worker takes its tasks and no count of an earlier run (the
per-address limits of invitations) holds it back: one claimed as the tests claim theirs
(ciam.test_resources), or --redis-url.
"""

from __future__ import annotations

import argparse
import os
import time

import harness

TARGET_PER_SECOND = 100


class CountingSink:
    """A local SMTP server (aiosmtpd) that accepts every message and keeps only its
    recipients: the mail relay's cost stays out of the figures."""

    def __init__(self):
        self.recipients: list[str] = []
        self.port = 0
        self._controller = None

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's hook name)
        self.recipients.extend(envelope.rcpt_tos)
        return "250 Message accepted for delivery"

    def start(self) -> CountingSink:
        from aiosmtpd.controller import Controller

        self.port = harness.free_port()
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self._controller.start()
        return self

    def stop(self) -> None:
        self._controller.stop()

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument(
        "--redis-url", help="a Redis database this run may use (default: claim one)"
    )
    parser.add_argument("--timeout", type=float, default=600)
    options = parser.parse_args()
    if options.redis_url is None:
        from ciam.test_resources import redis_database_claim

        options.redis_url = redis_database_claim("redis://127.0.0.1:6379")
    os.environ["REDIS_URL"] = options.redis_url
    os.environ.pop("CIAM_TEST_REDIS_URL", None)

    from tests.server import start_celery_worker, stop

    sink = CountingSink().start()
    with harness.bench_database("invitations") as url:
        harness.django_setup(url)
        from django_tenants.utils import tenant_context

        from guests import services
        from tenants.services import tenant_create

        tenant = tenant_create(
            name="Acme Bench",
            slug="acme",
            admin_email="admin@acme.example",
            admin_password="a long and unusual passphrase",
        )
        csv_data = "email,display name,redirect URL,message\n" + "".join(
            f"partner{number}@bench.example,Partner {number},https://app.acme.example/,Welcome\n"
            for number in range(options.rows)
        )
        worker = start_celery_worker(harness.server_environment(url, EMAIL_URL=sink.url))
        try:
            with tenant_context(tenant):
                from django.contrib.auth import get_user_model

                admin = get_user_model().objects.get(email="admin@acme.example")
                started = time.perf_counter()
                bulk = services.bulk_invitation_start(actor=admin, data=csv_data.encode())
                checked = time.perf_counter()
            assert bulk.valid_rows == options.rows, bulk.rejected_rows[:5]
            first_delivery = None
            deadline = started + options.timeout
            while len(sink.recipients) < options.rows:
                if first_delivery is None and sink.recipients:
                    first_delivery = time.perf_counter()
                if time.perf_counter() > deadline:
                    raise SystemExit(
                        f"only {len(sink.recipients)} delivered in {options.timeout} s"
                    )
                time.sleep(0.01)
            last_delivery = time.perf_counter()
        finally:
            stop(worker)
            sink.stop()
    total = last_delivery - started
    steady = last_delivery - (first_delivery or started)
    recipients = set(sink.recipients)
    rows = [
        {
            "what": "check the CSV upload (rows checked, job saved)",
            "value": f"{checked - started:.2f} s",
        },
        {
            "what": "upload to first email delivered",
            "value": f"{(first_delivery or last_delivery) - started:.2f} s",
        },
        {"what": f"upload to last of {options.rows:,} emails delivered", "value": f"{total:.1f} s"},
        {"what": "delivered per second, whole run", "value": f"{options.rows / total:.0f}"},
        {
            "what": "delivered per second, first to last email",
            "value": f"{options.rows / steady:.0f}" if steady else "",
        },
        {
            "what": "distinct recipients / messages",
            "value": f"{len(recipients):,} / {len(sink.recipients):,}",
        },
        {"what": "target", "value": f">= {TARGET_PER_SECOND} per second"},
    ]
    print(f"\n### Bulk invitation, {options.rows:,} rows, one Celery worker process\n")
    print(harness.markdown_table(rows))
    machine = harness.machine_line().split("; server:")[0]
    print(f"\n{machine}; one Celery worker (prefork, 1 process)\n")


if __name__ == "__main__":
    main()
