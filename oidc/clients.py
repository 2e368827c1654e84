"""App registrations and their secret digests, cached per process.

The token endpoint authenticates a client on every call; reading the app and its secrets
costs two queries, so each process keeps them, for CLIENT_SECONDS at most. A change made
anywhere is forgotten by every process within the process cache's check interval (and at
once by the process that made it). Only registered apps are kept, at most MAX_CLIENTS of
them: client ids that match no app are answered from the database each time, so anyone can
ask about as many as they like without growing the process.
"""

from __future__ import annotations

from django.db import connection
from django.utils import timezone

from ciam.process_cache import ProcessCache
from oidc.client_secrets import secret_digest
from oidc.models import Application, ClientSecret

CLIENT_SECONDS = 5.0
MAX_CLIENTS = 5_000

_clients = ProcessCache("oidc:clients-generation", max_entries=MAX_CLIENTS, max_age=CLIENT_SECONDS)


def _entry(client_id: str) -> tuple[Application | None, tuple]:
    """(app or None, (digest, expires_at) of its secrets)."""
    key = (connection.schema_name, client_id)
    cached = _clients.get(key)
    if cached is not None:
        return cached
    # PostgreSQL text cannot hold NUL (psycopg refuses to send it): no app has such an id.
    application = (
        None if "\x00" in client_id else Application.objects.filter(client_id=client_id).first()
    )
    if application is None:
        return None, ()
    digests: tuple = ()
    if application.is_confidential:
        digests = tuple(
            ClientSecret.objects.filter(application=application).values_list("digest", "expires_at")
        )
    entry = (application, digests)
    _clients.set(key, entry)
    return entry


def client_get(client_id: str) -> Application | None:
    return _entry(client_id)[0]


def client_secret_matches(application: Application, secret: str) -> bool:
    cached, digests = _entry(application.client_id)
    if cached is None or cached.pk != application.pk:
        return False
    digest = secret_digest(secret)
    moment = timezone.now()
    return any(stored == digest and expires_at > moment for stored, expires_at in digests)


def clients_forget() -> None:
    """After a change to an app or its secrets: forgotten here now, in every process once
    the change commits."""
    _clients.invalidate()


def clients_forget_all() -> None:
    """Forget this process's cached apps (tests, whose changes roll back)."""
    _clients.forget_local()


def clients_cached() -> int:
    """How many apps this process keeps (for tests and diagnostics)."""
    return len(_clients)
