"""Operator > Reserved domains (README, "Custom domains"): the reservations still holding a
host, searchable and paged; an operator releases one (audited in the public schema) and
another tenant may then add the host. Nobody but a signed-in operator who proved a second
factor opens or releases anything."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.test import Client
from django.utils import timezone
from django_tenants.utils import tenant_context

from audit.models import AuditEvent
from domains import services
from domains.models import DomainReservation
from tests.helpers import PASSWORD
from tests.operators.helpers import (
    operator_make,
    operator_sign_in,
    operator_with_totp,
    password_step,
)


def _reserve(tenant, host=None, *, days=30) -> DomainReservation:
    return DomainReservation.objects.create(
        host=host or f"login-{uuid.uuid4().hex[:8]}.contoso.test",
        tenant_public_id=tenant.public_id,
        reserved_until=timezone.now() + timedelta(days=days),
        created_by="admin@acme.example",
    )


@pytest.fixture
def operator(db):
    return operator_make()


@pytest.fixture
def operator_client(operator) -> Client:
    return operator_sign_in(operator, operator_with_totp(operator))


def test_an_operator_lists_searches_and_releases_a_reserved_domain_with_an_audit_row(
    operator_client, operator, acme, globex
):
    held = _reserve(acme.tenant)
    other = _reserve(globex.tenant)
    expired = _reserve(acme.tenant, days=-1)

    listing = operator_client.get("/operator/reserved-domains/").content.decode()
    assert held.host in listing and other.host in listing
    assert expired.host not in listing  # its reservation ended by itself
    assert acme.tenant.name in listing and acme.tenant.slug in listing
    assert f"Release {held.host} now" in listing

    # Search by host, and by the tenant's slug; htmx gets the table alone.
    found = operator_client.get("/operator/reserved-domains/", {"q": held.host}).content.decode()
    assert held.host in found and other.host not in found
    by_tenant = operator_client.get(
        "/operator/reserved-domains/", {"q": globex.tenant.slug}, HTTP_HX_REQUEST="true"
    ).content.decode()
    assert other.host in by_tenant and held.host not in by_tenant
    assert "<html" not in by_tenant

    # Another tenant cannot add the host while it is reserved...
    with tenant_context(globex.tenant), pytest.raises(ValidationError):
        services.custom_domain_add(tenant=globex.tenant, host=held.host, actor=globex.admin)

    response = operator_client.post(f"/operator/reserved-domains/{held.public_id}/release/")
    assert response.status_code == 302
    after = operator_client.get(response["Location"]).content.decode()
    assert f"{held.host} is released" in after
    assert f"Release {held.host} now" not in after and other.host in after
    held.refresh_from_db()
    assert held.released_at is not None and held.released_by == operator.email
    event = AuditEvent.objects.get(action="domain.reservation_release", target_label=held.host)
    assert event.actor_label == operator.email
    assert event.before["tenant"] == str(acme.tenant.public_id)

    # ...and may once it is released.
    with tenant_context(globex.tenant):
        claim = services.custom_domain_add(tenant=globex.tenant, host=held.host, actor=globex.admin)
        assert claim.state == "pending"
    # A released reservation cannot be released again (it is no longer listed).
    again = operator_client.post(f"/operator/reserved-domains/{held.public_id}/release/")
    assert again.status_code == 404


def test_the_list_pages_25_at_a_time(operator_client, acme):
    prefix = uuid.uuid4().hex[:6]
    for number in range(30):
        _reserve(acme.tenant, f"h{number:02d}-{prefix}.contoso.test")
    first = operator_client.get("/operator/reserved-domains/", {"q": prefix}).content.decode()
    second = operator_client.get(
        "/operator/reserved-domains/", {"q": prefix, "page": 2}
    ).content.decode()
    on_first = [n for n in range(30) if f"h{n:02d}-{prefix}" in first]
    on_second = [n for n in range(30) if f"h{n:02d}-{prefix}" in second]
    assert len(on_first) == 25 and len(on_second) == 5
    assert not set(on_first) & set(on_second)


def test_only_operators_who_proved_a_second_factor_see_or_release_reservations(
    operator, acme, settings
):
    settings.MFA_THROTTLE_FACTOR = 0
    held = _reserve(acme.tenant)
    release = f"/operator/reserved-domains/{held.public_id}/release/"

    # Nobody signed in: to the operator sign-in.
    anonymous = Client(HTTP_HOST="localhost")
    for response in (anonymous.get("/operator/reserved-domains/"), anonymous.post(release)):
        assert response.status_code == 302
        assert response["Location"].startswith("/operator/login/")

    # A user of the public schema who is not an operator (not staff).
    someone = get_user_model().objects.create_user(
        email=f"someone-{uuid.uuid4().hex[:6]}@platform.test", password=PASSWORD
    )
    client = Client(HTTP_HOST="localhost")
    client.force_login(someone)
    for response in (client.get("/operator/reserved-domains/"), client.post(release)):
        assert response.status_code == 302
        assert response["Location"].startswith("/operator/login/")

    # An operator after the password but before the second factor.
    half = Client(HTTP_HOST="localhost")
    operator_with_totp(operator)
    password_step(half, operator)
    for response in (half.get("/operator/reserved-domains/"), half.post(release)):
        assert response.status_code == 302
        assert response["Location"].startswith("/operator/login/code/")

    # A tenant's Global administrator, on the tenant's host: no such page there.
    admin = acme.client(user=acme.admin)
    assert admin.get("/operator/reserved-domains/").status_code == 404
    assert admin.post(release).status_code in (403, 404)

    held.refresh_from_db()
    assert held.released_at is None
    assert not AuditEvent.objects.filter(
        action="domain.reservation_release", target_label=held.host
    ).exists()
