"""The production topology on this machine (docs/deployment.md): two gunicorn servers behind a
real nginx, two Celery workers. Any server answers any request: a session made on one works on
the other, a lockout counted on one holds on the other, and a user-flow change made on one is
seen by the other within a second. A bounded load of sign-ins, token calls and invitations
spread over both servers completes with no error, and when one server and one worker crash
mid-run no accepted request and no email is lost."""

from __future__ import annotations

import contextlib
import itertools
import re
import subprocess
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
import redis
import requests
from django.conf import settings
from django.contrib.auth import get_user_model
from django_tenants.utils import tenant_context

from tenants.models import Tenant
from tenants.services import tenant_create, tenant_delete
from tests.helpers import FLOW, LOCKED, PASSWORD, eventually
from tests.server import ROOT, crash, free_port, nginx, start_celery_worker, start_gunicorn, stop

pytestmark = [pytest.mark.server, pytest.mark.slow]


class Browser:
    def __init__(self, base: str, host: str):
        self.base, self.host = base, host
        self.session = requests.Session()

    def get(self, path: str, base: str | None = None) -> requests.Response:
        return self.session.get(
            f"{base or self.base}{path}", headers={"Host": self.host},
            allow_redirects=False, timeout=30,
        )  # fmt: skip

    def post(self, path: str, data: dict, base: str | None = None) -> requests.Response:
        page = self.get(path, base)
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
        return self.session.post(
            f"{base or self.base}{path}", {"csrfmiddlewaretoken": token, **data},
            headers={"Host": self.host, "Referer": f"http://{self.host}{path}"},
            allow_redirects=False, timeout=30,
        )  # fmt: skip

    def sign_in(self, email: str, password: str, base: str | None = None) -> requests.Response:
        return self.post("/accounts/login/", {"login": email, "password": password}, base)


def _started(start, arguments: list) -> list[subprocess.Popen]:
    """`start(argument)` for each argument at once (each waits until its process is ready);
    the processes that started, or all stopped again if one failed."""
    with ThreadPoolExecutor(len(arguments)) as pool:
        futures = [pool.submit(start, argument) for argument in arguments]
    failed = [future.exception() for future in futures if future.exception() is not None]
    started = [future.result() for future in futures if future.exception() is None]
    if failed:
        for process in started:
            stop(process)
        raise failed[0]
    return started


@contextlib.contextmanager
def _topology(environment: dict):
    """Two gunicorn servers behind nginx: yields nginx's port, the servers' ports and their
    processes (a test may crash one: stopping it again is harmless)."""
    proxy_port, ports = free_port(), [free_port(), free_port()]
    servers = []
    try:
        # Both name the proxy's address in links and token issuers, as behind a real one: a
        # token one issued is valid on the other. Started side by side.
        servers += _started(
            lambda port: start_gunicorn(
                {**environment, "TRUSTED_PROXY_COUNT": "1"}, port, public_port=proxy_port
            ),
            ports,
        )
        with nginx(ports, port=proxy_port):
            yield proxy_port, ports, servers
    finally:
        for server in servers:
            stop(server)


def test_two_servers_behind_nginx_share_sessions_lockouts_and_user_flows(subprocess_env, committed):
    slug = f"topo-{uuid.uuid4().hex[:8]}"
    admin_email = f"a@{slug}.example"
    tenant = tenant_create(
        name="Topology", slug=slug, admin_email=admin_email, admin_password=PASSWORD
    )
    with tenant_context(tenant):
        User = get_user_model()
        person = User.objects.create_user(email=f"person@{slug}.example", password=PASSWORD)
        target = User.objects.create_user(email=f"target@{slug}.example", password=PASSWORD)
    try:
        with _topology(subprocess_env) as (proxy_port, ports, _servers):
            proxy = f"http://127.0.0.1:{proxy_port}"
            host = f"{slug}.localhost:{proxy_port}"
            one, two = (f"http://127.0.0.1:{port}" for port in ports)

            # A session made through the proxy works on both servers behind it.
            browser = Browser(proxy, host)
            signed_in = browser.sign_in(person.email, PASSWORD)
            assert signed_in.status_code == 302 and signed_in.headers["Location"] == "/account/"
            upstreams = set()
            for _ in range(4):
                page = browser.get("/account/")
                assert page.status_code == 200 and person.email in page.text
                upstreams.add(page.headers["X-Upstream"])
            assert upstreams == {f"127.0.0.1:{port}" for port in ports}

            # A lockout counted on server one holds on server two (the count is in Redis).
            guesser = Browser(proxy, host)
            answers = [
                guesser.sign_in(target.email, f"wrong guess {n}", base=one).text for n in range(11)
            ]
            assert LOCKED not in answers[0] and LOCKED in answers[-1]
            on_two = Browser(proxy, host).sign_in(target.email, PASSWORD, base=two)
            assert on_two.status_code == 200 and LOCKED in on_two.text

            # The admin turns sign-up off on server one; server two stops offering it within
            # a second (it read the flow before: "Create one" on its sign-in page).
            assert "Create one" in Browser(proxy, host).get("/accounts/login/", base=two).text
            admin = Browser(proxy, host)
            assert admin.sign_in(admin_email, PASSWORD, base=one).status_code == 302
            flow = {key: value for key, value in FLOW.items() if key != "signup_enabled"}
            saved = admin.post("/console/user-flows/", flow, base=one)
            assert saved.status_code == 302, saved.text[:2000]
            changed_at = time.monotonic()
            while "Create one" in Browser(proxy, host).get("/accounts/login/", base=two).text:
                assert time.monotonic() - changed_at < 1.0, "server two still offers sign-up"
                time.sleep(0.05)
    finally:
        if Tenant.objects.filter(slug=slug).exists():
            tenant_delete(tenant=Tenant.objects.get(slug=slug), confirm_slug=slug, actor=None)


# The load test: virtual clients through nginx, each journey a person's password sign-in, a
# daemon's client-credentials token and an invitation made with that token (API, emailed).


class Load:
    """What the virtual clients asked and what they were answered, kept per kind."""

    def __init__(self, proxy: str, host: str, people: list[str], client: tuple[str, str]):
        self.proxy, self.host, self.people, self.client = proxy, host, people, client
        self.lock = threading.Lock()
        self.sign_ins: list[tuple[str, requests.Session]] = []  # accepted: (email, session)
        self.tokens: list[str] = []  # accepted access tokens
        self.invitations: list[tuple[str, str]] = []  # accepted: (id, email)
        self.refused: list[str] = []  # what answered anything else, or no answer at all
        self.upstreams: set[str] = set()
        self.journeys = 0

    def _note(self, answer: requests.Response) -> None:
        with self.lock:
            self.upstreams.add(answer.headers.get("X-Upstream", ""))

    def _refuse(self, what: str) -> None:
        with self.lock:
            self.refused.append(what)

    def journey(self, number: int) -> None:
        email = self.people[number % len(self.people)]
        browser = Browser(self.proxy, self.host)
        try:
            signed_in = browser.sign_in(email, PASSWORD)
        except (requests.RequestException, AttributeError) as error:  # no form: a 502 page
            self._refuse(f"sign-in: {error!r}")
        else:
            self._note(signed_in)
            if signed_in.status_code == 302 and signed_in.headers["Location"] == "/account/":
                with self.lock:
                    self.sign_ins.append((email, browser.session))
            else:
                self._refuse(f"sign-in: {signed_in.status_code}")
        client_id, secret = self.client
        try:
            issued = requests.post(
                f"{self.proxy}/o/token/",
                data={"grant_type": "client_credentials", "client_id": client_id,
                      "client_secret": secret},
                headers={"Host": self.host}, timeout=30,
            )  # fmt: skip
        except requests.RequestException as error:
            self._refuse(f"token: {error!r}")
            return
        self._note(issued)
        if issued.status_code != 200:
            self._refuse(f"token: {issued.status_code}")
            return
        token = issued.json()["access_token"]
        with self.lock:
            self.tokens.append(token)
        invitee = f"guest-{uuid.uuid4().hex[:12]}@partner.example"
        try:
            invited = requests.post(
                f"{self.proxy}/api/v1/invitations",
                json={"invitedUserEmailAddress": invitee, "sendInvitationMessage": True,
                      "inviteRedirectUrl": "https://app.partner.example/"},
                headers={"Host": self.host, "Authorization": f"Bearer {token}"}, timeout=30,
            )  # fmt: skip
        except requests.RequestException as error:
            self._refuse(f"invitation: {error!r}")
            return
        self._note(invited)
        if invited.status_code == 201:
            with self.lock:
                self.invitations.append((invited.json()["id"], invitee))
        else:
            self._refuse(f"invitation: {invited.status_code} {invited.text[:200]}")

    def run(self, *, clients: int, journeys: int, midway=None) -> None:
        """`clients` threads, each making `journeys` journeys; `midway()` is called once,
        from the first thread, when it has made half of its own."""
        counter = itertools.count()

        def client(index: int) -> None:
            for done in range(journeys):
                if midway is not None and index == 0 and done == journeys // 2:
                    midway()
                self.journey(next(counter))
                with self.lock:
                    self.journeys += 1

        threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        assert not any(thread.is_alive() for thread in threads), "the load did not finish"


def _relay_stale_emails(environment: dict, slug: str) -> None:
    """emails.services.outbox_relay in `slug`'s schema, in a process of the deployment (its
    broker), as beat's relay runs once OUTBOX_STALE_AFTER has passed."""
    code = (
        "from django.utils import timezone\n"
        "from django_tenants.utils import tenant_context\n"
        "from emails.services import OUTBOX_STALE_AFTER, outbox_relay\n"
        "from tenants.models import Tenant\n"
        f"with tenant_context(Tenant.objects.get(slug={slug!r})):\n"
        "    outbox_relay(now=timezone.now() + OUTBOX_STALE_AFTER)\n"
    )
    subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", code], cwd=ROOT, env=environment, check=True
    )


def test_load_over_both_servers_then_a_server_and_a_worker_crash_and_nothing_accepted_is_lost(
    subprocess_env, committed, mailbox
):
    """A bounded load of sign-ins, token calls and invitations through nginx, spread over both
    servers, with two Celery workers: no error. Then, mid-run, one server and one worker are
    killed (SIGKILL). Only requests in flight on the killed server may fail (nginx answers
    502; a client would retry); every request that was answered 2xx/3xx had its effect: the
    session works, the token is accepted, the invitation exists and its email reaches the
    relay. Emails are delivered at least once: the rows the killed worker held are queued
    again by the outbox relay (beat's, run here as it runs once they are OUTBOX_STALE_AFTER
    old), and a row is sent twice only if the worker died between the relay's "250" and its
    commit (at most the one message it was sending)."""
    from guests.models import Invitation
    from oidc.services import application_create

    slug = f"load-{uuid.uuid4().hex[:8]}"
    admin_email = f"a@{slug}.example"
    tenant = tenant_create(name="Load", slug=slug, admin_email=admin_email, admin_password=PASSWORD)
    with tenant_context(tenant):
        User = get_user_model()
        people = [
            User.objects.create_user(email=f"p{n}@{slug}.example", password=PASSWORD).email
            for n in range(4)
        ]
        daemon, secret = application_create(
            actor=User.objects.get(email=admin_email), name="Partner portal", app_type="daemon",
            redirect_uris="", post_logout_redirect_uris="", is_first_party=True,
            api_permissions=["User.Invite.All"], access_token_lifetime=3600,
            id_token_lifetime=3600, refresh_token_lifetime=86400,
        )  # fmt: skip
    # The broker shares the cache's Redis database, as in production and `make run`
    # (REDIS_URL for both): the session's shared worker, on the test broker, takes none of
    # these tasks.
    broker_url = settings.REDIS_URL
    environment = {**subprocess_env, "CELERY_BROKER_URL": broker_url, "EMAIL_URL": mailbox.url}
    workers = []
    try:
        workers += _started(
            lambda name: start_celery_worker(environment, "-n", f"{name}-{slug}@%h"),
            ["one", "two"],
        )
        with _topology(environment) as (proxy_port, ports, servers):
            proxy = f"http://127.0.0.1:{proxy_port}"
            load = Load(proxy, f"{slug}.localhost:{proxy_port}", people, (daemon.client_id, secret))

            # 1. Everything up: no error, and both servers answered.
            load.run(clients=3, journeys=4)
            assert load.refused == []
            assert load.upstreams == {f"127.0.0.1:{port}" for port in ports}
            assert len(load.invitations) == 12

            # 2. Server one and worker one crash midway.
            def crash_one_of_each() -> None:
                crash(servers[0])
                crash(workers[0])

            load.run(clients=3, journeys=6, midway=crash_one_of_each)
            # At most the request each client had in flight on server one failed.
            assert len(load.refused) <= 3, load.refused
            assert all(" 502" in what or "Error" in what for what in load.refused), load.refused
            assert len(load.invitations) >= 12 + 18 - 3

            # Every accepted sign-in's session works (on the server left).
            for email, session in load.sign_ins:
                page = session.get(
                    f"{proxy}/account/", headers={"Host": load.host}, allow_redirects=False,
                    timeout=30,
                )  # fmt: skip
                assert page.status_code == 200 and email in page.text
            # Every accepted token is accepted by the API.
            any_id = load.invitations[0][0]
            for token in load.tokens:
                detail = requests.get(
                    f"{proxy}/api/v1/invitations/{any_id}",
                    headers={"Host": load.host, "Authorization": f"Bearer {token}"}, timeout=30,
                )  # fmt: skip
                assert detail.status_code == 200, detail.text[:200]
            # Every accepted invitation exists, and its email reaches the relay.
            with tenant_context(tenant):
                ids = {invitation_id for invitation_id, _email in load.invitations}
                assert Invitation.objects.filter(public_id__in=ids).count() == len(ids)
            # Beat's relay, on the deployment's broker, as it runs once the rows the dead
            # worker held are stale.
            eventually(lambda: redis.Redis.from_url(broker_url).llen("invitations") == 0)
            _relay_stale_emails(environment, slug)
            for _invitation_id, email in load.invitations:
                mailbox.wait_for(email, timeout=30)
            copies = [len(mailbox.to(email)) for _invitation_id, email in load.invitations]
            assert sum(copies) - len(copies) <= 1, copies
    finally:
        for worker in workers:
            stop(worker)
        if Tenant.objects.filter(slug=slug).exists():
            tenant_delete(tenant=Tenant.objects.get(slug=slug), confirm_slug=slug, actor=None)
