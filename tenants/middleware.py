from __future__ import annotations

from django.conf import settings
from django.core.exceptions import DisallowedHost
from django.db import connection
from django.shortcuts import render

from tenants.routing import is_platform_host, tenant_for_host


class TenantMiddleware:
    """Routes a request by its Host: the base domain to the platform, a tenant host to its
    schema, anything else to a plain 404 that names no tenant."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            host = request.get_host().rsplit(":", 1)[0].lower().rstrip(".")
        except DisallowedHost:
            return _unknown_host(request)
        if host.startswith("[") or not host:
            return _unknown_host(request)
        connection.set_schema_to_public()
        if is_platform_host(host):
            request.tenant = None
            request.urlconf = settings.PUBLIC_SCHEMA_URLCONF
            return self.get_response(request)
        tenant = tenant_for_host(host)
        if tenant is None:
            return _unknown_host(request)
        request.tenant = tenant
        connection.set_tenant(tenant)
        if tenant.is_suspended and not request.path.startswith(settings.STATIC_URL):
            response = render(request, "tenants/suspended.html", {"tenant": tenant}, status=503)
            response["Retry-After"] = "3600"
            return response
        return self.get_response(request)


def _unknown_host(request):
    request.tenant = None
    return render(request, "tenants/unknown_host.html", status=404)
