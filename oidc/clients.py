"""App registrations and their secret digests, cached per process.

The token endpoint authenticates a client on every call; reading the app and its secrets
costs two queries, so each process keeps them for CLIENT_SECONDS (and forgets at once what
it changed itself). Another process sees a revoked secret or a changed app within that time.
"""

from __future__ import annotations

import time

from django.db import connection
from django.utils import timezone

from oidc.models import Application, ClientSecret
from oidc.secrets import secret_digest

CLIENT_SECONDS = 5.0

_clients: dict[tuple[str, str], tuple[float, Application | None, tuple]] = {}


def client_get(client_id: str) -> Application | None:
    key = (connection.schema_name, client_id)
    now = time.monotonic()
    cached = _clients.get(key)
    if cached is not None and now - cached[0] < CLIENT_SECONDS:
        return cached[1]
    try:
        application = Application.objects.filter(client_id=client_id).first()
    except ValueError:  # a NUL byte in the client id
        application = None
    digests: tuple = ()
    if application is not None and application.is_confidential:
        digests = tuple(
            ClientSecret.objects.filter(application=application).values_list("digest", "expires_at")
        )
    _clients[key] = (now, application, digests)
    return application


def client_secret_matches(application: Application, secret: str) -> bool:
    cached = _clients.get((connection.schema_name, application.client_id))
    if cached is None or cached[1] is None or cached[1].pk != application.pk:
        client_get(application.client_id)
        cached = _clients[(connection.schema_name, application.client_id)]
    digest = secret_digest(secret)
    moment = timezone.now()
    return any(stored == digest and expires_at > moment for stored, expires_at in cached[2])


def clients_forget() -> None:
    """Forget this process's cached apps of the current tenant (after a change here)."""
    schema = connection.schema_name
    for key in [key for key in _clients if key[0] == schema]:
        _clients.pop(key, None)


def clients_forget_all() -> None:
    """Forget every tenant's cached apps in this process (after a rolled-back transaction)."""
    _clients.clear()
