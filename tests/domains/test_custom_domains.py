"""Console > Custom domains (README, "Custom domains"): a tenant adds login.<zone>, proves it
with a TXT record that a real authoritative DNS server on loopback serves (dnslib), the
check runs in a real Celery worker whose resolver setting points at that server, and the
real server (gunicorn) then serves the tenant on that host; the primary switch moves the
issuer and email links; a removed domain stays reserved.

The server and the worker share a broker database of their own, so no other worker of the
test run (with another resolver) takes the checks."""

from __future__ import annotations

import re
import threading
import uuid
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests
from django.core.exceptions import ValidationError
from django.test import Client
from django_tenants.utils import tenant_context

from audit.models import AuditEvent
from ciam.test_resources import redis_database_claim
from domains import services
from domains.models import CustomDomain, DomainReservation
from tenants.models import Domain
from tests.domains.helpers import LoopbackDns
from tests.helpers import PASSWORD, TenantWorld, eventually
from tests.mail import body_text
from tests.server import free_port, start_celery_worker, start_gunicorn, stop

pytestmark = [pytest.mark.server]

# Enough tries, each waiting for a slow record's DNS timeout (2 s), for a browser to check a
# page while the domain is still being verified (test_the_console_pages_pass_axe...).
TRIES = 5


class _Files(BaseHTTPRequestHandler):
    """A customer's own web server: answers the paths in `files` with their contents."""

    files: dict[tuple[str, str], str] = {}

    def do_GET(self):  # noqa: N802 (the handler API)
        host = self.headers.get("Host", "").rsplit(":", 1)[0]
        content = self.files.get((host, self.path))
        self.send_response(200 if content is not None else 404)
        self.end_headers()
        self.wfile.write((content or "not here").encode())

    def log_message(self, *args):
        pass


class Live:
    def __init__(self, *, port, dns, worlds):
        self.port = port
        self.base = f"http://127.0.0.1:{port}"
        self.dns = dns
        self.worlds = worlds  # "a" and "b": tenants of this module only

    def host(self, world) -> str:
        return f"{world.tenant.slug}.localhost:{self.port}"

    def console(self, world, user=None) -> requests.Session:
        """`user`'s (the world's admin by default) browser session on the server."""
        client = world.client(user=user or world.admin)
        session = requests.Session()
        session.headers["Host"] = self.host(world)
        session.cookies.set("sessionid", client.cookies["sessionid"].value)
        session.get(f"{self.base}/console/", timeout=30)  # sets the CSRF cookie
        return session

    def post(self, session, path, data) -> requests.Response:
        return session.post(
            f"{self.base}{path}",
            data={"csrfmiddlewaretoken": session.cookies["csrftoken"], **data},
            headers={"Referer": f"http://{session.headers['Host']}{path}"},
            allow_redirects=False,
            timeout=30,
        )


def _world(slug_prefix: str) -> TenantWorld:
    from django.contrib.auth import get_user_model

    from tenants.services import tenant_create

    slug = f"{slug_prefix}-{uuid.uuid4().hex[:8]}"
    tenant = tenant_create(
        name=slug_prefix.title(), slug=slug, admin_email=f"admin@{slug}.example",
        admin_password=PASSWORD,
    )  # fmt: skip
    with tenant_context(tenant):
        admin = get_user_model().objects.get(email=f"admin@{slug}.example")
        member = get_user_model().objects.create_user(
            email=f"member@{slug}.example", password=PASSWORD
        )
    return TenantWorld(tenant=tenant, host=tenant.primary_host, admin=admin, member=member)


@pytest.fixture(scope="module")
def live(worlds, subprocess_env, smtp_sink, django_db_blocker):
    from tenants.services import tenant_delete

    dns = LoopbackDns().start()
    files = ThreadingHTTPServer(("127.0.0.1", 0), _Files)
    threading.Thread(target=files.serve_forever, daemon=True).start()
    broker_url = redis_database_claim("redis://127.0.0.1:6379")
    environment = {
        **subprocess_env,
        "CELERY_BROKER_URL": broker_url,
        "EMAIL_URL": smtp_sink.url,
        "DNS_RESOLVER_ADDRESS": "127.0.0.1",
        "DNS_RESOLVER_PORT": str(dns.port),
        "DNS_RESOLVER_TIMEOUT_SECONDS": "2",
        "DOMAIN_VERIFICATION_TRIES": str(TRIES),
        "DOMAIN_VERIFICATION_RETRY_SECONDS": "0.5",
        "DOMAIN_VERIFICATION_RETRY_MAX_SECONDS": "1",
        "DOMAIN_VERIFICATION_HTTP_PORT": str(files.server_address[1]),
    }
    with django_db_blocker.unblock():
        tenants = {"a": _world("dom-a"), "b": _world("dom-b")}
    port = free_port()
    server = start_gunicorn(environment, port)
    worker = start_celery_worker(environment)
    try:
        yield Live(port=port, dns=dns, worlds=tenants)
    finally:
        stop(worker)
        stop(server)
        dns.stop()
        files.shutdown()
        with django_db_blocker.unblock():
            for world in tenants.values():
                tenant_delete(tenant=world.tenant, confirm_slug=world.tenant.slug, actor=None)


def _new_host() -> str:
    return f"login-{uuid.uuid4().hex[:8]}.contoso.test"


def _state(world, host) -> CustomDomain | None:
    return CustomDomain.objects.filter(tenant=world.tenant, host=host).first()


def _add(live, session, host) -> CustomDomain:
    response = live.post(session, "/console/domains/add/", {"host": host})
    assert response.status_code == 303, response.text[:2000]
    return CustomDomain.objects.get(host=host, tenant__slug=session.headers["Host"].split(".")[0])


def _verified(live, world, session=None) -> str:
    """A custom domain of `world` proved through the console, DNS and the worker."""
    session = session or live.console(world)
    host = _new_host()
    custom_domain = _add(live, session, host)
    live.dns.zone.add(custom_domain.txt_name, "TXT", custom_domain.txt_value)
    live.post(session, f"/console/domains/{custom_domain.public_id}/check/", {})
    eventually(
        lambda: _state(world, host).state == "verified",
        timeout=30,
        message=lambda: f"not verified: {_state(world, host).failure_reason}",
    )
    return host


def test_a_txt_record_verifies_the_domain_and_then_it_serves_the_tenant(live, committed):
    world = live.worlds["a"]
    admin = live.console(world)
    host = _new_host()
    custom_domain = _add(live, admin, host)

    # The page tells what to create: the record's name and value.
    page = admin.get(f"{live.base}/console/domains/{custom_domain.public_id}/", timeout=30)
    assert f"_ciam-challenge.{host}" in page.text
    assert f"ciam-verification={custom_domain.token}" in page.text
    assert f"/.well-known/ciam-domain-verification/{custom_domain.token}" in page.text
    # Not proved yet: the host serves nobody.
    on_custom = requests.get(
        f"{live.base}/accounts/login/", headers={"Host": f"{host}:{live.port}"}, timeout=30
    )
    assert on_custom.status_code == 404
    assert world.tenant.name not in on_custom.text

    live.dns.zone.add(custom_domain.txt_name, "TXT", "google-site-verification=unrelated")
    live.dns.zone.add(custom_domain.txt_name, "TXT", custom_domain.txt_value)
    checked = live.post(admin, f"/console/domains/{custom_domain.public_id}/check/", {})
    assert checked.status_code == 303
    eventually(lambda: _state(world, host).state == "verified", timeout=30)

    fragment = admin.get(
        f"{live.base}/console/domains/{custom_domain.public_id}/",
        headers={"HX-Request": "true", "HX-Target": "domain-state"},
        timeout=30,
    )
    assert "Verified" in fragment.text and "<h1" not in fragment.text
    on_custom = eventually(
        lambda: (
            (
                response := requests.get(
                    f"{live.base}/accounts/login/",
                    headers={"Host": f"{host}:{live.port}"},
                    timeout=30,
                )
            ).status_code
            == 200
            and response
        ),
        message="the verified host does not serve the tenant",
    )
    assert world.tenant.name in on_custom.text
    with tenant_context(world.tenant):
        event = AuditEvent.objects.get(action="domain.verify", target_label=host)
        assert event.after["proof"] == "dns"
        assert AuditEvent.objects.filter(action="domain.add", target_label=host).exists()


def test_without_the_record_the_check_is_tried_again_then_fails_in_plain_words(live, committed):
    world = live.worlds["a"]
    admin = live.console(world)
    host = _new_host()
    custom_domain = _add(live, admin, host)

    failed = eventually(lambda: (row := _state(world, host)).state == "failed" and row, timeout=30)
    assert failed.attempts == TRIES
    assert f"No TXT record named _ciam-challenge.{host} exists yet." in failed.failure_reason
    asked = [name for name, kind in live.dns.zone.queries if name == f"_ciam-challenge.{host}"]
    assert len(asked) == TRIES
    page = admin.get(f"{live.base}/console/domains/{custom_domain.public_id}/", timeout=30)
    assert "Failed" in page.text and "No TXT record named" in page.text
    assert 'hx-trigger="every 2s"' not in page.text  # no more polling once it is settled
    with tenant_context(world.tenant):
        assert AuditEvent.objects.filter(action="domain.verify_fail", target_label=host).exists()


def test_a_record_with_another_value_fails(live, committed):
    world = live.worlds["a"]
    admin = live.console(world)
    host = _new_host()
    live.dns.zone.add(f"_ciam-challenge.{host}", "TXT", "ciam-verification=not-the-token")
    _add(live, admin, host)

    failed = eventually(lambda: (row := _state(world, host)).state == "failed" and row, timeout=30)
    assert "its value is not the one this page shows" in failed.failure_reason
    assert not Domain.objects.filter(domain=host).exists()


def test_a_file_on_the_customers_web_server_also_proves_the_domain(live, committed):
    world = live.worlds["a"]
    admin = live.console(world)
    host = _new_host()
    live.dns.zone.add(host, "A", "127.0.0.1")  # the customer's web server, still theirs
    custom_domain = _add(live, admin, host)
    _Files.files[(host, f"/.well-known/ciam-domain-verification/{custom_domain.token}")] = (
        custom_domain.token + "\n"
    )
    live.post(admin, f"/console/domains/{custom_domain.public_id}/check/", {})

    verified = eventually(
        lambda: (row := _state(world, host)).state == "verified" and row,
        timeout=30,
        message=lambda: _state(world, host).failure_reason,
    )
    assert verified.verified_by == "http"


def test_a_wrong_file_fails_and_says_so(live, committed):
    world = live.worlds["a"]
    admin = live.console(world)
    host = _new_host()
    live.dns.zone.add(host, "A", "127.0.0.1")
    custom_domain = _add(live, admin, host)
    path = f"/.well-known/ciam-domain-verification/{custom_domain.token}"
    _Files.files[(host, path)] = "someone else's token"

    failed = eventually(lambda: (row := _state(world, host)).state == "failed" and row, timeout=30)
    assert "does not hold the token this page shows" in failed.failure_reason
    assert "No TXT record named" in failed.failure_reason


def test_making_a_custom_domain_primary_moves_the_issuer_and_email_links(live, committed, mailbox):
    from tests.oidc.helpers import register_app

    world = live.worlds["b"]
    admin = live.console(world)
    register_app(world, name="Contoso portal", redirect_uri="https://portal.contoso.test/cb")
    host = _verified(live, world, admin)
    old_issuer = f"http://{live.host(world)}/o"
    new_issuer = f"http://{host}:{live.port}/o"

    # The confirmation page says what changes before anything does.
    page = admin.get(f"{live.base}/console/domains/primary/{host}/", timeout=30)
    assert page.status_code == 200
    assert new_issuer in page.text and old_issuer in page.text
    assert "Contoso portal" in page.text and "https://portal.contoso.test/cb" in page.text
    wrong = live.post(admin, f"/console/domains/primary/{host}/", {"confirm_host": "nope"})
    assert wrong.status_code == 400 and f"Type {host} to confirm." in wrong.text
    assert Domain.objects.get(tenant=world.tenant, is_primary=True).domain != host

    done = live.post(admin, f"/console/domains/primary/{host}/", {"confirm_host": host})
    assert done.status_code == 303

    def issuer():
        return requests.get(
            f"{live.base}/o/.well-known/openid-configuration",
            headers={"Host": live.host(world)},
            timeout=30,
        ).json()["issuer"]

    eventually(lambda: issuer() == new_issuer, timeout=15)
    # The old primary stays an alias.
    assert (
        requests.get(
            f"{live.base}/accounts/login/", headers={"Host": live.host(world)}, timeout=30
        ).status_code
        == 200
    )
    with tenant_context(world.tenant):
        event = AuditEvent.objects.get(action="domain.primary_change", target_label=host)
        assert event.before["issuer"] == old_issuer and event.after["issuer"] == new_issuer

    # A password reset email links to the new primary domain.
    person = requests.Session()
    person.headers["Host"] = live.host(world)
    form = person.get(f"{live.base}/accounts/password/reset/", timeout=30)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.text).group(1)
    asked = person.post(
        f"{live.base}/accounts/password/reset/",
        {"csrfmiddlewaretoken": token, "email": world.member.email},
        allow_redirects=False,
        timeout=30,
    )
    assert asked.status_code in (302, 303)
    (message,) = mailbox.wait_for(world.member.email, timeout=30)
    links = re.findall(r"https?://[^\s\"<>]+", body_text(message))
    assert any(link.startswith(f"http://{host}:{live.port}/") for link in links), links
    assert not any(f"{world.tenant.slug}.localhost" in link for link in links), links

    # The primary domain cannot be removed while it is primary.
    custom_domain = _state(world, host)
    refused = live.post(admin, f"/console/domains/{custom_domain.public_id}/remove/", {})
    assert refused.status_code == 303
    assert Domain.objects.filter(domain=host, tenant=world.tenant).exists()
    # Back to the built-in host, for the other tests of this tenant.
    back = live.post(
        admin,
        f"/console/domains/primary/{world.tenant.slug}.localhost/",
        {"confirm_host": f"{world.tenant.slug}.localhost"},
    )
    assert back.status_code == 303


def test_a_removed_domain_stays_reserved_for_its_tenant_for_30_days(live, committed):
    world, other = live.worlds["a"], live.worlds["b"]
    admin = live.console(world)
    host = _verified(live, world, admin)
    custom_domain = _state(world, host)

    page = admin.get(f"{live.base}/console/domains/{custom_domain.public_id}/remove/", timeout=30)
    assert "reserved for this directory for 30 days" in page.text
    removed = live.post(admin, f"/console/domains/{custom_domain.public_id}/remove/", {})
    assert removed.status_code == 303
    assert not Domain.objects.filter(domain=host).exists()
    eventually(
        lambda: (
            requests.get(
                f"{live.base}/accounts/login/", headers={"Host": f"{host}:{live.port}"}, timeout=30
            ).status_code
            == 404
        ),
        message="the removed host still serves the tenant",
    )
    reservation = DomainReservation.objects.get(host=host)
    with tenant_context(world.tenant):
        assert AuditEvent.objects.filter(action="domain.remove", target_label=host).exists()

    removed_at = reservation.reserved_until - timedelta(days=30)
    with tenant_context(other.tenant):
        for day in (0, 29):
            with pytest.raises(ValidationError) as refused:
                services.custom_domain_add(
                    tenant=other.tenant, host=host, actor=other.admin,
                    now=removed_at + timedelta(days=day),
                )  # fmt: skip
            assert "in use by another directory" in str(refused.value)
        claim = services.custom_domain_add(
            tenant=other.tenant, host=host, actor=other.admin,
            now=removed_at + timedelta(days=30, minutes=1),
        )  # fmt: skip
        claim.delete()
    # Its own tenant may add it back at once.
    with tenant_context(world.tenant):
        again = services.custom_domain_add(tenant=world.tenant, host=host, actor=world.admin)
        assert again.state == "pending"
        again.delete()


def test_only_global_administrators_open_custom_domains(acme):
    from accounts.roles import AdminRole

    with tenant_context(acme.tenant):
        from django.contrib.auth import get_user_model

        user_admin = get_user_model().objects.create_user(
            email=f"ua-{uuid.uuid4().hex[:8]}@acme.test",
            password=PASSWORD,
            admin_roles=[AdminRole.USER_ADMINISTRATOR],
        )
    client = acme.client(user=user_admin)
    assert client.get("/console/domains/").status_code == 403
    host = _new_host()
    assert client.post("/console/domains/add/", {"host": host}).status_code == 403
    assert "/console/domains/" not in client.get("/console/").content.decode()
    assert not CustomDomain.objects.filter(host=host).exists()

    admin = acme.client(user=acme.admin)
    assert admin.get("/console/domains/").status_code == 200
    assert "/console/domains/" in admin.get("/console/").content.decode()


def test_adding_a_domain_needs_the_csrf_token(acme):
    client = Client(HTTP_HOST=acme.host, enforce_csrf_checks=True)
    with tenant_context(acme.tenant):
        client.force_login(acme.admin)
    host = _new_host()
    assert client.post("/console/domains/add/", {"host": host}).status_code == 403
    assert not CustomDomain.objects.filter(host=host).exists()


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("https://login.contoso.com/", "Type the host name only"),
        ("login.acme.localhost", "are the platform"),
        ("10.0.0.1", "not an IP address"),
        ("intranet", "Use a full host name"),
        ("bad_name.contoso.com", "not a valid host name"),
        ("printer.local", "cannot be reached on the internet"),
        ("", "This field is required"),
    ],
)
def test_a_bad_host_is_refused_next_to_the_field_and_kept(acme, typed, message):
    admin = acme.client(user=acme.admin)
    response = admin.post("/console/domains/add/", {"host": typed})
    assert response.status_code == 200
    page = response.content.decode()
    assert message in page
    assert 'aria-invalid="true"' in page
    if typed:
        assert f'value="{typed}"' in page


def test_a_host_verified_by_another_tenant_cannot_be_added(acme, globex):
    host = _new_host()
    Domain.objects.create(domain=host, tenant=globex.tenant, is_verified=True)
    admin = acme.client(user=acme.admin)
    response = admin.post("/console/domains/add/", {"host": host.upper() + "."})
    assert f"{host} is in use by another directory." in response.content.decode()
    assert not CustomDomain.objects.filter(tenant=acme.tenant, host=host).exists()
    # A claim not proved yet blocks nobody: two tenants may both try, the first proof wins.
    CustomDomain.objects.create(tenant=globex.tenant, host=f"x.{host}")
    assert admin.post("/console/domains/add/", {"host": f"x.{host}"}).status_code == 303


def test_the_console_pages_pass_axe_and_the_state_refreshes_itself_under_the_real_csp(
    live, committed
):
    from tests.browser import axe_violations, in_own_thread

    world = live.worlds["a"]
    admin = live.console(world)
    client = world.client(user=world.admin)
    cookie = client.cookies["sessionid"].value
    origin = f"http://{live.host(world)}"
    found: dict[str, list] = {}
    csp_errors: list[str] = []

    def opened(page):
        page.context.add_cookies([{"name": "sessionid", "value": cookie, "url": origin}])
        page.on(
            "console",
            lambda message: (
                "Content Security Policy" in message.text and csp_errors.append(message.text)
            ),
        )
        return page

    def list_and_add_pages(page):
        opened(page)
        for path in ("/console/domains/", "/console/domains/add/"):
            page.goto(f"{origin}{path}")
            page.wait_for_selector("h1")
            found[path] = axe_violations(page)

    in_own_thread(list_and_add_pages)

    # Added only now, so that its tries (each waiting for its DNS timeout: it stays
    # verifying) do not run out while the other pages are checked on a loaded machine.
    host = _new_host()
    record = f"_ciam-challenge.{host}"
    live.dns.zone.slow.add(record)
    custom_domain = _add(live, admin, host)

    def detail_page(page):
        opened(page)
        page.goto(f"{origin}/console/domains/{custom_domain.public_id}/")
        page.wait_for_selector("#domain-state[hx-trigger]")  # pending or verifying: polled
        found["detail"] = axe_violations(page)
        # The record appears: the page shows "Verified" without a reload (htmx polling).
        live.dns.zone.add(record, "TXT", custom_domain.txt_value)
        live.dns.zone.slow.discard(record)
        page.wait_for_selector("#domain-state .badge.text-bg-success", timeout=30_000)
        found["verified"] = axe_violations(page)

    in_own_thread(detail_page)
    assert csp_errors == []
    assert all(violations == [] for violations in found.values()), found
    assert _state(world, host).state == "verified"


def test_a_deleted_tenants_custom_domains_stay_reserved(acme, worlds):
    from tenants.services import tenant_create, tenant_delete

    slug = f"gone-{uuid.uuid4().hex[:8]}"
    tenant = tenant_create(
        name="Gone", slug=slug, admin_email=f"a@{slug}.example", admin_password=PASSWORD
    )
    host = _new_host()
    CustomDomain.objects.create(tenant=tenant, host=host, state="verified")
    Domain.objects.create(tenant=tenant, domain=host, is_verified=True)
    tenant_delete(tenant=tenant, confirm_slug=slug, actor=None)

    admin = acme.client(user=acme.admin)
    response = admin.post("/console/domains/add/", {"host": host})
    assert f"{host} is in use by another directory." in response.content.decode()


def test_another_tenants_custom_domain_is_invisible(acme, globex):
    host = _new_host()
    theirs = CustomDomain.objects.create(tenant=acme.tenant, host=host)
    admin = globex.client(user=globex.admin)
    assert host not in admin.get("/console/domains/").content.decode()
    assert admin.get(f"/console/domains/{theirs.public_id}/").status_code == 404
    assert admin.post(f"/console/domains/{theirs.public_id}/check/").status_code == 404
    assert admin.post(f"/console/domains/{theirs.public_id}/remove/").status_code == 404
    assert CustomDomain.objects.filter(pk=theirs.pk).exists()
    # Nor can it make another tenant's host its primary domain.
    assert admin.get(f"/console/domains/primary/{acme.tenant.slug}.localhost/").status_code == 404


def test_the_global_administrators_are_emailed_what_a_primary_change_changes(committed):
    from django.contrib.auth import get_user_model

    from accounts.roles import AdminRole
    from emails.models import OutboxEmail
    from tenants.services import tenant_delete
    from tests.federation.helpers import create_provider
    from tests.oidc.helpers import register_app

    world = _world("dom-c")
    try:
        host = _new_host()
        Domain.objects.create(domain=host, tenant=world.tenant, is_verified=True)
        register_app(world, name="Contoso portal", redirect_uri="https://portal.contoso.test/cb")
        provider = create_provider(world, name="Contoso Entra")
        with tenant_context(world.tenant):
            users = get_user_model().objects
            other_global = users.create_user(
                email=f"second@{world.tenant.slug}.example", password=PASSWORD,
                admin_roles=[AdminRole.GLOBAL_ADMINISTRATOR],
            )  # fmt: skip
            users.create_user(
                email=f"gone@{world.tenant.slug}.example", password=PASSWORD, is_active=False,
                admin_roles=[AdminRole.GLOBAL_ADMINISTRATOR],
            )  # fmt: skip
            users.create_user(
                email=f"users@{world.tenant.slug}.example", password=PASSWORD,
                admin_roles=[AdminRole.USER_ADMINISTRATOR],
            )  # fmt: skip
            from federation.services import redirect_uri

            old_callback = redirect_uri(provider)
        admin = world.client(user=world.admin)
        done = admin.post(f"/console/domains/primary/{host}/", {"confirm_host": host})
        assert done.status_code == 303

        with tenant_context(world.tenant):
            notices = {
                row.to: row.payload
                for row in OutboxEmail.objects.filter(kind="account")
                if host in row.payload.get("subject", "")
            }
        # Every enabled Global administrator, nobody else.
        assert sorted(notices) == sorted([world.admin.email, other_global.email])
        text = notices[other_global.email]["text"]
        assert f"Your primary domain is now {host}" in notices[other_global.email]["subject"]
        assert f"changed from {world.tenant.slug}.localhost" in text
        assert f"Before: http://{world.tenant.slug}.localhost" in text
        assert f"Now: http://{host}" in text and "/o\n" in text
        assert "Contoso portal" in text
        new_callback = old_callback.replace(f"{world.tenant.slug}.localhost", host, 1)
        assert f"Contoso Entra: {new_callback}" in text, text
        assert f"By {world.admin.email}" in text
        assert new_callback in notices[world.admin.email]["html"]
        with tenant_context(world.tenant):
            assert AuditEvent.objects.filter(action="domain.primary_change").count() == 1
    finally:
        tenant_delete(tenant=world.tenant, confirm_slug=world.tenant.slug, actor=None)
