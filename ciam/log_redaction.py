"""Structured log lines bound to the tenant and the request.

Every record gets `tenant` (the schema the connection is on) and `request_id` (from
RequestIdMiddleware), so a line can be traced to one tenant and one request.
"""

from __future__ import annotations

import contextvars
import logging
import re

request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")


class TenantContextFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        from django.db import connection

        record.tenant = getattr(connection, "schema_name", None) or "-"
        record.request_id = request_id_var.get()
        return True


# Secrets that travel in URLs: invitation links, email confirmation and password reset keys
# in the path; codes, tokens and secrets in the query. Whatever logs a URL (gunicorn's access
# log, runserver, "Not Found: <path>") shows them as [redacted].
REDACTED = "[redacted]"
_SECRET_PATH = re.compile(
    r"(?P<prefix>/invite/)(?!(?:new|guests|code|consent)/)[^/\s?#\"']+"
    r"|(?P<prefix2>/accounts/confirm-email/)[^/\s?#\"']+"
    r"|(?P<prefix3>/accounts/password/reset/key/)(?!done/)[^/\s?#\"']+"
)
_SECRET_QUERY = re.compile(
    r"(?P<name>(?:^|[?&;]|%3F|%26)(?:code|id_token_hint|token|refresh_token|access_token|"
    r"client_secret|code_verifier|password|key|client_assertion)(?:=|%3D))"
    # The value ends at a separator, plain or percent-encoded (a query inside `next=`).
    r"(?:[^&;\s\"'#%]|%(?!26|23|3B)[0-9A-Fa-f]{2})*",
    re.IGNORECASE,
)


def url_secrets_redacted(text: str) -> str:
    """`text` with the secrets of any URL in it replaced by [redacted]; the rest is kept."""
    if not text or ("/" not in text and "=" not in text):
        return text
    text = _SECRET_PATH.sub(
        lambda match: (match["prefix"] or match["prefix2"] or match["prefix3"]) + REDACTED, text
    )
    return _SECRET_QUERY.sub(lambda match: match["name"] + REDACTED, text)


class UrlSecretsFilter(logging.Filter):
    """Rewrites a record whose message carries a URL secret (Django's request and runserver
    loggers log paths)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = url_secrets_redacted(message)
        if redacted != message:
            record.msg, record.args = redacted, ()
        return True


try:
    from gunicorn.glogging import Logger as _GunicornLogger
except ImportError:  # gunicorn is the production server, not needed to import this module
    _GunicornLogger = object


class GunicornLogger(_GunicornLogger):
    """gunicorn's logger (gunicorn.conf.py) with URL secrets redacted from access lines:
    the request line, path, query and referrer."""

    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        for name in ("r", "U", "q", "f"):
            if name in atoms:
                atoms[name] = url_secrets_redacted(atoms[name])
        return atoms
