from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from audit.models import AuditEvent
from tenants.models import DeletedTenant, Tenant
from tests.conftest import PASSWORD

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


def test_creating_a_tenant_lands_the_admin_on_its_console_sign_in(platform_client, db):
    response = platform_client.post("/", GOOD)
    assert response.status_code == 302
    assert response["Location"] == "http://initrode.localhost/accounts/login/?next=/console/"
    assert Tenant.objects.filter(slug="initrode").exists()


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
    platform_client, acme, changes, field, message
):
    data = {**GOOD, **changes}
    response = platform_client.post("/", data)
    body = response.content.decode()
    assert response.status_code == 400
    assert f'id="id_{field}_error"' in body
    error_block = body.split(f'id="id_{field}_error">', 1)[1].split("</div>", 1)[0]
    assert message in error_block.replace("&quot;", '"').replace("&#x27;", "'")
    assert f'aria-describedby="id_{field}_help id_{field}_error"' in body or (
        f'aria-describedby="id_{field}_error"' in body
    )
    for kept in ("name", "slug", "admin_email"):
        if data[kept]:
            assert f'value="{data[kept]}"' in body
    assert 'value="' + PASSWORD + '"' not in body  # passwords are never echoed back


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
    client = Client(HTTP_HOST="localhost")
    client.force_login(operator)
    return client


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
    assert client.get("/operator/").status_code == 200


def test_operator_lists_tenants_with_user_counts_and_search(operator_client, acme, globex):
    body = operator_client.get("/operator/").content.decode()
    assert "Acme Corporation" in body and "Globex" in body
    row = body.split("Acme Corporation", 1)[1].split("</tr>", 1)[0]
    assert "<td>2</td>" in row  # the admin and the member
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
