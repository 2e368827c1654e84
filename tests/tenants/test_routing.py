from __future__ import annotations

from django.db import connection
from django.test.utils import CaptureQueriesContext

from ciam.health import readiness_forget
from tenants.models import Domain
from tenants.services import tenant_resume, tenant_suspend
from tests.helpers import PASSWORD


def test_tenant_host_serves_that_tenant(acme):
    response = acme.client().get("/")
    assert response.status_code == 200
    assert "Welcome to Acme Corporation" in response.content.decode()


def test_unknown_host_gets_a_plain_404_naming_no_tenant(acme):
    from django.test import Client

    for host in ("nope.localhost", "evil.example.com", "acme.localhost.evil.com"):
        response = Client(HTTP_HOST=host).get("/")
        body = response.content.decode()
        assert response.status_code == 404
        assert "nothing here" in body
        assert "Acme" not in body and "Globex" not in body


def test_forwarded_host_header_is_ignored(acme):
    from django.test import Client

    response = Client(HTTP_HOST="nope.localhost", HTTP_X_FORWARDED_HOST=acme.host).get("/")
    assert response.status_code == 404


def test_unverified_custom_domain_does_not_route_and_verified_one_does(acme):
    from django.test import Client

    # A host added after the first is an alias: the tenant keeps its primary host.
    domain = Domain.objects.create(domain="login.acme.example", tenant=acme.tenant)
    assert not domain.is_primary
    assert Domain.objects.get(tenant=acme.tenant, is_primary=True).domain == acme.host
    assert Client(HTTP_HOST="login.acme.example").get("/").status_code == 404
    domain.is_verified = True
    domain.save()
    from tenants.routing import routing_invalidate

    routing_invalidate()
    response = Client(HTTP_HOST="login.acme.example").get("/")
    assert response.status_code == 200
    assert "Acme Corporation" in response.content.decode()


def test_known_host_is_routed_without_a_query_and_search_path_set_once(acme):
    client = acme.client()
    client.get("/")  # warms the host cache and the connection's search_path
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/")
    assert response.status_code == 200
    statements = [query["sql"] for query in queries.captured_queries]
    assert not any("tenants_domain" in sql for sql in statements), statements
    assert not any(sql.startswith("SET search_path") for sql in statements), statements


def test_suspended_tenant_shows_suspended_page_and_nobody_can_sign_in(acme):
    tenant_suspend(tenant=acme.tenant, actor=None)
    client = acme.client()

    page = client.get("/accounts/login/")
    assert page.status_code == 503
    assert "This tenant is suspended" in page.content.decode()
    attempt = client.post("/accounts/login/", {"login": acme.admin.email, "password": PASSWORD})
    assert attempt.status_code == 503
    assert "_auth_user_id" not in client.session

    tenant_resume(tenant=acme.tenant, actor=None)
    assert client.get("/accounts/login/").status_code == 200


def test_suspending_ends_existing_sessions(acme):
    client = acme.client(acme.member)
    tenant_suspend(tenant=acme.tenant, actor=None)
    tenant_resume(tenant=acme.tenant, actor=None)
    response = client.get("/console/")
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_health_endpoints_answer_on_any_host(worlds, db):
    from django.test import Client

    for host in ("localhost", "acme.localhost", "unknown.example"):
        client = Client(HTTP_HOST=host)
        assert client.get("/healthz").content == b"ok\n"
        ready = client.get("/readyz")
        assert ready.status_code == 200, ready.content
        assert ready.json()["ready"] is True
        assert set(ready.json()["checks"]) == {"database", "redis", "migrations"}


def _record_behind(world) -> None:
    """What a deploy of code with a new migration looks like before migrate_schemas ran: the
    tenant's public record names other migrations than the code's."""
    from tenants.models import Tenant

    Tenant.objects.filter(pk=world.tenant.pk).update(migrations_fingerprint="0" * 32)


def test_readyz_reports_a_tenant_schema_behind_on_migrations(acme):
    from django.test import Client

    _record_behind(acme)
    ready = Client(HTTP_HOST="localhost").get("/readyz")
    assert ready.status_code == 503
    assert ready.json()["checks"]["migrations"]["ok"] is False
    assert "1 tenant schemas not migrated" in ready.json()["checks"]["migrations"]["detail"]


def test_readyz_reads_one_public_record_not_every_tenant_schema(acme, globex):
    """At 10,000 tenants a walk over every schema's django_migrations would grow with them:
    the migrations check reads the public tenants table once."""
    from django.test import Client

    with CaptureQueriesContext(connection) as queries:
        assert Client(HTTP_HOST="localhost").get("/readyz").status_code == 200
    statements = " ".join(query["sql"] for query in queries)
    assert acme.tenant.schema_name not in statements
    assert globex.tenant.schema_name not in statements
    assert "UNION ALL" not in statements


def test_readyz_floods_cost_two_round_trips_not_a_walk_over_every_tenant(acme):
    """/readyz answers anyone: its migrations finding is kept a few seconds per process."""
    from django.test import Client

    client = Client(HTTP_HOST="localhost")
    with CaptureQueriesContext(connection) as first:
        assert client.get("/readyz").status_code == 200
    with CaptureQueriesContext(connection) as second:
        for _ in range(5):
            assert client.get("/readyz").json()["checks"]["migrations"]["ok"] is True
    assert len(second) == 5  # SELECT 1 each; no migration table read
    assert len(first) > 1

    _record_behind(acme)
    assert client.get("/readyz").status_code == 200  # still within the kept window
    readiness_forget()
    assert client.get("/readyz").status_code == 503
