from __future__ import annotations

import logging

from django.db import DatabaseError, connection

logger = logging.getLogger(__name__)


def branding(request):
    """`branding`: the tenant's published branding on every page (an app's own over it on the
    pages of that app's sign-in), None for the product's look (hosted/base.html and the
    sign-in page use it). No query once the process has read it."""
    if getattr(request, "tenant", None) is None or connection.schema_name == "public":
        return {"branding": None}
    from branding.selectors import request_branding

    try:
        view = request_branding(request)
    except DatabaseError as error:
        # The error page of a failed request (its transaction broken, the database gone)
        # still renders, in the default look.
        logger.warning("branding.unavailable error=%s", type(error).__name__)
        return {"branding": None}
    # With the texts the tenant wrote for the page's language, if any (branding/languages.py).
    return {"branding": view}
