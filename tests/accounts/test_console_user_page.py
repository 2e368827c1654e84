"""The console's user page: who the person is and, for the sign-in log's readers, how they
have been signing in."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django_tenants.utils import tenant_context


def test_user_page_shows_the_name_and_latest_sign_ins_to_the_log_readers_only(acme):
    from accounts.roles import AdminRole
    from audit.models import SignInEvent

    with tenant_context(acme.tenant):
        user = get_user_model().objects.create_user(
            email="signed@acme.test", password=None, first_name="Grace", last_name="Hopper"
        )
        SignInEvent.objects.create(
            user=user, email_typed=user.email, method="password", result="failure",
            failure_reason="wrong password", ip_address="203.0.113.7",
            user_agent="Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
        )  # fmt: skip
        user_admin = get_user_model().objects.create_user(
            email="useradmin@acme.test", password=None,
            admin_roles=[AdminRole.USER_ADMINISTRATOR],
        )  # fmt: skip
    page = acme.client(acme.admin).get(f"/console/users/{user.public_id}/").content.decode()
    assert "Grace Hopper" in page
    assert "Recent sign-ins" in page and "203.0.113.7" in page and "wrong password" in page
    assert "Firefox on Linux" in page
    assert "/console/logs/sign-ins/?q=signed%40acme.test" in page
    # A User administrator manages the user but does not read the sign-in log.
    limited = acme.client(user_admin).get(f"/console/users/{user.public_id}/")
    assert limited.status_code == 200
    assert "Grace Hopper" in limited.content.decode()
    assert "203.0.113.7" not in limited.content.decode()
