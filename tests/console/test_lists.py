"""The console's lists (console.lists): sorting by a column keeps the filters and starts again
at page 1, the sorted column says so to screen readers, one page size for everyone, and a
filter value the form refuses is shown with its error rather than breaking the page."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django_tenants.utils import tenant_context

from tests.helpers import PASSWORD
from tests.operators.helpers import operator_sign_in, operator_with_totp


def _users(world, prefix: str, count: int) -> None:
    with tenant_context(world.tenant):
        for number in range(count):
            get_user_model().objects.create_user(email=f"{prefix}{number:02}@acme.test")


def _emails(body: str, prefix: str) -> list[str]:
    """The users listed, by the links to their pages."""
    return [part.split("<", 1)[0] for part in body.split(f'/">{prefix}')[1:]]


def test_users_sort_by_email_both_ways_and_keep_the_search(acme):
    _users(acme, "sorted", 3)
    client = acme.client(acme.admin)
    ascending = client.get("/console/users/", {"q": "sorted", "sort": "email"}).content.decode()
    assert _emails(ascending, "sorted") == ["00@acme.test", "01@acme.test", "02@acme.test"]
    assert '<th scope="col" aria-sort="ascending">' in ascending
    # The header's link turns the order round, keeps the search and drops the page.
    assert 'href="?q=sorted&amp;sort=-email"' in ascending

    descending = client.get(
        "/console/users/", {"q": "sorted", "sort": "-email", "page": "1"}
    ).content.decode()
    assert _emails(descending, "sorted") == ["02@acme.test", "01@acme.test", "00@acme.test"]
    assert '<th scope="col" aria-sort="descending">' in descending
    assert 'href="?q=sorted&amp;sort=email"' in descending


def test_a_column_that_does_not_sort_is_not_offered_and_its_name_is_ignored(acme):
    _users(acme, "unsorted", 2)
    client = acme.client(acme.admin)
    page = client.get("/console/users/", {"q": "unsorted", "sort": "-sponsor"})
    body = page.content.decode()
    assert page.status_code == 200
    assert _emails(body, "unsorted") == ["00@acme.test", "01@acme.test"]  # by email, as always
    assert "aria-sort" not in body and "sort=sponsor" not in body
    for unknown in ("password", "-guest_profile__sponsor__email", ""):
        assert client.get("/console/users/", {"sort": unknown}).status_code == 200


def test_every_list_shows_25_rows_a_page_whatever_the_query_asks(acme):
    _users(acme, "paged", 30)
    body = (
        acme.client(acme.admin)
        .get("/console/users/", {"q": "paged", "per_page": "100"})
        .content.decode()
    )
    assert len(_emails(body, "paged")) == 25
    # The Users list pages by keyset (no count of a million rows): a next and a last page.
    assert 'rel="next"' in body and "page=last" in body and "results" not in body
    # Smaller lists keep numbered pages with their count.
    from audit.services import audit_record

    with tenant_context(acme.tenant):
        for number in range(30):
            audit_record(actor=acme.admin, action="test.paged", target_label=f"n{number}")
    audit = acme.client(acme.admin).get("/console/logs/audit/").content.decode()
    assert "Page 1 of" in audit and "results" in audit


def test_a_refused_filter_value_is_shown_with_its_error(acme):
    response = acme.client(acme.admin).get("/console/guests/", {"since": "2026-02-30"})
    body = response.content.decode()
    assert response.status_code == 200
    assert 'aria-describedby="since_error"' in body
    assert '<div class="invalid-feedback d-block" id="since_error">' in body


def test_the_sort_of_the_sign_in_log_and_the_audit_log_is_by_time_by_default(acme):
    client = acme.client(acme.admin)
    for path in ("/console/logs/sign-ins/", "/console/logs/audit/"):
        body = client.get(path, {"sort": "occurred_at"}).content.decode()
        assert '<th scope="col" aria-sort="ascending"><a class="sort-link"' in body
        assert client.get(path, HTTP_HX_REQUEST="true").status_code == 200


def test_operator_sorts_tenants_by_name(acme, globex):
    operator = get_user_model().objects.create_superuser(
        email="ops-sort@platform.test", password=PASSWORD
    )
    client = operator_sign_in(operator, operator_with_totp(operator))
    ascending = client.get("/operator/", {"sort": "name"}).content.decode()
    descending = client.get("/operator/", {"sort": "-name"}).content.decode()
    assert ascending.index("Acme Corporation") < ascending.index("Globex")
    assert descending.index("Globex") < descending.index("Acme Corporation")
