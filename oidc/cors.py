"""CORS for single-page apps on the token, userinfo and revocation endpoints: a browser app
calls them with fetch from its own origin, the origin of one of its redirect URIs. The origin
is echoed only for the tenant's registered single-page apps, never `*`."""

from __future__ import annotations

from django.http import HttpResponse
from django.utils.cache import patch_vary_headers

from oidc import selectors
from oidc.models import Application

ALLOWED_HEADERS = "Authorization, Content-Type"
PREFLIGHT_MAX_AGE = 600


def cors_allow(response: HttpResponse, request, application: Application | None) -> HttpResponse:
    """Let `application`'s page read `response` when the request comes from its origin."""
    origin = request.headers.get("Origin")
    if origin and application is not None and application.origin_allowed(origin):
        response["Access-Control-Allow-Origin"] = origin
    patch_vary_headers(response, ["Origin"])
    return response


def cors_allow_any_app(response: HttpResponse, request) -> HttpResponse:
    """Like cors_allow, for a request that names no app (userinfo carries only a token)."""
    origin = request.headers.get("Origin")
    if origin and selectors.spa_origin_registered(origin):
        response["Access-Control-Allow-Origin"] = origin
        response["Access-Control-Expose-Headers"] = "WWW-Authenticate"
    patch_vary_headers(response, ["Origin"])
    return response


def preflight(request, *, methods: str) -> HttpResponse:
    """The answer to a browser's OPTIONS preflight. It carries no credentials and names no
    app, so any registered single-page app's origin is allowed."""
    response = HttpResponse(status=204)
    origin = request.headers.get("Origin")
    if origin and selectors.spa_origin_registered(origin):
        response["Access-Control-Allow-Origin"] = origin
        response["Access-Control-Allow-Methods"] = methods
        response["Access-Control-Allow-Headers"] = ALLOWED_HEADERS
        response["Access-Control-Max-Age"] = str(PREFLIGHT_MAX_AGE)
    patch_vary_headers(response, ["Origin"])
    return response
