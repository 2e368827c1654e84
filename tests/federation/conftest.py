from __future__ import annotations

import uuid

import pytest

from tests.helpers import PASSWORD, TenantWorld


@pytest.fixture
def downstream(worlds, committed):
    """A new tenant (committed) that adds acme as its identity provider; deleted after."""
    from django.contrib.auth import get_user_model
    from django_tenants.utils import tenant_context

    from tenants.services import tenant_create, tenant_delete

    slug = f"fed-{uuid.uuid4().hex[:8]}"
    tenant = tenant_create(
        name="Fabrikam", slug=slug, admin_email=f"admin@{slug}.test", admin_password=PASSWORD
    )
    with tenant_context(tenant):
        admin = get_user_model().objects.get(email=f"admin@{slug}.test")
    yield TenantWorld(tenant=tenant, host=tenant.primary_host, admin=admin, member=None)
    tenant_delete(tenant=tenant, confirm_slug=slug, actor=None)
