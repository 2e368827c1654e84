"""Console > Policies > MFA: Security administrators only, audited, and applied at sign-in."""

from __future__ import annotations

from django_tenants.utils import tenant_context

from audit.models import AuditEvent
from mfa.selectors import mfa_policy_get
from tests.helpers import tenant_client
from tests.mfa.helpers import make_user, password_step

FORM = {
    "requirement": "required_all",
    "totp_allowed": "on",
    "email_code_allowed": "on",
    "recovery_codes_allowed": "on",
    "passkey_allowed": "on",
}


def test_security_administrator_requires_mfa_for_everyone(acme):
    security_admin = make_user(acme, admin_roles=["security_administrator"])
    client = acme.client(security_admin)
    page = client.get("/console/policies/mfa/")
    assert page.status_code == 200
    assert "Required for everyone" in page.content.decode()
    response = client.post("/console/policies/mfa/", FORM)
    assert response.status_code == 302
    with tenant_context(acme.tenant):
        assert mfa_policy_get().requirement == "required_all"
        event = AuditEvent.objects.get(action="mfa.policy.update")
        assert event.before["requirement"] == "optional"
        assert event.after["requirement"] == "required_all"
    # Applies at the next sign-in of anyone, with no method yet: set one up.
    member = make_user(acme)
    assert password_step(tenant_client(acme), member)["Location"].startswith("/accounts/mfa/setup")


def test_other_admins_and_members_cannot_change_the_policy(acme, globex):
    for user in (make_user(acme, admin_roles=["user_administrator"]), make_user(acme)):
        response = acme.client(user).post("/console/policies/mfa/", FORM)
        assert response.status_code == 403
    with tenant_context(acme.tenant):
        assert mfa_policy_get().requirement == "optional"


def test_a_required_policy_needs_a_method_people_can_set_up(acme):
    security_admin = make_user(acme, admin_roles=["security_administrator"])
    response = acme.client(security_admin).post(
        "/console/policies/mfa/", {"requirement": "required_all", "recovery_codes_allowed": "on"}
    )
    assert response.status_code == 400
    assert "needs the authenticator app or the email code" in response.content.decode()


def test_policies_area_is_in_the_console_navigation(acme):
    security_admin = make_user(acme, admin_roles=["security_administrator"])
    page = acme.client(security_admin).get("/console/").content.decode()
    assert 'href="/console/policies/"' in page


def test_security_administrator_turns_passkeys_off(acme):
    security_admin = make_user(acme, admin_roles=["security_administrator"])
    client = acme.client(security_admin)
    assert "Passkeys" in client.get("/console/policies/mfa/").content.decode()
    form = {key: value for key, value in FORM.items() if key != "passkey_allowed"}
    assert client.post("/console/policies/mfa/", form).status_code == 302
    with tenant_context(acme.tenant):
        assert not mfa_policy_get().passkey_allowed
        event = AuditEvent.objects.get(action="mfa.policy.update")
        assert (event.before["passkey_allowed"], event.after["passkey_allowed"]) == (True, False)
    assert (
        "Sign in with a passkey" not in tenant_client(acme).get("/accounts/login/").content.decode()
    )
