"""Helpers of the federation tests: a tenant adds another tenant of the same running
platform as its OpenID Connect identity provider."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from django.db import connection
from django_tenants.utils import tenant_context

from tests.oidc.helpers import register_app

SECRET = "upstream-client-secret-" + "x" * 24


def create_provider(world, *, name=None, kind="openid_connect", secret=SECRET, **fields):
    from federation.services import identity_provider_create

    fields.setdefault("client_id", "client-" + uuid.uuid4().hex[:8])
    if kind == "openid_connect":
        fields.setdefault("discovery_url", "https://idp.example/")
    with tenant_context(world.tenant):
        return identity_provider_create(
            actor=world.admin,
            kind=kind,
            name=name or f"IdP {uuid.uuid4().hex[:6]}",
            client_secret=secret,
            **fields,
        )


@dataclass
class Federation:
    """Tenant `downstream` signs people in with tenant `upstream` (an app registered there)."""

    upstream: object
    downstream: object
    provider: object
    client_id: str
    callback: str
    issuer: str


def federate(upstream, downstream, port: int, *, trusted: bool = True) -> Federation:
    """Register an app for `downstream` at `upstream` and add `upstream` as `downstream`'s
    generic OpenID Connect IdP, both on the running server's port."""
    from oidc.clients import clients_forget
    from oidc.models import Application

    issuer = f"http://{upstream.host}:{port}/o"
    suffix = uuid.uuid4().hex[:6]
    app = register_app(
        upstream,
        name=f"{downstream.tenant.name} federation {suffix}",
        redirect_uri="http://127.0.0.1/placeholder",
    )
    provider = create_provider(
        downstream,
        name=f"{upstream.tenant.name} {suffix}",
        discovery_url=issuer,
        client_id=app.client_id,
        secret=app.secret,
        trust_verified_email=trusted,
    )
    callback = f"http://{downstream.host}:{port}/accounts/oidc/{provider.slug}/login/callback/"
    # The registration allows http redirect URIs on loopback IP literals and `localhost`
    # only; a tenant host under `.localhost` (loopback too, RFC 6761) is set directly.
    with tenant_context(upstream.tenant):
        Application.objects.filter(pk=app.application.pk).update(redirect_uris=callback)
        clients_forget()
    connection.close()
    return Federation(upstream, downstream, provider, app.client_id, callback, issuer)
