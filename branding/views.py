"""The hosted pages' branding files: the theme stylesheet and the logo, public on the tenant's
host (a sign-in page loads them before anyone signs in)."""

from __future__ import annotations

import re

from django.core.files.storage import default_storage
from django.db import connection
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.views.decorators.http import require_GET

from branding.images import CONTENT_TYPES
from branding.selectors import app_theme_css, published_branding, retired_css

LOGO_NAME = re.compile(
    r"^(logo|square|square-dark|favicon|background)-[0-9a-f]{32}\.(png|jpg|webp|svg)$"
)
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
    """The tenant's theme by its hash; the stylesheets of earlier publications a while longer
    (a page loaded before a publish keeps its look, never a missing stylesheet)."""
    branding = published_branding()
    if branding is None:
        raise Http404
    if branding.css_hash == digest:
        return css_response(branding.css)
    css = retired_css(branding, digest)
    if css is None:
        raise Http404
    return css_response(css)


@require_GET
def app_theme(request, public_id, digest: str):
    """An app's theme (its branding over the tenant's). An earlier hash of it is sent on to
    the current one: its look follows the tenant's, which may have been published since."""
    css = app_theme_css(str(public_id), digest)
    if css is not None:
        return css_response(css)
    from branding.selectors import app_branding_view
    from oidc.models import Application

    application = Application.objects.filter(public_id=public_id).first()
    view = app_branding_view(application) if application is not None else None
    if view is None:
        raise Http404
    response = HttpResponseRedirect(view.css_url)
    response["Cache-Control"] = "no-cache"
    return response


@require_GET
def logo(request, filename: str):
    """A logo of this tenant's (its own folder in the storage), by the name its content gave
    it. Opened alone, it runs nothing: images only, sandboxed (an SVG was rebuilt from an
    allow-list as well, branding.images.svg_clean)."""
    match = LOGO_NAME.match(filename)
    if match is None:
        raise Http404
    name = f"branding/{connection.schema_name}/{filename}"
    try:
        with default_storage.open(name) as stored:
            content = stored.read()
    except (FileNotFoundError, OSError) as error:
        raise Http404 from error
    response = immutable(HttpResponse(content, content_type=CONTENT_TYPES[match.group(2)]))
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response
