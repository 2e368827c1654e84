"""The console's Sign-in log: rows, filters, roles, tenant isolation, unlock."""

from __future__ import annotations

from django_tenants.utils import tenant_context

from accounts.models import SignInEvent
from audit.models import AuditEvent
from tests.accounts.conftest import fresh_email, tenant_client
from tests.accounts.test_lockout import LOCKED, fail
from tests.accounts.test_sign_in import make_user, sign_in
from tests.conftest import PASSWORD


def test_admins_see_each_attempt_with_its_details(acme):
    user = make_user(acme)
    sign_in(tenant_client(acme), user.email, PASSWORD)
    client = tenant_client(acme)
    client.defaults["HTTP_USER_AGENT"] = "curl/8"
    sign_in(client, user.email, "wrong one")
    page = acme.client(acme.admin).get("/console/logs/sign-ins/", {"q": user.email})
    body = page.content.decode()
    assert page.status_code == 200
    assert body.count(user.email) >= 2
    assert "Success" in body and "wrong_password" in body
    assert "curl/8" in body and "Sign-in log" in body
    # A guess at an unknown address says so, with what was typed.
    typed = fresh_email("nobody")
    sign_in(tenant_client(acme), typed, "a guess")
    unknown = acme.client(acme.admin).get("/console/logs/sign-ins/", {"q": typed})
    assert f'{typed} <span class="badge text-bg-light">no such user</span>' in (
        unknown.content.decode()
    )


def test_filters_by_result_and_search_and_serves_the_table_fragment(acme):
    user = make_user(acme)
    other = fresh_email("other")
    sign_in(tenant_client(acme), user.email, PASSWORD)
    sign_in(tenant_client(acme), other, "whatever it is")
    client = acme.client(acme.admin)
    failures = client.get("/console/logs/sign-ins/", {"result": "failure"}).content.decode()
    assert other in failures and f">{user.email}<" not in failures
    fragment = client.get(
        "/console/logs/sign-ins/", {"q": other, "days": "1"}, HTTP_HX_REQUEST="true"
    )
    assert "<html" not in fragment.content.decode() and other in fragment.content.decode()
    for query in ({"result": "bogus"}, {"days": "-5"}, {"page": "999"}, {"q": "1.2.3.4"}):
        assert client.get("/console/logs/sign-ins/", query).status_code == 200


def test_sign_in_log_is_for_reports_readers_and_security_admins(acme):
    assert acme.client(acme.member).get("/console/logs/sign-ins/").status_code == 403
    user_admin = make_user(acme, admin_roles=["user_administrator"])
    assert acme.client(user_admin).get("/console/logs/sign-ins/").status_code == 403
    reader = make_user(acme, admin_roles=["reports_reader"])
    page = acme.client(reader).get("/console/logs/sign-ins/")
    assert page.status_code == 200
    assert "Unlock an account" not in page.content.decode()
    assert (
        acme.client(reader).post("/console/logs/sign-ins/unlock/", {"email": "a@b.c"}).status_code
        == 403
    )


def test_one_tenants_log_never_shows_another_tenants_attempts(acme, globex):
    globex_email = fresh_email("globex-only")
    sign_in(tenant_client(globex), globex_email, "anything at all")
    query = {"q": globex_email}
    page = acme.client(acme.admin).get("/console/logs/sign-ins/", query, HTTP_HX_REQUEST="true")
    body = page.content.decode()
    assert "No sign-ins match." in body
    assert body.count(globex_email) == 1  # only the search, kept for the export button
    page = globex.client(globex.admin).get("/console/logs/sign-ins/", query, HTTP_HX_REQUEST="true")
    assert "No sign-ins match." not in page.content.decode()
    assert page.content.decode().count(globex_email) >= 2


def test_an_admin_unlocks_a_locked_account_and_it_is_audited(acme, globex):
    user = make_user(acme)
    fail(tenant_client(acme), user.email, 10)
    assert LOCKED in sign_in(tenant_client(acme), user.email, PASSWORD).content.decode()
    response = acme.client(acme.admin).post("/console/logs/sign-ins/unlock/", {"email": user.email})
    assert response.status_code == 302
    assert sign_in(tenant_client(acme), user.email, PASSWORD)["Location"] == "/account/"
    with tenant_context(acme.tenant):
        assert AuditEvent.objects.filter(action="user.unlock", target_label=user.email).exists()


def test_unlocking_at_one_tenant_leaves_the_other_locked(acme, globex):
    email = fresh_email("both")
    make_user(acme, email=email)
    make_user(globex, email=email)
    fail(tenant_client(acme), email, 10)
    fail(tenant_client(globex), email, 10)
    globex.client(globex.admin).post("/console/logs/sign-ins/unlock/", {"email": email})
    assert sign_in(tenant_client(globex), email, PASSWORD)["Location"] == "/account/"
    assert LOCKED in sign_in(tenant_client(acme), email, PASSWORD).content.decode()


def test_bad_unlock_input_is_an_error_message(acme):
    response = acme.client(acme.admin).post(
        "/console/logs/sign-ins/unlock/", {"email": "not an email"}, follow=True
    )
    assert "Enter a valid email address" in response.content.decode()


def test_token_rows_written_by_other_features_appear_too(acme):
    with tenant_context(acme.tenant):
        SignInEvent.objects.create(
            email_typed="app@acme.test", method="token:client_credentials", result="success",
            app_id="client-123", app_name="Billing API",
        )  # fmt: skip
    body = acme.client(acme.admin).get("/console/logs/sign-ins/", {"q": "Billing"}).content.decode()
    assert "Billing API" in body and "token:client_credentials" in body
