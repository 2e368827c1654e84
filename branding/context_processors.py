from __future__ import annotations

from django.db import connection


def branding(request):
    """`branding`: the tenant's published branding on every page, None for the product's look
    (hosted/base.html and the sign-in page use it). No query once the process has read it."""
    if getattr(request, "tenant", None) is None or connection.schema_name == "public":
        return {"branding": None}
    from branding.selectors import published_branding

    return {"branding": published_branding()}
