"""The console's Sign-in log: rows, filters, roles, tenant isolation, unlock."""

from __future__ import annotations

from django.db import connection
from django.db.models import Q
from django.test import RequestFactory
from django_tenants.utils import tenant_context

from accounts.services import account_delete_self
from audit.models import AuditEvent, SignInEvent
from audit.services import sign_in_event_insert, sign_in_record
from tests.helpers import LOCKED, PASSWORD, fail, make_user, sign_in, tenant_client, unique_email


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
    # Failure reasons read as text, not as the stored code.
    assert "Success" in body and "Wrong password" in body and "wrong_password" not in body
    assert "curl/8" in body and "Sign-in log" in body
    # A guess at an unknown address says so, with what was typed.
    typed = unique_email("nobody")
    sign_in(tenant_client(acme), typed, "a guess")
    unknown = acme.client(acme.admin).get("/console/logs/sign-ins/", {"q": typed})
    assert f'{typed} <span class="badge text-bg-light">no such user</span>' in (
        unknown.content.decode()
    )


def test_filters_by_result_and_search_and_serves_the_table_fragment(acme):
    user = make_user(acme)
    other = unique_email("other")
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
    globex_email = unique_email("globex-only")
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
    email = unique_email("both")
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


def test_past_sign_ins_still_show_who_after_the_account_is_deleted(acme):
    user = make_user(acme, display_name="Dana Deleted")
    sign_in(tenant_client(acme), user.email, PASSWORD)
    with tenant_context(acme.tenant):
        account_delete_self(user=user)
    body = acme.client(acme.admin).get("/console/logs/sign-ins/", {"q": user.email})
    body = body.content.decode()
    assert "Dana Deleted" in body and user.email in body and "account deleted" in body
    assert "no such user" not in body
    # The name finds the rows too, once the email is gone from the directory.
    by_name = acme.client(acme.admin).get("/console/logs/sign-ins/", {"q": "Dana Deleted"})
    assert user.email in by_name.content.decode()


def test_a_wrong_emailed_code_is_logged_with_the_address_it_was_sent_to(acme):
    user = make_user(acme)
    unknown = unique_email("unknown-code")
    for email in (user.email, unknown):
        client = tenant_client(acme)
        client.post("/accounts/login/code/", {"email": email})
        wrong = client.post("/accounts/login/code/confirm/", {"code": "000000"})
        assert wrong.status_code == 200
    console = acme.client(acme.admin)
    known_page = console.get("/console/logs/sign-ins/", {"q": user.email, "result": "failure"})
    known_body = known_page.content.decode()
    assert f">{user.email}</a>" in known_body and "Wrong code" in known_body
    unknown_page = console.get("/console/logs/sign-ins/", {"q": unknown, "result": "failure"})
    unknown_body = unknown_page.content.decode()
    assert f'{unknown} <span class="badge text-bg-light">no such user</span>' in unknown_body
    assert "Wrong code" in unknown_body


def test_token_endpoint_rows_keep_the_user_and_read_as_text(acme):
    user = make_user(acme, display_name="Token Holder")
    request = RequestFactory().post("/oauth2/token/")
    with tenant_context(acme.tenant):
        sql, parameters = sign_in_event_insert(
            request=request, user=user, method="token", result="success", app_name="Portal"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, parameters)
        sign_in_record(
            request=request, method="token", result="failure", failure_reason="invalid_grant",
            app_name="Portal",
        )  # fmt: skip
        user.delete()
    body = acme.client(acme.admin).get("/console/logs/sign-ins/", {"q": "Portal"})
    body = body.content.decode()
    assert "Token Holder" in body and user.email in body
    assert "Code or refresh token not valid" in body and "invalid_grant" not in body


def test_every_feature_writes_the_one_vocabulary_of_the_sign_in_log(acme):
    """Hosted sign-in, the token endpoint and invitation redemption write methods, results and
    failure reasons from SignInEvent's choices, so the console and exports read them alike."""
    user = make_user(acme)
    sign_in(tenant_client(acme), user.email, "wrong one")
    app_id = f"no-such-app-{unique_email('x')}"
    refused = tenant_client(acme).post(
        "/o/token/", {"grant_type": "client_credentials", "client_id": app_id}
    )
    assert refused.status_code == 401
    with tenant_context(acme.tenant):
        rows = list(
            SignInEvent.objects.filter(Q(email_typed=user.email) | Q(app_id=app_id)).values_list(
                "method", "result", "failure_reason"
            )
        )
    assert sorted(rows) == [
        (SignInEvent.Method.PASSWORD, SignInEvent.Result.FAILURE, "wrong_password"),
        (SignInEvent.Method.TOKEN, SignInEvent.Result.FAILURE, "invalid_client"),
    ]
    assert all(reason in SignInEvent.FailureReason.values for _m, _r, reason in rows)
    # The search does not look at app ids; the newest refusal of the token endpoint is first.
    page = acme.client(acme.admin).get(
        "/console/logs/sign-ins/", {"method": "token", "result": "failure"}
    )
    page = page.content.decode()
    assert "App authentication failed" in page and "invalid_client" not in page
