"""Helpers for the language tests."""

from __future__ import annotations

import re
import uuid

from django.contrib.auth import get_user_model
from django_tenants.utils import tenant_context

from tests.helpers import PASSWORD, TenantWorld


def html_lang_dir(page: str) -> tuple[str, str]:
    """The `lang` and `dir` of a page's <html> element."""
    match = re.search(r'<html lang="([^"]*)" dir="([^"]*)"', page)
    assert match, page[:300]
    return match.group(1), match.group(2)


def own_tenant(name: str = "Polyglot Ltd") -> TenantWorld:
    """A tenant of the test's own (rolled back with it): a default language or a published
    branding set here changes no other test's pages."""
    from tenants.services import tenant_create

    slug = f"lang-{uuid.uuid4().hex[:8]}"
    tenant = tenant_create(
        name=name, slug=slug, admin_email=f"admin@{slug}.test", admin_password=PASSWORD
    )
    with tenant_context(tenant):
        admin = get_user_model().objects.get(email=f"admin@{slug}.test")
    return TenantWorld(tenant=tenant, host=tenant.primary_host, admin=admin, member=None)
