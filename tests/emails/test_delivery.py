"""Invitation emails through the real path: outbox row -> Redis -> a real Celery worker ->
a real SMTP server, including the faults SECURITY.md items 43 and 44 name."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from pathlib import Path

import pytest
import requests
from django_tenants.utils import tenant_context

from emails.models import OutboxEmail
from emails.services import OUTBOX_STALE_AFTER, outbox_relay
from guests import services
from guests.models import Invitation
from tests.helpers import eventually, link_token, unique_email
from tests.mail import body_html, body_text
from tests.server import free_port, start_gunicorn, stop

pytestmark = [pytest.mark.server, pytest.mark.slow]


def outbox_of(world, email: str) -> OutboxEmail:
    with tenant_context(world.tenant):
        return OutboxEmail.objects.filter(to=email, kind="invitation").latest("id")


def invite(world, email: str, **extra) -> Invitation:
    with tenant_context(world.tenant):
        return services.invitation_create(
            invited_by=world.admin,
            email=email,
            redirect_url="https://app.acme.example/welcome",
            **extra,
        )


def test_invitation_from_the_console_arrives_branded_with_a_link_on_the_primary_domain(
    acme_committed, celery_worker_process, mailbox
):
    email = unique_email()
    client = acme_committed.client(user=acme_committed.admin)
    response = client.post(
        "/console/guests/invite/",
        {
            "email": email,
            "display_name": "Pat Partner",
            "redirect_url": "https://app.acme.example/welcome",
            "message": "Welcome to the supplier portal!",
            "user_type": "guest",
            "send_email": "on",
        },
    )
    assert response.status_code == 302

    (message,) = mailbox.wait_for(email)
    assert message["Subject"] == (
        "Acme Corporation invited you to access applications within their organization"
    )
    text, html = body_text(message), body_html(message)
    assert "Invited by: admin@acme.test" in text and "admin@acme.test" in html
    assert "Welcome to the supplier portal!" in text and "Welcome to the supplier portal!" in html
    token = link_token(message)
    assert f"http://acme.localhost/invite/{token}/" in text
    assert f'href="http://acme.localhost/invite/{token}/"' in html
    with tenant_context(acme_committed.tenant):
        invitation = Invitation.objects.get(email=email)
        assert invitation.expires_at.strftime("%-d %B %Y") in text
    outbox = eventually(lambda: (row := outbox_of(acme_committed, email)).status == "sent" and row)
    assert message["Message-ID"] == outbox.message_id
    assert outbox.payload == {}  # the link token is no longer kept anywhere

    page = client.get(response["Location"]).content.decode()
    assert "Sent" in page


def test_smtp_451_twice_then_accepted_delivers_exactly_one_email(
    acme_committed, celery_worker_process, mailbox
):
    mailbox.scripted_replies = ["451 4.3.0 try later", "451 4.3.0 try later"]
    email = unique_email()
    invite(acme_committed, email)

    mailbox.wait_for(email)
    outbox = eventually(lambda: (row := outbox_of(acme_committed, email)).status == "sent" and row)
    assert outbox.attempts == 3
    assert mailbox.refused == 2
    assert len(mailbox.to(email)) == 1


def test_smtp_550_marks_the_email_failed_and_shows_it_without_retrying(
    acme_committed, celery_worker_process, mailbox
):
    mailbox.scripted_replies = ["550 5.1.1 mailbox unavailable"]
    email = unique_email()
    invitation = invite(acme_committed, email)

    outbox = eventually(
        lambda: (row := outbox_of(acme_committed, email)).status == "failed" and row
    )
    assert outbox.attempts == 1
    assert "550" in outbox.last_error
    # Longer than a retry waits in tests (EMAIL_RETRY_MAX_SECONDS): nothing was tried again.
    time.sleep(1.5)
    assert mailbox.refused == 1
    assert outbox_of(acme_committed, email).attempts == 1

    client = acme_committed.client(user=acme_committed.admin)
    listing = client.get("/console/guests/", {"q": email}).content.decode()
    assert "Failed" in listing and "550 5.1.1 mailbox unavailable" in listing
    detail = client.get(f"/console/guests/invitations/{invitation.public_id}/").content.decode()
    assert "550 5.1.1 mailbox unavailable" in detail


def test_retries_are_bounded_then_the_email_is_marked_failed(
    acme_committed, celery_worker_process, mailbox
):
    from emails.tasks import MAX_ATTEMPTS

    mailbox.scripted_replies = ["451 4.7.1 greylisted"] * MAX_ATTEMPTS
    email = unique_email()
    invite(acme_committed, email)
    outbox = eventually(
        lambda: (row := outbox_of(acme_committed, email)).status == "failed" and row, timeout=30
    )
    assert outbox.attempts == MAX_ATTEMPTS and "451 4.7.1 greylisted" in outbox.last_error
    assert mailbox.refused == MAX_ATTEMPTS and mailbox.to(email) == []


def _children(pid: int) -> list[int]:
    children = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                children.append(int(entry.name))
    return children


def stall_first_message(mailbox, email: str, monkeypatch) -> asyncio.Event:
    """Make the relay (the customer's mail server) hang on the first message to `email`;
    the returned event is set once that message is being received."""
    receiving = asyncio.Event()
    first = {"pending": True}
    accept = type(mailbox).handle_DATA

    async def slow_first_message(server, session, envelope):
        if first["pending"] and email in envelope.rcpt_tos:
            first["pending"] = False
            receiving.set()
            await asyncio.sleep(30)  # cancelled when the sender's connection drops
        return await accept(mailbox, server, session, envelope)

    monkeypatch.setattr(mailbox, "handle_DATA", slow_first_message)
    return receiving


def test_worker_killed_during_the_send_still_delivers_exactly_one_email(
    acme_committed, celery_worker_process, mailbox, monkeypatch
):
    """The relay (the customer's mail server) is slow to answer the first message; the worker
    process sending it is killed meanwhile. The message goes back on the queue
    (acks_late + reject_on_worker_lost), the restarted pool process sends it once."""
    email = unique_email()
    receiving = stall_first_message(mailbox, email, monkeypatch)
    invite(acme_committed, email)

    eventually(receiving.is_set)
    (child,) = _children(celery_worker_process.pid)
    os.kill(child, signal.SIGKILL)

    (message,) = mailbox.wait_for(email, timeout=30)
    outbox = eventually(lambda: (row := outbox_of(acme_committed, email)).status == "sent" and row)
    assert message["Message-ID"] == outbox.message_id
    # Whatever was still in flight has settled: still exactly one copy.
    eventually(lambda: len(_children(celery_worker_process.pid)) == 1)
    assert len(mailbox.to(email)) == 1


def test_broker_down_at_invite_time_the_email_goes_out_when_it_returns(
    acme_committed, celery_worker_process, mailbox, subprocess_env
):
    with socket_closed_port() as closed_port:
        port = free_port()
        server = start_gunicorn(
            {
                **subprocess_env,
                "EMAIL_URL": mailbox.url,
                "CELERY_BROKER_URL": f"redis://127.0.0.1:{closed_port}/0",
            },
            port,
        )
    try:
        client = acme_committed.client(user=acme_committed.admin)
        session = requests.Session()
        session.headers["Host"] = acme_committed.host
        session.cookies.set("sessionid", client.cookies["sessionid"].value)
        base = f"http://127.0.0.1:{port}"
        session.get(f"{base}/console/guests/invite/", timeout=10)
        email = unique_email()
        response = session.post(
            f"{base}/console/guests/invite/",
            data={
                "csrfmiddlewaretoken": session.cookies["csrftoken"],
                "email": email,
                "redirect_url": "https://app.acme.example/",
                "user_type": "guest",
                "send_email": "on",
            },
            allow_redirects=False,
            timeout=30,
        )
    finally:
        stop(server)
    assert response.status_code == 302  # the admin's request succeeded
    assert outbox_of(acme_committed, email).status == "queued"
    assert mailbox.to(email) == []

    # The broker is reachable again; the periodic relay finds the row it never queued.
    from django.utils import timezone

    with tenant_context(acme_committed.tenant):
        assert outbox_relay(now=timezone.now() + OUTBOX_STALE_AFTER) >= 1
    (message,) = mailbox.wait_for(email)
    assert link_token(message)
    eventually(lambda: outbox_of(acme_committed, email).status == "sent")
    assert len(mailbox.to(email)) == 1


class socket_closed_port:
    """A loopback port nobody listens on, for the duration of the block."""

    def __enter__(self) -> int:
        return free_port()

    def __exit__(self, *exc) -> None:
        return None


def test_whole_worker_killed_during_the_send_then_restarted_sends_exactly_one_email(
    acme_committed, celery_worker_process, mailbox, monkeypatch, subprocess_env
):
    """A crash of the whole worker (main process and pool) mid-send: the broker keeps the
    message unacknowledged, the relay queues the row again for the restarted worker, and the
    row's state makes any later redelivery a no-op."""
    from ciam.celery import app
    from tests.server import start_celery_worker

    email = unique_email()
    receiving = stall_first_message(mailbox, email, monkeypatch)
    environment = {**subprocess_env, "EMAIL_URL": mailbox.url}
    # The shared worker steps aside (every queue: README, "Background work") so that the
    # worker this test crashes takes the task. It is the only worker on this broker
    # database: its reply ends the wait (without a limit, each call waits its timeout).
    queues = [queue.name for queue in app.conf.task_queues]
    for queue in queues:
        assert app.control.cancel_consumer(queue, reply=True, timeout=5, limit=1)
    restarted = None
    try:
        doomed = start_celery_worker(environment)
        invite(acme_committed, email)
        eventually(receiving.is_set)
        pool = _children(doomed.pid)
        os.kill(doomed.pid, signal.SIGKILL)
        for child in pool:
            os.kill(child, signal.SIGKILL)
        doomed.wait()
        assert mailbox.to(email) == []
        assert outbox_of(acme_committed, email).status == "queued"

        restarted = start_celery_worker(environment)
        from django.utils import timezone

        with tenant_context(acme_committed.tenant):
            outbox_relay(now=timezone.now() + OUTBOX_STALE_AFTER)
        (message,) = mailbox.wait_for(email, timeout=30)
        eventually(lambda: outbox_of(acme_committed, email).status == "sent")
        assert message["Message-ID"] == outbox_of(acme_committed, email).message_id
    finally:
        if restarted is not None:
            stop(restarted)
        for queue in queues:
            app.control.add_consumer(queue, reply=True, timeout=5, limit=1)
    assert len(mailbox.to(email)) == 1
