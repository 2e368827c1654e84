"""Lookups by email that every sign-in, sign-up and invitation makes use one index, so their
cost does not grow with the number of users (nor can a flood of guesses make each one read
the whole table). Addresses are stored lower-cased and looked up by exact match, ours and
allauth's alike: one unique index on email serves them all."""

from __future__ import annotations

import asyncio
import inspect

import pytest
from allauth.account.internal.userkit import filter_users_by_email
from asgiref.sync import async_to_sync
from django.contrib.auth import get_user_model
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import tenant_context

from tests.helpers import unique_email


def plan(sql: str, parameters: list | None = None) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")  # a tiny table would be scanned anyway
        cursor.execute("EXPLAIN " + sql, parameters)
        return "\n".join(row[0] for row in cursor.fetchall())


def test_the_user_table_has_one_index_on_email(acme):
    """One B-tree on the address (the console's search has its own trigram index, which
    serves no equality lookup)."""
    User = get_user_model()
    with tenant_context(acme.tenant), connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname FROM pg_indexes WHERE schemaname = current_schema() "
            "AND tablename = %s AND indexdef ILIKE %s AND indexdef NOT ILIKE %s",
            [User._meta.db_table, "%email%", "%USING gin%"],
        )
        assert [row[0] for row in cursor.fetchall()] == ["user_email_unique"]


def test_password_sign_in_looks_the_user_up_on_the_email_index(acme):
    """The statement accounts.sign_in.backend runs, with the address as typed."""
    User = get_user_model()
    with tenant_context(acme.tenant), CaptureQueriesContext(connection) as queries:
        from accounts.sign_in.backend import EmailBackend

        EmailBackend()._authenticate_by_email(" Someone@Example.ORG", "a wrong password")
    [lookup] = [query["sql"] for query in queries if User._meta.db_table in query["sql"]]
    assert "'someone@example.org'" in lookup
    with tenant_context(acme.tenant):
        assert "user_email_unique" in plan(lookup)


def test_our_lookups_by_email_use_the_email_index(acme):
    User = get_user_model()
    with tenant_context(acme.tenant):
        sql, parameters = User.objects.with_email("Someone@Example.org").query.sql_with_params()
        assert "user_email_unique" in plan(sql, list(parameters))


def test_allauths_lookups_by_email_use_indexes(acme):
    """allauth looks users up by the lower-cased address, in its EmailAddress table and in
    ours (password reset, sign-in codes, sign-up's "already registered")."""
    User = get_user_model()
    with tenant_context(acme.tenant), CaptureQueriesContext(connection) as queries:
        filter_users_by_email("Someone@Example.org", is_active=True, prefer_verified=True)
    lookups = [query["sql"] for query in queries if "someone@example.org" in query["sql"]]
    assert len(lookups) == 2
    assert any(f'FROM "{User._meta.db_table}"' in lookup for lookup in lookups)
    with tenant_context(acme.tenant):
        for lookup in lookups:
            explained = plan(lookup)
            assert "Index" in explained, explained
            if f'FROM "{User._meta.db_table}"' in lookup:
                assert "user_email_unique" in explained, explained


def _event_loop_running() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


def test_an_address_is_stored_lower_cased_however_it_is_typed(acme):
    User = get_user_model()
    email = unique_email("Mixed.Case")
    with tenant_context(acme.tenant):
        user = User.objects.create_user(email=email.upper(), password=None)
        user.refresh_from_db()
        assert user.email == email.lower()
        assert User.objects.with_email(email.upper()).get() == user
        # The async variants take the email as the sync ones do (Django's a username first).
        for name in ("acreate_user", "acreate_superuser"):
            parameters = list(inspect.signature(getattr(User.objects, name)).parameters)
            assert parameters[:2] == ["email", "password"], (name, parameters)
        if not _event_loop_running():  # a browser test's Playwright may hold this thread's
            other = async_to_sync(User.objects.acreate_user)(email=f"Async.{email}", password=None)
            assert other.email == f"async.{email.lower()}" and not other.has_usable_password()
        # Written around the manager, a mixed-case address is refused by the database.
        with pytest.raises(IntegrityError), transaction.atomic():
            User.objects.filter(pk=user.pk).update(email=email.upper())


def test_the_inactive_guests_page_reads_guests_alone_on_their_index(acme):
    """Console > Guests' link (no sign-in for 90 days, longest inactive first): the rows come
    from the guests' last sign-in index, so members who never signed in (many, in a big
    directory) are never read, even when no guest is inactive."""
    from datetime import date

    from accounts.console_views import USER_LIST_ORDERS
    from accounts.filtersets import UserFilterSet
    from accounts.selectors import user_list

    query = {"type": "guest", "inactive_since": date.today().isoformat(), "sort": "last_login"}
    with tenant_context(acme.tenant):
        rows = UserFilterSet(query, queryset=user_list()).qs
        rows = rows.order_by(USER_LIST_ORDERS["last_login"].asc(), "id")[:26]
        sql, parameters = rows.query.sql_with_params()
        assert "user_guest_last_sign_in" in plan(sql, list(parameters))
