"""Fairness between tenants: the emails a person waits for on a page travel on their own
Celery queue, so that another tenant's bulk upload or invitations never hold them back
(README, "Background work").

A server and a worker share a broker database of their own (no other worker of the test run
can take its tasks); the worker serves only the "interactive" queue, as production's
interactive pool does."""

from __future__ import annotations

import re

import pytest
import redis
import requests
from django_tenants.utils import tenant_context

from ciam.test_resources import redis_database_claim
from guests.models import BulkInvitation
from tests.helpers import unique_email
from tests.server import free_port, start_celery_worker, start_gunicorn, stop

pytestmark = [pytest.mark.server]


def _console_session(world, base: str, port: int) -> requests.Session:
    """The tenant admin's browser session on the server."""
    client = world.client(user=world.admin)
    session = requests.Session()
    session.headers["Host"] = f"{world.host.split(':')[0]}:{port}"
    session.cookies.set("sessionid", client.cookies["sessionid"].value)
    session.get(f"{base}/console/guests/invite/", timeout=30)  # sets the CSRF cookie
    return session


def test_a_sign_in_code_goes_out_while_another_tenants_bulk_work_waits(
    acme_committed, globex_committed, mailbox, subprocess_env
):
    broker_url = redis_database_claim("redis://127.0.0.1:6379")
    environment = {**subprocess_env, "CELERY_BROKER_URL": broker_url, "EMAIL_URL": mailbox.url}
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = start_gunicorn(environment, port)
    worker = start_celery_worker(environment, "-Q", "interactive", "-n", "interactive@%h")
    try:
        # acme's admin uploads 300 invitations and sends one more on its own.
        admin = _console_session(acme_committed, base, port)
        domain = f"{unique_email('x').split('@')[0]}.example"
        rows = "\n".join(f"p{n}@{domain},Partner {n},https://app.acme.example/,"
                         for n in range(300))  # fmt: skip
        uploaded = admin.post(
            f"{base}/console/guests/bulk/",
            data={"csrfmiddlewaretoken": admin.cookies["csrftoken"]},
            files={"file": ("p.csv", f"email,display name,redirect URL,message\n{rows}")},
            headers={"Referer": f"http://{admin.headers['Host']}/console/guests/bulk/"},
            allow_redirects=False,
            timeout=60,
        )
        assert uploaded.status_code == 302, uploaded.text[:500]
        invited = admin.post(
            f"{base}/console/guests/invite/",
            data={"csrfmiddlewaretoken": admin.cookies["csrftoken"], "email": unique_email(),
                  "redirect_url": "https://app.acme.example/", "user_type": "guest",
                  "send_email": "on"},
            headers={"Referer": f"http://{admin.headers['Host']}/console/guests/invite/"},
            allow_redirects=False,
            timeout=30,
        )  # fmt: skip
        assert invited.status_code == 302

        # A globex member asks for a sign-in code: it arrives.
        person = requests.Session()
        person.headers["Host"] = f"{globex_committed.host.split(':')[0]}:{port}"
        page = person.get(f"{base}/accounts/login/code/", timeout=30)
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
        asked = person.post(
            f"{base}/accounts/login/code/",
            {"csrfmiddlewaretoken": token, "email": globex_committed.member.email},
            headers={"Referer": f"http://{person.headers['Host']}/accounts/login/code/"},
            allow_redirects=False,
            timeout=30,
        )
        assert asked.status_code == 302
        (message,) = mailbox.wait_for(globex_committed.member.email, timeout=60)
        assert re.search(r"\b\d{6}\b", message.get_body(("plain",)).get_content())

        # Meanwhile acme's bulk work and invitation wait on their own queues, untouched.
        broker = redis.Redis.from_url(broker_url)
        assert broker.llen("bulk") >= 1 and broker.llen("invitations") >= 1
        with tenant_context(acme_committed.tenant):
            bulk = BulkInvitation.objects.order_by("-pk").first()
            assert bulk.processed_rows == 0
        assert mailbox.to(f"@{domain}") == []
    finally:
        stop(worker)
        stop(server)
