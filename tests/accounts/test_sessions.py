"""Sign-in sessions: one row written per sign-in, the user's session list kept in step, and
the work of a sign-in bounded in statements."""

from __future__ import annotations

from datetime import timedelta

from allauth.usersessions.models import UserSession
from django.contrib.auth import get_user_model
from django.contrib.sessions.models import Session
from django.utils import timezone
from django_tenants.utils import tenant_context

from ciam.sessions import SessionStore
from tests.accounts.conftest import tenant_client
from tests.accounts.test_sign_in import make_user, sign_in
from tests.conftest import PASSWORD


def test_a_sign_in_writes_its_session_once_and_the_cookie_works(
    acme, django_assert_max_num_queries
):
    user = make_user(acme)
    client = tenant_client(acme)
    client.get("/accounts/login/")
    # Find the user, read the user flow (a server keeps it; a test's transaction does not),
    # stamp the last sign-in and record the session, write the sign-in log and the session: five
    # statements where Django and allauth as shipped took 19.
    with django_assert_max_num_queries(5):
        answer = sign_in(client, user.email, PASSWORD)
    assert answer["Location"] == "/account/"
    # No "Successfully signed in" banner riding in a cookie: My account says who you are.
    assert "messages" not in answer.cookies
    key = client.cookies["sessionid"].value
    with tenant_context(acme.tenant):
        assert Session.objects.filter(session_key=key).count() == 1
        tracked = UserSession.objects.get(session_key=key)
        last_login = get_user_model().objects.get(pk=user.pk).last_login
    assert tracked.user_id == user.pk and tracked.ip
    assert last_login is not None and timezone.now() - last_login < timedelta(minutes=1)
    assert client.get("/account/").status_code == 200


def test_signing_in_forgets_the_users_expired_sessions_only(acme):
    user, other = make_user(acme), make_user(acme)
    with tenant_context(acme.tenant):
        gone = UserSession.objects.create(user=user, ip="10.0.0.1", session_key="gone" * 8)
        expired = UserSession.objects.create(user=user, ip="10.0.0.1", session_key="old" * 10)
        Session.objects.create(
            session_key=expired.session_key,
            session_data="",
            expire_date=timezone.now() - timedelta(minutes=1),
        )
        others = UserSession.objects.create(user=other, ip="10.0.0.1", session_key="x" * 32)
    laptop = tenant_client(acme)
    assert sign_in(laptop, user.email, PASSWORD)["Location"] == "/account/"
    phone = tenant_client(acme)
    assert sign_in(phone, user.email, PASSWORD)["Location"] == "/account/"
    with tenant_context(acme.tenant):
        kept = set(UserSession.objects.filter(user=user).values_list("session_key", flat=True))
        assert kept == {laptop.cookies["sessionid"].value, phone.cookies["sessionid"].value}
        assert not UserSession.objects.filter(pk__in=[gone.pk, expired.pk]).exists()
        assert UserSession.objects.filter(pk=others.pk).exists()


def test_a_new_session_whose_key_is_taken_draws_another(acme):
    with tenant_context(acme.tenant):
        taken = SessionStore()
        taken["who"] = "first"
        taken.save()
        second = SessionStore()
        second["who"] = "second"
        second.create()
        second._session_key = taken.session_key  # the one key in 2**160 that collides
        second.save()
        assert second.session_key != taken.session_key
        assert SessionStore(taken.session_key).load() == {"who": "first"}
        assert SessionStore(second.session_key).load() == {"who": "second"}


def test_saving_a_session_that_ended_meanwhile_does_not_bring_it_back(acme):
    from django.contrib.sessions.backends.base import UpdateError

    with tenant_context(acme.tenant):
        store = SessionStore()
        store["who"] = "someone"
        store.save()
        loaded = SessionStore(store.session_key)
        loaded["more"] = 1
        Session.objects.filter(session_key=store.session_key).delete()
        try:
            loaded.save()
        except UpdateError:
            pass
        else:
            raise AssertionError("an ended session was written again")
        assert not Session.objects.filter(session_key=store.session_key).exists()
