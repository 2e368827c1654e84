"""Structured log lines bound to the tenant and the request.

Every record gets `tenant` (the schema the connection is on) and `request_id` (from
RequestIdMiddleware), so a line can be traced to one tenant and one request. With
`LOG_FORMAT=json` each line is one JSON object (JsonFormatter), gunicorn's access and error
lines included (GunicornLogger); URL secrets are redacted in both formats.
"""

from __future__ import annotations

import contextvars
import datetime
import json
import logging
import os
import re

request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")


class TenantContextFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        from django.db import connection

        record.tenant = getattr(connection, "schema_name", None) or "-"
        # Django logs a request's 4xx and 5xx ("Not Found: ...") with the request, after the
        # middleware has let go of its id.
        request = getattr(record, "request", None)
        record.request_id = getattr(request, "request_id", None) or request_id_var.get()
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


_RECORD_ATTRIBUTES = frozenset(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {
    "message", "asctime", "tenant", "request_id",
}  # fmt: skip


class JsonFormatter(logging.Formatter):
    """One JSON object per record: time (UTC, ISO 8601), level, logger, message, tenant,
    request_id, the exception if any, and the record's extra fields of plain types (an
    object such as Django's `request` is left out: its text would carry the URL)."""

    def format(self, record: logging.LogRecord) -> str:
        moment = datetime.datetime.fromtimestamp(record.created, tz=datetime.UTC)
        entry = {
            "time": moment.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "message": url_secrets_redacted(record.getMessage()),
            "tenant": getattr(record, "tenant", None) or "-",
            "request_id": getattr(record, "request_id", None) or request_id_var.get(),
        }
        for name, value in vars(record).items():
            if name in _RECORD_ATTRIBUTES or name.startswith("_") or name in entry:
                continue
            if isinstance(value, str):
                entry[name] = url_secrets_redacted(value)
            elif value is None or isinstance(value, (bool, int, float)):
                entry[name] = value
        if record.exc_info:
            entry["exception"] = url_secrets_redacted(self.formatException(record.exc_info))
        elif record.exc_text:
            entry["exception"] = url_secrets_redacted(record.exc_text)
        return json.dumps(entry, ensure_ascii=False)


def _json_logs() -> bool:
    return os.environ.get("LOG_FORMAT", "text") == "json"


def _current_tenant() -> str:
    try:
        from django.db import connection

        return getattr(connection, "schema_name", None) or "-"
    except Exception:  # gunicorn's arbiter has no Django
        return "-"


try:
    from gunicorn.glogging import Logger as _GunicornLogger
except ImportError:  # gunicorn is the production server, not needed to import this module
    _GunicornLogger = object


class GunicornLogger(_GunicornLogger):
    """gunicorn's logger (gunicorn.conf.py) with URL secrets redacted from access lines:
    the request line, path, query and referrer. With LOG_FORMAT=json its error and access
    lines are JSON objects too; an access line carries the request id of the answer and the
    tenant its worker thread served."""

    def setup(self, cfg):
        super().setup(cfg)
        if _json_logs():
            for log in (self.error_log, self.access_log):
                for handler in log.handlers:
                    handler.setFormatter(JsonFormatter())

    def access(self, resp, req, environ, request_time):
        if not _json_logs():
            return super().access(resp, req, environ, request_time)
        if not self.access_log_enabled:
            return None
        atoms = self.atoms(resp, req, environ, request_time)
        headers = {name.lower(): value for name, value in (resp.headers or [])}
        extra = {
            "tenant": _current_tenant(),
            "request_id": headers.get("x-request-id", "-"),
            "remote_addr": atoms.get("h", "-"),
            "method": atoms.get("m", "-"),
            "path": atoms.get("U", "-"),
            "query": atoms.get("q", ""),
            "status": resp.status_code if hasattr(resp, "status_code") else atoms.get("s"),
            "bytes": atoms.get("B"),
            "duration_ms": atoms.get("M"),
            "user_agent": atoms.get("a", "-"),
        }
        try:
            self.access_log.info(atoms.get("r", "-"), extra=extra)
        except Exception:
            self.exception("access log")
        return None

    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        for name in ("r", "U", "q", "f"):
            if name in atoms:
                atoms[name] = url_secrets_redacted(atoms[name])
        return atoms
