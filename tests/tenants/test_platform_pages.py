from __future__ import annotations

import html
import itertools
import re
import time
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django_tenants.utils import tenant_context

from audit.models import AuditEvent
from tenants.models import DeletedTenant, Tenant
from tests.helpers import PASSWORD, make_user
from tests.operators.helpers import code_for, operator_sign_in, operator_with_totp

GOOD = {
    "name": "Initrode",
    "slug": "initrode",
    "admin_email": "boss@initrode.example",
    "admin_password": PASSWORD,
}


def test_landing_page_says_what_the_platform_is(platform_client, db):
    response = platform_client.get("/")
    body = response.content.decode()
    assert response.status_code == 200
    assert "customer identity platform" in body
    assert "Create a tenant" in body


_addresses = itertools.count(1)


@pytest.fixture
def creator_client(db) -> Client:
    """A platform visitor on an address of its own: tenants created by other tests do not
    count toward its creation limit."""
    number = next(_addresses)
    return Client(HTTP_HOST="localhost", REMOTE_ADDR=f"198.51.{number // 250}.{number % 250 + 1}")


def test_creating_a_tenant_lands_on_a_page_of_the_platform_that_leads_to_its_sign_in(
    creator_client,
):
    response = creator_client.post("/", GOOD)
    tenant = Tenant.objects.get(slug="initrode")
    # 303 to the same origin: form-action 'self' lets the browser follow it.
    assert response.status_code == 303
    assert response["Location"] == f"/created/{tenant.public_id}/"
    page = creator_client.get(response["Location"])
    body = page.content.decode()
    assert page.status_code == 200
    assert "<code>http://initrode.localhost/</code>" in body
    assert "What to do next" in body
    link = re.search(r'<a [^>]*href="([^"]+)"[^>]*>([^<]+)</a>', body.split("What to do next")[1])
    assert link is not None
    assert link.group(1) == "http://initrode.localhost/accounts/login/?next=/console/"
    assert html.unescape(link.group(2)) == "Go to your tenant's sign-in"


def test_the_created_page_opens_only_for_the_browser_that_created_the_tenant(creator_client, acme):
    location = creator_client.post("/", GOOD)["Location"]
    assert Client(HTTP_HOST="localhost").get(location).status_code == 404
    assert creator_client.get(f"/created/{acme.tenant.public_id}/").status_code == 404


def test_every_field_is_checked_in_one_round(creator_client, acme):
    response = creator_client.post(
        "/",
        {"name": "", "slug": "acme", "admin_email": "not-an-email", "admin_password": "short"},
    )
    body = response.content.decode()
    assert response.status_code == 400
    for field, message in [
        ("name", "This field is required."),
        ("slug", "is already taken"),
        ("admin_email", "Enter a valid email address."),
        ("admin_password", "Use at least 12 characters."),
    ]:
        assert message in body.split(f'id="id_{field}_error">', 1)[1].split("</div>", 1)[0]
    assert not Tenant.objects.filter(name="").exists()


def test_a_slug_problem_shows_where_the_live_check_writes(creator_client, acme):
    """The live check replaces the region holding the form's slug error, so an "available"
    answer never sits next to an older error."""
    body = creator_client.post("/", {**GOOD, "slug": "acme"}).content.decode()
    region = body.split('id="slug-availability"', 1)[1].split("</div></div>", 1)[0]
    assert 'id="id_slug_error"' in region and "already taken" in region
    assert body.count('id="id_slug_error"') == 1
    assert 'aria-describedby="id_slug_help slug-availability"' in body
    free = creator_client.get("/slug-availability/", {"slug": "brand-new"}).content.decode()
    assert "brand-new.localhost is available" in free and "id_slug_error" not in free


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"slug": "ab"}, "slug", "Use 3 to 40 characters."),
        ({"slug": "Not Valid"}, "slug", "Use lowercase letters, digits and hyphens only"),
        ({"slug": "www"}, "slug", "is reserved"),
        ({"slug": "acme"}, "slug", "is already taken"),
        ({"admin_email": "not-an-email"}, "admin_email", "Enter a valid email address."),
        ({"admin_password": "short"}, "admin_password", "Use at least 12 characters."),
        ({"name": ""}, "name", "This field is required."),
    ],
)
def test_every_form_error_shows_next_to_its_field_and_keeps_what_was_typed(
    creator_client, acme, changes, field, message
):
    data = {**GOOD, **changes}
    response = creator_client.post("/", data)
    body = response.content.decode()
    assert response.status_code == 400
    assert f'id="id_{field}_error"' in body
    error_block = body.split(f'id="id_{field}_error">', 1)[1].split("</div>", 1)[0]
    assert message in error_block.replace("&quot;", '"').replace("&#x27;", "'")
    assert (
        f'aria-describedby="id_{field}_help id_{field}_error"' in body
        or f'aria-describedby="id_{field}_error"' in body
        or (field == "slug" and 'aria-describedby="id_slug_help slug-availability"' in body)
    )
    for kept in ("name", "slug", "admin_email", "admin_password"):
        if data[kept]:
            assert f'value="{data[kept]}"' in body
    assert "no-store" in response["Cache-Control"]  # it holds the password typed


def test_slug_availability_check(platform_client, acme):
    taken = platform_client.get("/slug-availability/", {"slug": "acme"})
    free = platform_client.get("/slug-availability/", {"slug": "brand-new"})
    assert "already taken" in taken.content.decode()
    assert "brand-new.localhost is available" in free.content.decode()


@pytest.fixture
def operator(db):
    return get_user_model().objects.create_superuser(email="ops@platform.test", password=PASSWORD)


@pytest.fixture
def operator_client(operator) -> Client:
    return operator_sign_in(operator, operator_with_totp(operator))


def test_operator_console_needs_a_signed_in_operator(acme):
    response = Client(HTTP_HOST="localhost").get("/operator/")
    assert response.status_code == 302
    assert response["Location"].startswith("/operator/login/")


def test_operator_sign_in_works(operator):
    client = Client(HTTP_HOST="localhost")
    response = client.post(
        "/operator/login/?next=/operator/",
        {"username": operator.email, "password": PASSWORD, "next": "/operator/"},
    )
    assert response.status_code == 302
    device = operator_with_totp(operator)
    client.post(response["Location"], {"code": code_for(device)})
    assert client.get("/operator/").status_code == 200


def test_operator_lists_tenants_with_user_counts_and_search(operator_client, acme, globex):
    # acme holds its admin and member, and whoever tests that commit added: one more now.
    make_user(acme)
    with tenant_context(acme.tenant):
        users = get_user_model().objects.count()
    body = operator_client.get("/operator/").content.decode()
    assert "Acme Corporation" in body and "Globex" in body
    row = body.split("Acme Corporation", 1)[1].split("</tr>", 1)[0]
    assert f"<td>{users}</td>" in row
    searched = operator_client.get("/operator/", {"q": "glob"}).content.decode()
    assert "Globex" in searched and "Acme Corporation" not in searched


def test_operator_suspends_and_resumes_a_tenant_with_audit_rows(operator_client, acme):
    operator_client.post(f"/operator/tenants/{acme.tenant.public_id}/suspend/")
    acme.tenant.refresh_from_db()
    assert acme.tenant.is_suspended
    assert acme.client().get("/").status_code == 503
    operator_client.post(f"/operator/tenants/{acme.tenant.public_id}/resume/")
    acme.tenant.refresh_from_db()
    assert not acme.tenant.is_suspended
    actions = list(AuditEvent.objects.values_list("action", "actor_label"))
    assert ("tenant.suspend", "ops@platform.test") in actions
    assert ("tenant.resume", "ops@platform.test") in actions


def test_deleting_a_tenant_needs_its_slug_typed_and_leaves_a_record(operator_client, db):
    from django_tenants.utils import schema_exists

    from tenants.services import tenant_create

    doomed = tenant_create(
        name="Doomed", slug="doomed", admin_email="a@doomed.example", admin_password=PASSWORD
    )
    url = f"/operator/tenants/{doomed.public_id}/delete/"
    assert (
        "The address doomed stays reserved for 90 days" in operator_client.get(url).content.decode()
    )
    wrong = operator_client.post(url, {"confirm_slug": "doome"})
    assert wrong.status_code == 400
    assert "Type the slug “doomed” to confirm." in wrong.content.decode()
    assert schema_exists("t_doomed")

    operator_client.post(url, {"confirm_slug": "doomed"})
    assert not Tenant.objects.filter(slug="doomed").exists()
    assert not schema_exists("t_doomed")
    record = DeletedTenant.objects.get(slug="doomed")
    assert record.deleted_by == "ops@platform.test" and record.user_count == 1
    assert Client(HTTP_HOST="doomed.localhost").get("/").status_code == 404


def test_tenant_admin_is_not_a_platform_operator(acme):
    client = Client(HTTP_HOST="localhost")
    response = client.post("/operator/login/", {"username": acme.admin.email, "password": PASSWORD})
    assert response.status_code == 200  # the tenant admin does not exist in the public schema
    assert "Please enter a correct" in response.content.decode()


def test_too_many_tenants_from_one_address_are_refused_with_a_message(creator_client, db, settings):
    settings.TENANT_CREATE_LIMIT_PER_IP = 1
    assert creator_client.post("/", GOOD).status_code == 303
    response = creator_client.post(
        "/", {**GOOD, "slug": "initrode-two", "admin_email": "b@initrode.example"}
    )
    body = response.content.decode()
    assert response.status_code == 429
    assert "At most 1 tenants can be created from one network in 60 minutes." in body
    assert 'value="initrode-two"' in body  # what was typed stays for later
    assert not Tenant.objects.filter(slug="initrode-two").exists()
    other_address = Client(HTTP_HOST="localhost", REMOTE_ADDR="203.0.113.77")
    other = other_address.post(
        "/", {**GOOD, "slug": "initrode-three", "admin_email": "c@initrode.example"}
    )
    assert other.status_code == 303


def test_attempts_from_one_address_are_limited_refused_ones_included(creator_client, db, settings):
    """Each attempt costs the checks and a password hash, so refused ones count too."""
    settings.TENANT_CREATE_ATTEMPTS_PER_IP = 2
    for _attempt in range(2):
        taken = creator_client.post("/", {**GOOD, "slug": "acme"})
        assert taken.status_code == 400
        assert "is already taken" in html.unescape(taken.content.decode())
    refused = creator_client.post("/", GOOD)
    body = refused.content.decode()
    assert refused.status_code == 429
    assert "Too many attempts to create a tenant from your network." in body
    assert 'value="initrode"' in body  # what was typed stays for later
    assert not Tenant.objects.filter(slug="initrode").exists()


def test_suspend_asks_for_confirmation_first(operator_client, acme):
    listing = operator_client.get("/operator/").content.decode()
    suspend_url = f"/operator/tenants/{acme.tenant.public_id}/suspend/"
    assert f'href="{suspend_url}"' in listing  # a link, not a one-click form
    confirmation = operator_client.get(suspend_url)
    # A copy: the shared world's tenant object must not keep a state the rollback undoes.
    tenant = Tenant.objects.get(pk=acme.tenant.pk)
    assert confirmation.status_code == 200
    assert not tenant.is_suspended
    body = confirmation.content.decode()
    assert "Suspend Acme Corporation?" in body and 'method="post"' in body
    operator_client.post(suspend_url)
    tenant.refresh_from_db()
    assert tenant.is_suspended


def _deleted_tenant(slug: str, operator) -> DeletedTenant:
    from tenants.services import tenant_create, tenant_delete

    tenant = tenant_create(
        name=slug.title(), slug=slug, admin_email=f"a@{slug}.example", admin_password=PASSWORD
    )
    return tenant_delete(tenant=tenant, confirm_slug=slug, actor=operator)


def test_a_deleted_tenants_slug_stays_reserved(creator_client, operator):
    _deleted_tenant("bygone", operator)
    check = creator_client.get("/slug-availability/", {"slug": "bygone"}).content.decode()
    assert "already taken" in check
    response = creator_client.post("/", {**GOOD, "slug": "bygone"})
    assert response.status_code == 400
    assert "“bygone” is already taken." in response.content.decode()
    assert not Tenant.objects.filter(slug="bygone").exists()


def test_a_deleted_tenants_slug_is_free_after_the_quarantine(creator_client, operator, settings):
    settings.TENANT_SLUG_QUARANTINE_DAYS = 90
    record = _deleted_tenant("bygone", operator)
    DeletedTenant.objects.filter(pk=record.pk).update(
        deleted_at=record.deleted_at - timedelta(days=90, minutes=1)
    )
    check = creator_client.get("/slug-availability/", {"slug": "bygone"}).content.decode()
    assert "bygone.localhost is available" in check
    assert creator_client.post("/", {**GOOD, "slug": "bygone"}).status_code == 303


def test_an_operator_releases_a_reserved_slug_with_an_audit_row(
    operator_client, operator, creator_client
):
    record = _deleted_tenant("bygone", operator)
    listing = operator_client.get("/operator/reserved/").content.decode()
    assert "bygone" in listing and "Release “bygone” now" in listing
    response = operator_client.post(f"/operator/reserved/{record.public_id}/release/")
    assert response.status_code == 302
    after = operator_client.get(response["Location"]).content.decode()
    assert "“bygone” can be taken again." in after
    assert "Release “bygone” now" not in after  # others may stay (tests that commit)
    record.refresh_from_db()
    assert record.released_by == "ops@platform.test"
    assert AuditEvent.objects.filter(
        action="tenant.slug_release", actor_label="ops@platform.test", target_label="bygone"
    ).exists()
    assert creator_client.post("/", {**GOOD, "slug": "bygone"}).status_code == 303


def test_releasing_a_slug_is_for_operators_only(acme, operator):
    record = _deleted_tenant("bygone", operator)
    anonymous = Client(HTTP_HOST="localhost")
    response = anonymous.post(f"/operator/reserved/{record.public_id}/release/")
    assert response.status_code == 302 and response["Location"].startswith("/operator/login/")
    record.refresh_from_db()
    assert record.released_at is None


def test_operator_sign_in_locks_after_repeated_wrong_passwords(db, settings):
    settings.LOCKOUT_FIRST_LOCK_SECONDS = 2
    operator = get_user_model().objects.create_superuser(
        email="locked-ops@platform.test", password=PASSWORD
    )
    client = Client(HTTP_HOST="localhost")
    for attempt in range(25):
        client.post(
            "/operator/login/", {"username": operator.email, "password": f"wrong-{attempt}"}
        )
    refused = client.post("/operator/login/", {"username": operator.email, "password": PASSWORD})
    assert refused.status_code == 200
    assert "Too many failed sign-in attempts" in refused.content.decode()
    assert client.get("/operator/").status_code == 302
    time.sleep(2.1)
    signed_in = client.post("/operator/login/", {"username": operator.email, "password": PASSWORD})
    assert signed_in.status_code == 302
    assert signed_in["Location"].startswith("/operator/login/code/")
