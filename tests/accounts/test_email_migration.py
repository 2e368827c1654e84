"""Migration accounts 0010 lower-cases the addresses stored before addresses were kept
lower-cased, so that their owners are still found by allauth's exact-match lookups."""

from __future__ import annotations

import importlib

from allauth.account.models import EmailAddress
from django.apps import apps
from django.contrib.auth import get_user_model
from django.db import connection
from django_tenants.utils import tenant_context

migration = importlib.import_module("accounts.migrations.0010_user_email_stored_lower_case")


def test_addresses_stored_with_capitals_are_lower_cased(acme):
    User = get_user_model()
    with tenant_context(acme.tenant):
        with connection.cursor() as cursor:
            # As before the migration (rolled back with the test).
            cursor.execute(
                f"ALTER TABLE {User._meta.db_table} DROP CONSTRAINT user_email_lower_case"
            )
        jane = User.objects.create_user(email="jane@example.org")
        User.objects.filter(pk=jane.pk).update(email="Jane.Doe@Partner.Example")
        EmailAddress.objects.create(user=jane, email="Jane.Doe@Partner.Example", verified=True)
        # A row whose lower-cased twin exists stays (lookups find the twin).
        EmailAddress.objects.create(user=jane, email="jane@old.example", primary=True)
        EmailAddress.objects.create(user=jane, email="Jane@Old.Example")

        migration.lower_case_addresses(apps, None)

        jane.refresh_from_db()
        assert jane.email == "jane.doe@partner.example"
        assert set(EmailAddress.objects.filter(user=jane).values_list("email", flat=True)) == {
            "jane.doe@partner.example",
            "jane@old.example",
            "Jane@Old.Example",
        }
        assert User.objects.with_email("JANE.DOE@partner.example").get() == jane
