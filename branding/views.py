"""The hosted pages' branding files: the theme stylesheet and the logo, public on the tenant's
host (a sign-in page loads them before anyone signs in)."""

from __future__ import annotations

import re

from django.core.files.storage import default_storage
from django.db import connection
from django.http import Http404, HttpResponse
from django.views.decorators.http import require_GET

from branding.images import CONTENT_TYPES
from branding.selectors import published_branding

LOGO_NAME = re.compile(r"^logo-[0-9a-f]{32}\.(png|jpg|webp)$")
A_YEAR = 365 * 24 * 3600


def immutable(response: HttpResponse) -> HttpResponse:
    """Names carry a hash of the content: a browser may keep the file for a year."""
    response["Cache-Control"] = f"public, max-age={A_YEAR}, immutable"
    response["X-Content-Type-Options"] = "nosniff"
    return response


def css_response(css: str) -> HttpResponse:
    return immutable(HttpResponse(css, content_type="text/css; charset=utf-8"))


@require_GET
def theme(request, digest: str):
    branding = published_branding()
    if branding is None or branding.css_hash != digest:
        raise Http404
    return css_response(branding.css)


@require_GET
def logo(request, filename: str):
    """A logo of this tenant's (its own folder in the storage), by the name its content gave
    it. Opened alone, it runs nothing: images only, sandboxed."""
    match = LOGO_NAME.match(filename)
    if match is None:
        raise Http404
    name = f"branding/{connection.schema_name}/{filename}"
    try:
        with default_storage.open(name) as stored:
            content = stored.read()
    except (FileNotFoundError, OSError) as error:
        raise Http404 from error
    response = immutable(HttpResponse(content, content_type=CONTENT_TYPES[match.group(1)]))
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response
