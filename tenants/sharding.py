"""What a sharded deployment (Citus schema-based sharding, docs/scale-out.md) needs to know
about our tables. Each tenant schema becomes a distributed schema that lives whole on one
node; the public tables below are read or written by code running in a tenant's schema, so
they become Citus reference tables (a copy on every node, written on all of them in one
transaction). The other public tables (operators, deletion records, the template script)
are only used by platform code in the public schema and stay on the coordinator.

tests/tenants/test_scale_out.py checks that every public table a tenant's requests and
tasks touch is listed here, and that no statement names two tenant schemas."""

from __future__ import annotations

REFERENCE_TABLES = (
    # Routing and the tenant's own record (name, language, status), read on every request.
    "tenants_tenant",
    "tenants_domain",
    # Custom domains and the reservations that keep them unique across tenants.
    "domains_customdomain",
    "domains_domainreservation",
    # The public work index: written in the transaction that writes a tenant's work.
    "tenants_tenantwork",
)


def public_only_tables() -> set[str]:
    """The tables of the shared apps that tenant schemas do not have (SHARED_APPS minus
    TENANT_APPS): one copy, in the public schema."""
    from django.apps import apps
    from django.conf import settings

    def label(entry: str) -> str | None:
        for config in apps.get_app_configs():
            if entry in (config.name, f"{config.__module__}.{config.__class__.__name__}"):
                return config.label
        return None

    tenant_labels = {label(entry) for entry in settings.TENANT_APPS}
    shared_labels = {label(entry) for entry in settings.SHARED_APPS} - tenant_labels
    return {
        model._meta.db_table
        for model in apps.get_models(include_auto_created=True)
        if model._meta.app_label in shared_labels
    }
