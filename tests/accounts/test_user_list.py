"""Console > Users list: filters (type, state, admin role, dates, any attribute), sorts, pages by
keyset (first, next, previous, last: the same cost anywhere), and the CSV export of what the
filters show, formula-safe."""

from __future__ import annotations

import csv
import io
import re
import uuid
from datetime import UTC, datetime, timedelta

from django.contrib.auth import get_user_model
from django.db import connection
from django_tenants.utils import tenant_context

from accounts import lifecycle
from audit.models import AuditEvent


def people(world, domain, count, **fields):
    User = get_user_model()
    with tenant_context(world.tenant):
        return [
            User.objects.create_user(email=f"p{number:02d}@{domain}", password=None, **fields)
            for number in range(count)
        ]


def rows(client, **query):
    """The emails in the table fragment (htmx), in order, and the page's links."""
    page = client.get("/console/users/", query, HTTP_HX_REQUEST="true").content.decode()
    emails = re.findall(r'<a href="/console/users/[0-9a-f-]+/">([^<]+)</a>', page)
    links = dict(
        re.findall(r'<a class="page-link"(?: rel="\w+")? href="\?([^"]*)">(\w+)</a>', page)
    )
    return emails, {label: href for href, label in links.items()}


def follow(link: str) -> dict:
    from urllib.parse import parse_qsl

    return dict(parse_qsl(link.replace("&amp;", "&")))


def test_keyset_pages_walk_the_whole_list_forward_and_back(acme):
    domain = f"keyset-{uuid.uuid4().hex[:6]}.example"
    people(acme, domain, 60)
    client = acme.client(acme.admin)
    expected = [f"p{number:02d}@{domain}" for number in range(60)]

    first, links = rows(client, q=domain)
    assert first == expected[:25] and "Previous" not in links and "Next" in links
    second, links = rows(client, **follow(links["Next"]))
    assert second == expected[25:50]
    third, links = rows(client, **follow(links["Next"]))
    assert third == expected[50:] and "Next" not in links
    back, links = rows(client, **follow(links["Previous"]))
    assert back == expected[25:50]
    last, links = rows(client, q=domain, page="last")
    assert last == expected[-25:] and "Previous" in links and "Next" not in links
    before_last, _links = rows(client, **follow(links["Previous"]))
    assert before_last == expected[10:35]
    # Newest first, by creation.
    newest, _links = rows(client, q=domain, sort="-date_joined")
    assert newest == expected[::-1][:25]
    # A forged position is the first page, not an error.
    assert rows(client, q=domain, page="a.forged")[0] == expected[:25]


def test_sorting_by_last_sign_in_puts_those_who_never_signed_in_first(acme):
    domain = f"signin-{uuid.uuid4().hex[:6]}.example"
    never, early, late = people(acme, domain, 3)
    User = get_user_model()
    with tenant_context(acme.tenant):
        User.objects.filter(pk=early.pk).update(last_login=datetime(2026, 1, 1, tzinfo=UTC))
        User.objects.filter(pk=late.pk).update(last_login=datetime(2026, 6, 1, tzinfo=UTC))
    client = acme.client(acme.admin)
    assert rows(client, q=domain, sort="last_login")[0] == [never.email, early.email, late.email]
    assert rows(client, q=domain, sort="-last_login")[0] == [late.email, early.email, never.email]
    recent, _ = rows(client, q=domain, signed_in_after="2026-03-01")
    assert recent == [late.email]
    older, _ = rows(client, q=domain, signed_in_before="2026-01-01")
    assert older == [early.email]


def test_no_sign_in_since_lists_the_inactive_those_who_never_signed_in_included(acme):
    """Entra's inactive guests report: who has not signed in since a day, those who never did
    included once their account is older than that day; the export gives the same people."""
    domain = f"inactive-{uuid.uuid4().hex[:6]}.example"
    old_never, old_early, old_recent, new_never = people(acme, domain, 4, user_type="guest")
    User = get_user_model()
    long_ago = datetime(2025, 1, 1, tzinfo=UTC)
    with tenant_context(acme.tenant):
        User.objects.filter(pk__in=[old_never.pk, old_early.pk, old_recent.pk]).update(
            date_joined=long_ago
        )
        User.objects.filter(pk=old_early.pk).update(last_login=datetime(2025, 6, 1, tzinfo=UTC))
        User.objects.filter(pk=old_recent.pk).update(last_login=datetime(2026, 3, 2, tzinfo=UTC))
        # Invited after the day asked for and not signed in yet: not inactive.
        User.objects.filter(pk=new_never.pk).update(date_joined=datetime(2026, 3, 5, tzinfo=UTC))
    client = acme.client(acme.admin)
    inactive, _ = rows(client, q=domain, type="guest", inactive_since="2026-03-01", sort="email")
    assert inactive == [old_never.email, old_early.email]
    # The sign-in on the day itself is activity.
    assert rows(client, q=domain, inactive_since="2026-03-02", sort="email")[0] == inactive
    exported = client.get(
        "/console/users/export.csv", {"q": domain, "type": "guest", "inactive_since": "2026-03-01"}
    )
    text = b"".join(exported.streaming_content).decode()
    emails = [row["email"] for row in csv.DictReader(io.StringIO(text))]
    assert sorted(emails) == inactive


def test_filters_by_type_state_role_creation_and_attribute(acme):
    domain = f"filters-{uuid.uuid4().hex[:6]}.example"
    member, guest, disabled, deleted, admin, parisian = people(acme, domain, 6)
    User = get_user_model()
    with tenant_context(acme.tenant):
        User.objects.filter(pk=guest.pk).update(user_type="guest")
        User.objects.filter(pk=disabled.pk).update(is_active=False)
        User.objects.filter(pk=admin.pk).update(admin_roles=["reports_reader"])
        User.objects.filter(pk=parisian.pk).update(
            attributes={"city": "Paris", "tier": 3},
            date_joined=datetime(2020, 5, 17, 12, tzinfo=UTC),
        )
        lifecycle.user_delete(actor=acme.admin, user=deleted)
    client = acme.client(acme.admin)

    def emails(**query):
        return set(rows(client, q=domain, **query)[0])

    assert deleted.email not in emails() and member.email in emails()
    assert emails(type="guest") == {guest.email}
    assert emails(state="disabled") == {disabled.email}
    assert emails(state="deleted") == {deleted.email}
    assert disabled.email not in emails(state="active")
    assert emails(role="any") == {admin.email}
    assert emails(role="reports_reader") == {admin.email}
    assert emails(role="security_administrator") == set()
    assert emails(attribute="city=Paris") == {parisian.email}
    assert emails(attribute="tier=3") == {parisian.email}
    assert emails(attribute="city") == {parisian.email}
    assert emails(created_before="2020-05-17") == {parisian.email}
    assert parisian.email not in emails(created_after="2020-05-18")
    bad = client.get("/console/users/", {"created_after": "2020-13-45", "state": "nonsense"})
    assert bad.status_code == 200  # the form says what is wrong, the list still shows


def test_the_list_reads_an_index_on_every_order_without_counting_rows(acme):
    """No COUNT over the table, and each order walks its index (keyset)."""
    from django.test.utils import CaptureQueriesContext

    client = acme.client(acme.admin)
    for sort in ("email", "-date_joined", "last_login"):
        with CaptureQueriesContext(connection) as queries:
            assert client.get("/console/users/", {"sort": sort, "page": "last"}).status_code == 200
        listed = [q["sql"] for q in queries.captured_queries if "accounts_user" in q["sql"]]
        assert not any("COUNT(" in sql for sql in listed), listed
    with tenant_context(acme.tenant), connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(
            "EXPLAIN SELECT id FROM accounts_user WHERE deleted_at IS NULL "
            "ORDER BY COALESCE(last_login, '1970-01-01 00:00:00+00'::timestamptz) DESC, id DESC "
            "LIMIT 26"
        )
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "user_last_sign_in_keyset" in plan


def test_the_export_is_the_filtered_list_as_formula_safe_csv(acme):
    domain = f"export-{uuid.uuid4().hex[:6]}.example"
    evil, plain, guest = people(acme, domain, 3)
    User = get_user_model()
    with tenant_context(acme.tenant):
        User.objects.filter(pk=evil.pk).update(
            display_name='=HYPERLINK("http://evil.example","x")',
            last_name="-2+3",
            attributes={"city": "+33 Paris"},
        )
        User.objects.filter(pk=guest.pk).update(user_type="guest")
    client = acme.client(acme.admin)
    list_page = client.get("/console/users/", {"q": domain, "type": "member"}).content.decode()
    assert f"/console/users/export.csv?q={domain}&amp;type=member" in list_page
    response = client.get("/console/users/export.csv", {"q": domain, "type": "member"})
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    text = b"".join(response.streaming_content).decode()
    table = list(csv.DictReader(io.StringIO(text)))
    assert {row["email"] for row in table} == {evil.email, plain.email}
    (row,) = [row for row in table if row["email"] == evil.email]
    assert row["display name"].startswith("'=HYPERLINK") and row["surname"] == "'-2+3"
    assert row["other attributes"] == "city=+33 Paris"
    with tenant_context(acme.tenant):
        event = AuditEvent.objects.filter(action="user.export").latest("occurred_at")
    assert event.after["filters"] == {"q": domain, "type": "member"}


def test_a_deleted_user_restorable_window_shows_on_their_page(acme):
    (user,) = people(acme, f"window-{uuid.uuid4().hex[:6]}.example", 1)
    when = datetime.now(UTC) - timedelta(days=3)
    with tenant_context(acme.tenant):
        lifecycle.user_delete(actor=acme.admin, user=user, now=when)
    page = acme.client(acme.admin).get(f"/console/users/{user.public_id}/").content.decode()
    assert f"restorable until {(when + timedelta(days=30)):%Y-%m-%d %H:%M} UTC" in page


def test_the_search_finds_any_part_of_an_address_or_a_name_through_the_trigram_index(acme):
    """One LIKE on the lower-cased address and names (accounts.models.user_search_text),
    which the pg_trgm index of migration 0013 serves: a search reads the index, not every
    user."""
    from django.test.utils import CaptureQueriesContext

    domain = f"{uuid.uuid4().hex[:10]}.example"
    # acme is shared: other tests' people may be called Lovelace too.
    surname = f"Lovelace{uuid.uuid4().hex[:6]}"
    User = get_user_model()
    with tenant_context(acme.tenant):
        ada = User.objects.create_user(
            email=f"ada@{domain}", password=None, display_name=f"Ada {surname}",
            first_name="Ada", last_name=surname,
        )  # fmt: skip
        User.objects.create_user(
            email=f"grace@{domain}", password=None, display_name="Grace Hopper",
            first_name="Grace", last_name="Hopper",
        )  # fmt: skip
    client = acme.client(acme.admin)
    assert rows(client, q=domain)[0] == [ada.email, f"grace@{domain}"]
    assert rows(client, q=surname.upper()[2:])[0] == [ada.email]  # any case, a part of a name
    assert rows(client, q=f"DA@{domain.upper()}")[0] == [ada.email]
    assert rows(client, q=f"%@{domain}")[0] == []  # LIKE's wildcards are only text
    assert rows(client, q="_race@" + domain)[0] == []

    with CaptureQueriesContext(connection) as queries:
        client.get("/console/users/", {"q": "lovelace"}, HTTP_HX_REQUEST="true")
    # The window of the order (a rare name is not met in it), then the search itself.
    [search] = [
        q["sql"]
        for q in queries.captured_queries
        if "LIKE" in q["sql"] and "LIMIT 2000" not in q["sql"]
    ]
    with tenant_context(acme.tenant), connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'")
        assert cursor.fetchone() is not None, "the migration creates the extension"
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_indexscan = off")  # not the email index's walk
        cursor.execute("EXPLAIN " + search)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "user_search_trgm" in plan, plan


def test_a_filtered_page_is_first_looked_for_in_a_window_of_the_order(acme):
    """A frequent value is met within USER_LIST_WINDOW users in the list's order (one short
    read of the order's index, whatever PostgreSQL guesses of the filter); a rare one is not,
    and the page is then asked the usual way. Both give the same rows."""
    from django.test.utils import CaptureQueriesContext

    from accounts.console_views import USER_LIST_WINDOW

    domain = f"window-{uuid.uuid4().hex[:6]}.example"
    crowd = people(acme, domain, 40, attributes={"city": "Lyon"})
    User = get_user_model()
    with tenant_context(acme.tenant):
        User.objects.filter(pk__in=[crowd[3].pk, crowd[30].pk]).update(attributes={"city": "Arles"})
    client = acme.client(acme.admin)
    window = f"LIMIT {USER_LIST_WINDOW}"

    with CaptureQueriesContext(connection) as queries:
        lyon, links = rows(client, q=domain, attribute="city=Lyon", sort="-date_joined")
    listed = [q["sql"] for q in queries.captured_queries if "accounts_user" in q["sql"]]
    assert sum(window in sql for sql in listed) == 1
    expected = [p.email for p in reversed(crowd) if p not in (crowd[3], crowd[30])]
    assert lyon == expected[:25] and "Next" in links
    rest, links = rows(client, **follow(links["Next"]))
    assert rest == expected[25:] and "Next" not in links

    with CaptureQueriesContext(connection) as queries:
        arles, _links = rows(client, q=domain, attribute="city=Arles", sort="-date_joined")
    assert arles == [crowd[30].email, crowd[3].email]
    listed = [q["sql"] for q in queries.captured_queries if "accounts_user" in q["sql"]]
    # The window found too few; the usual query follows it.
    assert any(window in sql for sql in listed)
    assert any("@>" in sql and window not in sql for sql in listed)
