"""The what-if page runs the same evaluation as a real sign-in and token issue: on a matrix
of sign-ins its decision equals evaluate()'s, and a real sign-in logs exactly what it shows."""

from __future__ import annotations

import itertools

from django_tenants.utils import tenant_context

from audit.models import SignInEvent
from conditional_access.evaluation import SignInContext, evaluate
from conditional_access.models import NamedLocation
from tests.conditional_access.helpers import (
    client_from,
    make_location,
    make_policy,
    make_user,
    policies_clear,
    sign_in,
)
from tests.oidc.helpers import register_app

BASE = "/console/policies/conditional-access/what-if/"


def setup_policies(acme):
    policies_clear(acme)
    office = make_location(acme, "Office", ["203.0.113.0/24"])
    make_location(acme, "Bad", ["198.51.100.0/24"], kind=NamedLocation.Kind.BLOCKED)
    app = register_app(acme, name="Payroll").application
    guest = make_user(acme, user_type="guest")
    make_policy(acme, name="Block bad ranges", grant="block", locations="blocked")
    make_policy(acme, name="MFA for payroll", require_mfa=True, apps="selected",
                exclude_trusted=True, relations={"include_apps": [app]})  # fmt: skip
    make_policy(acme, name="Guests change password", users="selected", include_guests=True,
                require_password_change=True, methods=["password"])  # fmt: skip
    make_policy(acme, name="Report block code", state="report_only", grant="block",
                methods=["email_code"])  # fmt: skip
    return office, app, guest


def test_what_if_equals_the_real_evaluation_on_a_matrix(acme):
    _office, app, guest = setup_policies(acme)
    client = acme.client(acme.admin)
    users = [acme.member, guest, acme.admin]
    for user, app_choice, ip, method in itertools.product(
        users, (None, app), ("203.0.113.5", "198.51.100.5", "192.0.2.5"),
        ("password", "email_code", ""),
    ):  # fmt: skip
        query = {"email": user.email, "ip": ip, "method": method, "recent_failures": "0"}
        if app_choice is not None:
            query["app"] = app_choice.pk
        response = client.get(BASE, query)
        assert response.status_code == 200, response.content.decode()[:500]
        shown = response.context["decision"]
        with tenant_context(acme.tenant):
            real = evaluate(
                SignInContext(
                    user=user, app_id=app_choice.pk if app_choice else None, ip=ip,
                    method=method or None, new_browser=False if method else None,
                    recent_failures=0,
                )
            )  # fmt: skip
        assert shown == real, (user.email, app_choice, ip, method)


def test_what_if_shows_the_result_and_why_each_policy_does_not_apply(acme):
    setup_policies(acme)
    response = acme.client(acme.admin).get(
        BASE, {"email": acme.member.email, "ip": "198.51.100.5", "method": "password"}
    )
    body = response.content.decode()
    assert "Blocked by Block bad ranges." in body
    assert "The sign-in is not for one of its apps" in body
    assert "The user is not among the users it is for." in body


def test_a_real_sign_in_logs_what_the_what_if_page_shows(acme):
    setup_policies(acme)
    user = make_user(acme)
    response = sign_in(client_from(acme, "192.0.2.77"), user.email)
    assert response.status_code == 302
    with tenant_context(acme.tenant):
        logged = SignInEvent.objects.get(user=user).policies
    shown = acme.client(acme.admin).get(
        BASE,
        {"email": user.email, "ip": "192.0.2.77", "method": "password", "new_browser": "on"},
    )
    assert logged == shown.context["decision"].log_entries()


def test_what_if_asks_for_a_user_of_the_directory(acme):
    response = acme.client(acme.admin).get(
        BASE, {"email": "nobody@example.org", "ip": "192.0.2.1", "method": "password"}
    )
    assert response.status_code == 400
    assert "No user with this address in the directory." in response.content.decode()
