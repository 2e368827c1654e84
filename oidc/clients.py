"""App registrations, cached per process; their secrets, always checked in the database.

The token endpoint reads the app of every call; each process keeps them, for CLIENT_SECONDS
at most. A change made anywhere is forgotten by every process within the process cache's
check interval (and at once by the process that made it). Only registered apps are kept, at
most MAX_CLIENTS of them: client ids that match no app are answered from the database each
time, so anyone can ask about as many as they like without growing the process.

Secrets are not kept: a secret revoked, rotated or expired is refused at once by every
process. The token endpoint checks it within the first statement of each grant
(oidc.library_tables.client_secret_valid_sql), the other endpoints with
client_secret_valid.
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


def client_get(client_id: str) -> Application | None:
    key = (connection.schema_name, client_id)
    cached = _clients.get(key)
    if cached is not None:
        return cached
    # PostgreSQL text cannot hold NUL (psycopg refuses to send it): no app has such an id.
    application = (
        None if "\x00" in client_id else Application.objects.filter(client_id=client_id).first()
    )
    if application is not None:
        _clients.set(key, application)
    return application


def client_secret_valid(application: Application, digest: str) -> bool:
    """Whether `digest` (oidc.client_secrets.secret_digest of the secret shown) is one of the
    app's secrets, unexpired, in the database now."""
    return ClientSecret.objects.filter(
        application_id=application.pk, digest=digest, expires_at__gt=timezone.now()
    ).exists()


def client_secret_matches(application: Application, secret: str) -> bool:
    return client_secret_valid(application, secret_digest(secret))


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
