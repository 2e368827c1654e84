"""federation 0006: a SAML IdP's one signing certificate becomes the first of its list."""

from __future__ import annotations

import uuid

from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django_tenants.utils import tenant_context

from federation.models import IdentityProvider

BEFORE = ("federation", "0005_builtin_social_and_saml_mfa")
AFTER = ("federation", "0006_saml_certificates")


def _column(name: str, pks) -> list:
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {name} FROM federation_identityprovider WHERE id = ANY(%s) ORDER BY id",
            [list(pks)],
        )
        return [row[0] for row in cursor.fetchall()]


def test_the_saml_certificate_moves_to_the_list_and_back(acme):
    with tenant_context(acme.tenant):
        slug = uuid.uuid4().hex[:8]
        saml = IdentityProvider.objects.create(
            kind="saml", slug=f"saml-{slug}", name="Corp", client_id=f"saml-{slug}",
            saml_certificates=["MIIcurrent", "MIInext"],
        )  # fmt: skip
        oidc = IdentityProvider.objects.create(
            kind="openid_connect", slug=f"oidc-{slug}", name="Contoso", client_id="contoso"
        )
        pks = [saml.pk, oidc.pk]

        MigrationExecutor(connection).migrate([BEFORE])
        assert _column("saml_certificate", pks) == ["MIIcurrent", ""]

        MigrationExecutor(connection).migrate([AFTER])
        assert _column("saml_certificates", pks) == [["MIIcurrent"], []]
