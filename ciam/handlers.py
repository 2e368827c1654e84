"""Two middleware stacks in one WSGI application.

Machine-to-machine endpoints (the token endpoint, JWKS and discovery, userinfo, revocation,
introspection, the REST API) authenticate every call with a client secret or a bearer token:
they have no use for sessions, CSRF, messages, the signed-in user or allauth's middleware.
Requests to them go through API_MIDDLEWARE, everything else through MIDDLEWARE. Each stack is
built once, when the process starts.
"""

from __future__ import annotations

import threading

from django.conf import settings
from django.core.handlers.wsgi import WSGIHandler
from django.urls import set_urlconf


def uses_api_stack(path: str) -> bool:
    return path.startswith(tuple(settings.API_PATH_PREFIXES))


# What a machine endpoint's answer (JSON, never a page) may do in a browser: nothing. One
# header value for every answer, built once; django-csp's middleware builds its policy anew
# for each response (a fifth of a JWKS request's time) for pages with nonces and per-flow
# form-action origins, which JSON has no use for.
API_CONTENT_SECURITY_POLICY = (
    "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
)


class ApiSecurityHeadersMiddleware:
    """On the lean stack, in place of django-csp's and Django's clickjacking middleware: a
    fixed, stricter Content-Security-Policy and X-Frame-Options DENY (unless the view set
    its own)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if "Content-Security-Policy" not in response:
            response["Content-Security-Policy"] = API_CONTENT_SECURITY_POLICY
        if "X-Frame-Options" not in response:
            response["X-Frame-Options"] = "DENY"
        return response


class ApiMiddlewareMixin:
    """A Django handler built on API_MIDDLEWARE instead of MIDDLEWARE."""

    def load_middleware(self, is_async: bool = False) -> None:
        # Django builds the chain from settings.MIDDLEWARE; this runs once at start-up.
        browser_middleware = settings.MIDDLEWARE
        settings.MIDDLEWARE = settings.API_MIDDLEWARE
        try:
            super().load_middleware(is_async)
        finally:
            settings.MIDDLEWARE = browser_middleware


# The paths of the busiest machine endpoints, resolved once per URLconf: their URL has no
# parameters, so its resolution never changes, and the tenant URLconf tries some thirty
# patterns before `o/` (a tenth of a client-credentials call's CPU). A fixed set: the kept
# resolutions cannot grow with what callers send.
RESOLVED_ONCE = frozenset(
    {
        "/o/token/",
        "/o/.well-known/jwks.json",
        "/o/.well-known/openid-configuration",
        "/o/userinfo/",
        "/o/revoke/",
        "/o/introspect/",
    }
)


class ResolvedOnceMixin:
    """Django's resolve_request, with the resolution of RESOLVED_ONCE paths kept per URLconf
    (a path that does not resolve, a 404, is resolved again each time)."""

    def resolve_request(self, request):
        path = request.path_info
        if path not in RESOLVED_ONCE:
            return super().resolve_request(request)
        key = (getattr(request, "urlconf", None), path)
        match = self._resolved.get(key)
        if match is None:
            match = super().resolve_request(request)
            with self._resolving:
                self._resolved[key] = match
            return match
        if hasattr(request, "urlconf"):
            set_urlconf(request.urlconf)  # as Django's: reverse() then uses this URLconf
        request.resolver_match = match
        return match

    def load_middleware(self, is_async: bool = False) -> None:
        self._resolved: dict = {}
        self._resolving = threading.Lock()
        super().load_middleware(is_async)


class ApiWSGIHandler(ResolvedOnceMixin, ApiMiddlewareMixin, WSGIHandler):
    pass


class Application:
    """The WSGI application: API paths to the lean stack, the rest to the full one."""

    def __init__(self) -> None:
        self.api = ApiWSGIHandler()
        self.browser = WSGIHandler()

    def __call__(self, environ, start_response):
        handler = self.api if uses_api_stack(environ.get("PATH_INFO", "")) else self.browser
        return handler(environ, start_response)
