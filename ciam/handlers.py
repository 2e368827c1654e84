"""Two middleware stacks in one WSGI application.

Machine-to-machine endpoints (the token endpoint, JWKS and discovery, userinfo, revocation,
introspection, the REST API) authenticate every call with a client secret or a bearer token:
they have no use for sessions, CSRF, messages, the signed-in user or allauth's middleware.
Requests to them go through API_MIDDLEWARE, everything else through MIDDLEWARE. Each stack is
built once, when the process starts.
"""

from __future__ import annotations

from django.conf import settings
from django.core.handlers.wsgi import WSGIHandler


def uses_api_stack(path: str) -> bool:
    return path.startswith(tuple(settings.API_PATH_PREFIXES))


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


class ApiWSGIHandler(ApiMiddlewareMixin, WSGIHandler):
    pass


class Application:
    """The WSGI application: API paths to the lean stack, the rest to the full one."""

    def __init__(self) -> None:
        self.api = ApiWSGIHandler()
        self.browser = WSGIHandler()

    def __call__(self, environ, start_response):
        handler = self.api if uses_api_stack(environ.get("PATH_INFO", "")) else self.browser
        return handler(environ, start_response)
