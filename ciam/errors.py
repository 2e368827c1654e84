import logging
import sys

from django.contrib.auth.models import AnonymousUser
from django.db import InterfaceError, OperationalError
from django.shortcuts import render

logger = logging.getLogger(__name__)

# What a client waiting for the database is told to wait (seconds).
DATABASE_RETRY_AFTER = 30


def not_found(request, exception=None):
    return render(request, "errors/404.html", status=404)


def server_error(request):
    """The 500 page; while the database cannot be reached, a 503 that says to come back.

    Django calls this inside the `except` of the failed request, so the error is at hand.
    """
    error = sys.exc_info()[1]
    if isinstance(error, OperationalError | InterfaceError):
        return database_unavailable(request)
    return render(request, "errors/500.html", status=500)


def database_unavailable(request):
    """503 with Retry-After, in the tenant's look when this process knows it (the tenant and
    its branding are cached per process), rendered without touching the database: no user,
    no session, no messages."""
    request.user = AnonymousUser()
    if hasattr(request, "_messages"):  # their store is the session: none read, none kept
        del request._messages
    response = render(request, "errors/503.html", status=503)
    response["Retry-After"] = str(DATABASE_RETRY_AFTER)
    return response
