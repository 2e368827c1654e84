"""Helpers shared by test modules (fixtures live in the conftest files)."""

from __future__ import annotations

import itertools
import re
import time
import uuid
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.test import Client
from django_tenants.utils import tenant_context

from tests.mail import body_text

LINK = re.compile(r"https?://[^\s]+/invite/([A-Za-z0-9_\-]+)/")
CODE = re.compile(r"^\s*(\d{6})\s*$", re.MULTILINE)


def eventually(condition, *, timeout: float = 20, interval: float = 0.05, message=""):
    """The first true value `condition()` returns, asked every `interval` seconds; the test
    fails if none came within `timeout` seconds. For what another process (a server, a
    worker, the SMTP sink) does in its own time. `message` (text, or a function giving it
    when the time is up) says what did not happen."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() >= deadline:
            if callable(message):
                message = message()
            raise AssertionError(message or f"not true within {timeout} seconds: {value!r}")
        time.sleep(interval)


def unique_email(prefix: str = "partner", domain: str = "partner.example") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}@{domain}"


def link_token(message) -> str:
    """The invitation token in an invitation email's link."""
    match = LINK.search(body_text(message))
    assert match, body_text(message)
    return match.group(1)


def email_code(message) -> str:
    """The six-digit code in a sign-in code email."""
    match = CODE.search(body_text(message))
    assert match, body_text(message)
    return match.group(1)


# Hosted sign-up and sign-in: clients, accounts, and what the pages and outbox show.

LOCKED = "Too many failed sign-in attempts"
PASSWORD = "a long and unusual passphrase"  # every test user's, the shared worlds' included
ATTACKER_PASSWORD = "attacker picked this zebra passphrase"

_client_addresses = itertools.count(1)

FLOW = {
    "signup_enabled": "on",
    "password_enabled": "on",
    "email_code_enabled": "on",
    "email_verification": "optional",
    "password_min_length": "12",
    "terms_url": "",
    "privacy_url": "",
    "session_lifetime_hours": "12",
    "session_idle_minutes": "60",
}


def tenant_client(world) -> Client:
    """An anonymous client on the tenant's host, from an address of its own: what one client
    of a test counts per IP address (lockout, limits) does not hold back another. The cache,
    where those counts live, is emptied before each test."""
    number = next(_client_addresses)
    return Client(
        HTTP_HOST=world.host, REMOTE_ADDR=f"10.1.{number // 250 % 250}.{number % 250 + 1}"
    )


def link_in(text: str) -> str:
    match = re.search(r"https?://\S+", text)
    assert match, text
    return match.group(0)


def make_user(world, email=None, password=PASSWORD, **fields):
    with tenant_context(world.tenant):
        return get_user_model().objects.create_user(
            email=email or unique_email("user"), password=password, **fields
        )


def sign_in(client, email, password, **extra):
    return client.post("/accounts/login/", {"login": email, "password": password, **extra})


def sign_up(client, email, password=ATTACKER_PASSWORD):
    return client.post("/accounts/signup/", {"email": email, "password1": password})


def fail(client, email, count, prefix="wrong guess"):
    """`count` wrong passwords for `email`; the last answer."""
    for number in range(count):
        response = sign_in(client, email, f"{prefix} {number}")
    return response


def events(world, **filters):
    """(result, failure reason) of the sign-in log's rows that match `filters`."""
    from audit.models import SignInEvent

    with tenant_context(world.tenant):
        return list(SignInEvent.objects.filter(**filters).values_list("result", "failure_reason"))


def emails_to(world, email) -> list[str]:
    """Texts of the account emails written to the outbox for `email` (a rolled-back test's
    transaction never commits, so they wait there, code and link included)."""
    from emails.models import OutboxEmail

    with tenant_context(world.tenant):
        rows = OutboxEmail.objects.filter(to=email, kind=OutboxEmail.Kind.ACCOUNT).order_by("id")
        return [row.payload["text"] for row in rows]


def save_flow(world, **changes):
    """The tenant's user flow saved from the console: FLOW with `changes` (None leaves a box
    unticked)."""
    data = {**FLOW, **changes}
    data = {key: value for key, value in data.items() if value is not None}
    return world.client(world.admin).post("/console/user-flows/", data)


@dataclass
class TenantWorld:
    tenant: object
    host: str
    admin: object
    member: object

    def client(self, user=None, **extra) -> Client:
        """A test client on this tenant's host, signed in as `user` when given."""
        from django_tenants.utils import tenant_context

        client = Client(HTTP_HOST=self.host, **extra)
        if user is not None:
            with tenant_context(self.tenant):
                client.force_login(user)
        return client


def fresh_world(name: str, *, prefix: str = "t") -> TenantWorld:
    """A new tenant (in the test's transaction: gone with its rollback) and its admin, whose
    tables hold only what the test writes: for counts that must not see other tests' rows
    (the shared acme and globex keep what committed tests leave)."""
    import uuid

    from django.contrib.auth import get_user_model

    from tenants.services import tenant_create

    slug = f"{prefix}-{uuid.uuid4().hex[:8]}"
    tenant = tenant_create(
        name=name, slug=slug, admin_email=f"admin@{slug}.test", admin_password=PASSWORD
    )
    with tenant_context(tenant):
        admin = get_user_model().objects.get(email=f"admin@{slug}.test")
    return TenantWorld(tenant=tenant, host=tenant.primary_host, admin=admin, member=None)


def sole_global_administrator(world) -> None:
    """Within the test's transaction: `world`'s admin is its only Global administrator (tests
    that commit may have made others in acme; they get the role back at the rollback)."""
    from accounts.roles import AdminRole

    with tenant_context(world.tenant):
        get_user_model().objects.filter(
            admin_roles__contains=[AdminRole.GLOBAL_ADMINISTRATOR]
        ).exclude(pk=world.admin.pk).update(admin_roles=[])


def work_index_clear() -> None:
    """Within the test's transaction: no tenant has work due in the public index (earlier
    tests' committed work is put aside until the rollback).

    A server or worker that an earlier test started may still write an index row meanwhile
    (holding it FOR SHARE until it commits): a delete that deadlocks with it, or waits on it
    for over a second, is tried again from a savepoint rather than failing the test."""
    from django.db import OperationalError, connection, transaction

    from tenants.models import TenantWork

    for attempt in range(10):
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute("SET LOCAL lock_timeout = '1s'")
                TenantWork.objects.all().delete()
                cursor.execute("SET LOCAL lock_timeout = DEFAULT")
            return
        except OperationalError:  # deadlock detected, or the lock timeout
            if attempt == 9:
                raise
            time.sleep(0.2)


def work_index_later(world, kind: str, by) -> None:
    """As if `by` (a timedelta) had passed for `world`'s `kind` work: its index row and the
    rows the test backdated meet again."""
    from django.db.models import F

    from tenants.models import TenantWork

    TenantWork.objects.filter(tenant=world.tenant, kind=kind).update(due_at=F("due_at") - by)


def work_due_tenants(kind: str) -> set[str]:
    """The slugs of the tenants the beat task of `kind` would visit now."""
    from django.utils import timezone

    from tenants.work import tenants_with_work_due

    return {tenant.slug for tenant in tenants_with_work_due(kind, now=timezone.now())}
