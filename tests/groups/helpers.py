"""Helpers for the groups tests: groups and role assignments written by the services, as the
console and the API write them."""

from __future__ import annotations

import uuid

from django_tenants.utils import tenant_context

from tests.helpers import make_user  # noqa: F401  (the tests' one make_user)


def make_group(world, *, name=None, members=(), description=""):
    from groups import services

    with tenant_context(world.tenant):
        group = services.group_create(
            actor=world.admin,
            display_name=name or f"Group {uuid.uuid4().hex[:8]}",
            description=description,
        )
        if members:
            services.group_members_add(actor=world.admin, group=group, users=list(members))
    return group


def make_role(world, application, value, *, users=(), groups=()):
    """An app role of `application` assigned to `users` and to `groups`."""
    from groups.services import group_app_role_assign
    from oidc.services import app_role_assign, app_role_create

    with tenant_context(world.tenant):
        role = app_role_create(
            application=application, value=value, display_name=value.title(), actor=world.admin
        )
        for user in users:
            app_role_assign(role=role, user=user, actor=world.admin)
        for group in groups:
            group_app_role_assign(actor=world.admin, group=group, role=role)
    return role


def app_settings(world, application, **fields):
    """Change an app's settings as the console does (the process's client cache forgets)."""
    from oidc.services import _forget_clients

    with tenant_context(world.tenant):
        for name, value in fields.items():
            setattr(application, name, value)
        application.save(update_fields=list(fields))
        _forget_clients()
