"""The console's User flows page and its effect on the hosted pages, at once and per tenant."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django_tenants.utils import tenant_context

from accounts.models import SignUpAttribute, UserFlow
from audit.models import AuditEvent, SignInEvent
from tests.helpers import PASSWORD, make_user, save_flow, sign_in, tenant_client, unique_email


def add_attribute(world, **fields):
    data = {"label": "", "data_type": "string", "choices": "", "position": "5", **fields}
    return world.client(world.admin).post("/console/user-flows/attributes/new/", data)


def test_user_flows_page_is_for_user_administrators(acme):
    assert acme.client(acme.admin).get("/console/user-flows/").status_code == 200
    assert acme.client(acme.member).get("/console/user-flows/").status_code == 403
    reader = make_user(acme, admin_roles=["reports_reader"])
    assert acme.client(reader).get("/console/user-flows/").status_code == 403
    user_admin = make_user(acme, admin_roles=["user_administrator"])
    page = acme.client(user_admin).get("/console/user-flows/").content.decode()
    assert "givenName" in page and "surname" in page  # the defaults of a new tenant


def test_turning_sign_up_off_closes_the_sign_up_page_at_once_and_is_audited(acme, globex):
    assert save_flow(acme, signup_enabled=None).status_code == 302
    closed = tenant_client(acme).get("/accounts/signup/")
    assert "Sign-up is closed" in closed.content.decode()
    assert "Create one" not in tenant_client(acme).get("/accounts/login/").content.decode()
    posted = tenant_client(acme).post(
        "/accounts/signup/", {"email": unique_email(), "password1": "a fine long passphrase"}
    )
    assert "Sign-up is closed" in posted.content.decode()
    # Globex keeps its own flow.
    assert 'name="password1"' in tenant_client(globex).get("/accounts/signup/").content.decode()
    with tenant_context(acme.tenant):
        event = AuditEvent.objects.get(action="user_flow.update")
    assert event.before == {"signup_enabled": True} and event.after == {"signup_enabled": False}


def test_password_sign_in_off_hides_it_and_refuses_a_posted_password(acme):
    user = make_user(acme)
    save_flow(acme, password_enabled=None)
    page = tenant_client(acme).get("/accounts/login/").content.decode()
    assert 'name="password"' not in page and "Email me a sign-in code" in page
    client = tenant_client(acme)
    response = sign_in(client, user.email, PASSWORD)
    assert response.status_code == 403
    assert "turned off" in response.content.decode()
    assert client.get("/account/").status_code == 302
    with tenant_context(acme.tenant):
        assert SignInEvent.objects.filter(
            user=user, result="blocked", failure_reason="method_disabled"
        ).exists()


def test_email_code_off_refuses_to_send_a_code(acme):
    save_flow(acme, email_code_enabled=None)
    assert "sign-in code" not in tenant_client(acme).get("/accounts/login/").content.decode()
    response = tenant_client(acme).post("/accounts/login/code/", {"email": unique_email()})
    assert response.status_code == 200
    assert "turned off" in response.content.decode()


def test_at_least_one_sign_in_method_stays_on(acme):
    response = save_flow(acme, password_enabled=None, email_code_enabled=None)
    assert response.status_code == 400
    assert "Keep at least one way of signing in." in response.content.decode()
    with tenant_context(acme.tenant):
        assert UserFlow.objects.get().password_enabled


def test_bad_input_on_the_user_flow_form_gets_errors_next_to_the_fields(acme):
    response = save_flow(acme, password_min_length="3", terms_url="javascript:alert(1)")
    body = response.content.decode()
    assert response.status_code == 400
    assert 'id="id_password_min_length_error"' in body and 'id="id_terms_url_error"' in body
    response = save_flow(acme, terms_required="on")
    assert response.status_code == 400 and "terms of use" in response.content.decode()


def test_minimum_password_length_applies_to_sign_up_at_once(acme):
    save_flow(acme, password_min_length="20")
    response = tenant_client(acme).post(
        "/accounts/signup/", {"email": unique_email(), "password1": "sixteen chars ok"}
    )
    assert response.status_code == 200
    assert "Use at least 20 characters" in response.content.decode()


def test_mandatory_verification_holds_back_an_unverified_sign_in(acme):
    user = make_user(acme)
    save_flow(acme, email_verification="mandatory")
    response = sign_in(tenant_client(acme), user.email, PASSWORD)
    assert response["Location"] == "/accounts/confirm-email/"
    with tenant_context(acme.tenant):
        assert SignInEvent.objects.filter(
            user=user, result="interrupted", failure_reason="email_not_verified"
        ).exists()
    save_flow(acme, email_verification="optional")
    assert sign_in(tenant_client(acme), user.email, PASSWORD)["Location"] == "/account/"


def test_custom_attributes_are_asked_validated_and_stored(acme):
    assert add_attribute(acme, key="loyaltyNumber", label="Loyalty number",
                         data_type="integer", required="on").status_code == 302  # fmt: skip
    assert add_attribute(acme, key="plan", label="Plan", data_type="choice",
                         choices="Basic\nPremium").status_code == 302  # fmt: skip
    assert add_attribute(acme, key="newsletter", label="Send me news",
                         data_type="boolean").status_code == 302  # fmt: skip
    page = tenant_client(acme).get("/accounts/signup/").content.decode()
    assert "Loyalty number" in page and "Premium" in page and "Send me news" in page
    email = unique_email("attrs")
    bad = tenant_client(acme).post(
        "/accounts/signup/",
        {"email": email, "password1": "a fine long passphrase", "attr_loyaltyNumber": "abc",
         "attr_plan": "Gold"},
    )  # fmt: skip
    body = bad.content.decode()
    assert bad.status_code == 200
    assert 'id="id_attr_loyaltyNumber_error"' in body and 'id="id_attr_plan_error"' in body
    assert f'value="{email}"' in body  # what was typed is kept
    good = tenant_client(acme).post(
        "/accounts/signup/",
        {"email": email, "password1": "a fine long passphrase", "attr_loyaltyNumber": "42",
         "attr_plan": "Premium", "attr_newsletter": "on", "attr_givenName": "Grace",
         "attr_surname": "Hopper"},
    )  # fmt: skip
    assert good.status_code == 302
    with tenant_context(acme.tenant):
        user = get_user_model().objects.get(email=email)
    assert user.attributes == {
        "loyaltyNumber": 42, "plan": "Premium", "newsletter": True, "givenName": "Grace",
        "surname": "Hopper",
    }  # fmt: skip
    assert user.first_name == "Grace" and user.last_name == "Hopper"
    detail = acme.client(acme.admin).get(f"/console/users/{user.public_id}/")
    assert "loyaltyNumber" in detail.content.decode()


def test_bad_attribute_definitions_are_refused(acme):
    assert add_attribute(acme, key="1 bad key").status_code == 400
    assert add_attribute(acme, key="givenName").status_code == 400  # already asked
    response = add_attribute(acme, key="plan", data_type="choice", choices="Only one")
    assert response.status_code == 400 and "at least two choices" in response.content.decode()
    assert add_attribute(acme, key="city", data_type="integer").status_code == 400


def test_attributes_can_be_edited_and_removed(acme):
    with tenant_context(acme.tenant):
        attribute = SignUpAttribute.objects.get(key="surname")
    url = f"/console/user-flows/attributes/{attribute.public_id}/"
    client = acme.client(acme.admin)
    assert client.get(url).status_code == 200
    data = {"key": "surname", "label": "Family name", "data_type": "string", "position": "1"}
    response = client.post(url, data)
    assert response.status_code == 302
    page = tenant_client(acme).get("/accounts/signup/").content.decode()
    assert "Family name" in page
    assert client.post(url + "delete/").status_code == 302
    assert "Family name" not in tenant_client(acme).get("/accounts/signup/").content.decode()


def test_terms_checkbox_must_be_ticked(acme):
    save_flow(acme, terms_required="on", terms_url="https://acme.example/terms")
    page = tenant_client(acme).get("/accounts/signup/").content.decode()
    assert 'href="https://acme.example/terms"' in page
    data = {"email": unique_email(), "password1": "a fine long passphrase"}
    refused = tenant_client(acme).post("/accounts/signup/", data)
    assert "Accept the terms of use" in refused.content.decode()
    accepted = tenant_client(acme).post("/accounts/signup/", {**data, "accept_terms": "on"})
    assert accepted.status_code == 302
    with tenant_context(acme.tenant):
        user = get_user_model().objects.get(email=data["email"])
    assert "termsAcceptedAt" in user.attributes


def test_another_tenants_attribute_cannot_be_edited(acme, globex):
    with tenant_context(globex.tenant):
        attribute = SignUpAttribute.objects.get(key="givenName")
    url = f"/console/user-flows/attributes/{attribute.public_id}/"
    assert acme.client(acme.admin).get(url).status_code == 404
    assert acme.client(acme.admin).post(url + "delete/").status_code == 404
