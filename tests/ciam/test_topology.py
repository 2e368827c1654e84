"""The production topology on this machine (docs/deployment.md): two gunicorn servers behind a
real nginx. Any server answers any request: a session made on one works on the other, a
lockout counted on one holds on the other, and a user-flow change made on one is seen by the
other within a second."""

from __future__ import annotations

import contextlib
import re
import time
import uuid

import pytest
import requests
from django.contrib.auth import get_user_model
from django_tenants.utils import tenant_context

from tenants.models import Tenant
from tenants.services import tenant_create, tenant_delete
from tests.helpers import FLOW, LOCKED, PASSWORD
from tests.server import free_port, nginx, start_gunicorn, stop

pytestmark = [pytest.mark.server]


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


@contextlib.contextmanager
def _topology(environment: dict):
    ports = [free_port(), free_port()]
    servers = []
    try:
        for port in ports:
            servers.append(start_gunicorn({**environment, "TRUSTED_PROXY_COUNT": "1"}, port))
        with nginx(ports) as proxy_port:
            yield proxy_port, ports
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
        with _topology(subprocess_env) as (proxy_port, ports):
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
