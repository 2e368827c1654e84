"""Console > Logs: the sign-in log and the audit log are its two tabs, both named in the
console navigation, both for the log-reading roles only."""

from __future__ import annotations

import re

from django.contrib.auth import get_user_model
from django_tenants.utils import tenant_context

SIGN_IN_LOG = "/console/logs/sign-ins/"
AUDIT_LOG = "/console/logs/audit/"


def _user(world, email, roles):
    with tenant_context(world.tenant):
        return get_user_model().objects.create_user(email=email, admin_roles=roles)


def _nav(body: str) -> str:
    return re.search(r'<nav class="console-nav".*?</nav>', body, re.S).group(0)


def _tabs(body: str) -> str:
    return re.search(r'<nav aria-label="Logs">.*?</nav>', body, re.S).group(0)


def test_logs_opens_the_sign_in_log_with_a_tab_for_each_log(acme):
    client = acme.client(acme.admin)
    response = client.get("/console/logs/")
    assert response.status_code == 302 and response["Location"] == SIGN_IN_LOG
    sign_ins = client.get(SIGN_IN_LOG).content.decode()
    tabs = _tabs(sign_ins)
    assert f'<a class="nav-link active" aria-current="page" href="{SIGN_IN_LOG}">' in tabs
    assert f'<a class="nav-link" href="{AUDIT_LOG}">Audit log</a>' in tabs
    assert "Unlock an account" in sign_ins and "Export these sign-ins" in sign_ins
    audit = client.get(AUDIT_LOG)
    assert audit.status_code == 200
    tabs = _tabs(audit.content.decode())
    assert f'<a class="nav-link active" aria-current="page" href="{AUDIT_LOG}">' in tabs
    assert f'<a class="nav-link" href="{SIGN_IN_LOG}">Sign-in log</a>' in tabs


def test_console_navigation_names_both_logs_and_marks_the_open_one(acme):
    client = acme.client(acme.admin)
    nav = _nav(client.get("/console/").content.decode())
    assert ">Logs<" in nav
    assert f'href="{SIGN_IN_LOG}">Sign-in log</a>' in nav
    assert f'href="{AUDIT_LOG}">Audit log</a>' in nav
    nav = _nav(client.get(AUDIT_LOG).content.decode())
    assert f'<a class="nav-link active" href="{AUDIT_LOG}" aria-current="page">' in nav
    assert f'<a class="nav-link" href="{SIGN_IN_LOG}">' in nav


def test_log_readers_reach_both_logs_and_other_roles_get_403_on_both(acme):
    for roles in (["reports_reader"], ["security_administrator"]):
        reader = acme.client(_user(acme, f"{roles[0]}-logs@acme.test", roles))
        assert reader.get("/console/logs/", follow=True).status_code == 200
        assert reader.get(SIGN_IN_LOG).status_code == 200
        assert reader.get(AUDIT_LOG).status_code == 200
    user_admin = acme.client(_user(acme, "ua-logs@acme.test", ["user_administrator"]))
    for client in (user_admin, acme.client(acme.member)):
        for url in ("/console/logs/", SIGN_IN_LOG, AUDIT_LOG):
            assert client.get(url).status_code == 403
    nav = _nav(user_admin.get("/console/").content.decode())
    assert "Sign-in log" not in nav and "Audit log" not in nav and ">Logs<" not in nav


def test_logs_of_one_tenant_are_not_open_to_another_tenants_admin(acme, globex):
    other = globex.client(globex.admin)
    other.cookies["sessionid"] = acme.client(acme.admin).cookies["sessionid"].value
    for url in (SIGN_IN_LOG, AUDIT_LOG):
        assert "/accounts/login/" in other.get(url)["Location"]
