"""Sign-in sessions: one row written per sign-in, the user's session list kept in step, and
the work of a sign-in bounded in statements."""

from __future__ import annotations

import time
from datetime import timedelta

from allauth.usersessions.models import UserSession
from django.contrib.auth import get_user_model
from django.contrib.sessions.models import Session
from django.utils import timezone
from django_tenants.utils import tenant_context

from ciam.sessions import ENDS_AT, SEEN_AT, SessionStore
from tests.helpers import PASSWORD, make_user, sign_in, tenant_client


def test_a_sign_in_writes_its_session_once_and_the_cookie_works(
    acme, django_assert_max_num_queries
):
    user = make_user(acme)
    client = tenant_client(acme)
    client.get("/accounts/login/")
    # Find the user; read the user flow and the enabled identity providers (a server keeps
    # them; a test's transaction does not), the tenant's MFA policy and the conditional access
    # policies (a process keeps them: the first sign-in reads them); whether this user has a
    # second factor (only when someone in the tenant has one, as earlier tests in this
    # process may have left); stamp the last sign-in and record the session, write the
    # sign-in log and the session: at most nine statements where Django and allauth as
    # shipped took 19 (a running server keeps the flow, the IdPs and the policies).
    with django_assert_max_num_queries(9):
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


def test_a_new_key_moves_the_row_and_the_old_key_opens_nothing(acme):
    with tenant_context(acme.tenant):
        store = SessionStore()
        store["who"] = "someone"
        store.save()
        old = store.session_key
        loaded = SessionStore(old)
        loaded["signed_in"] = True
        loaded.cycle_key()
        loaded.save()
        assert loaded.session_key != old
        assert not Session.objects.filter(session_key=old).exists()
        assert SessionStore(loaded.session_key).load() == {"who": "someone", "signed_in": True}
        # A session given a new key, then ended in the same request, leaves neither row.
        again = SessionStore(loaded.session_key)
        again.load()
        again.cycle_key()
        again.flush()
        assert not Session.objects.filter(session_key=loaded.session_key).exists()
        # The old row gone meanwhile (signed out elsewhere): the data gets a row of its own.
        third = SessionStore()
        third["who"] = "third"
        third.save()
        moving = SessionStore(third.session_key)
        moving.load()
        moving.cycle_key()
        Session.objects.filter(session_key=third.session_key).delete()
        moving.save()
        assert SessionStore(moving.session_key).load() == {"who": "third"}


def stored(world, client) -> dict:
    with tenant_context(world.tenant):
        return SessionStore(client.cookies["sessionid"].value).load()


def move_clock_back(world, client, seconds: float, *, keys) -> None:
    """As if the session had signed in (ENDS_AT) or last been active (SEEN_AT) `seconds`
    earlier: the stored timestamps move, the row's expiry follows them."""
    with tenant_context(world.tenant):
        store = SessionStore(client.cookies["sessionid"].value)
        for key in keys:
            store[key] = store[key] - seconds
        store.save()


def test_the_absolute_lifetime_does_not_slide_on_re_authentication(acme):
    user = make_user(acme)
    client = tenant_client(acme)
    sign_in(client, user.email, PASSWORD)
    ends_at = stored(acme, client)[ENDS_AT]
    assert abs(ends_at - (time.time() + 12 * 3600)) < 60  # the tenant's default: 12 hours
    # Eleven hours later (active all along), the user confirms the password again.
    move_clock_back(acme, client, 11 * 3600, keys=(ENDS_AT,))
    reauthenticated = client.post("/accounts/reauthenticate/", {"password": PASSWORD})
    assert reauthenticated.status_code == 302
    assert stored(acme, client)[ENDS_AT] == ends_at - 11 * 3600
    assert client.get("/account/").status_code == 200
    # One hour and a second later the session is over, whatever the re-authentication.
    move_clock_back(acme, client, 3600 + 1, keys=(ENDS_AT,))
    assert client.get("/account/")["Location"].startswith("/accounts/login/")
    with tenant_context(acme.tenant):
        assert not Session.objects.filter(
            session_key=client.cookies["sessionid"].value, expire_date__gt=timezone.now()
        ).exists()


def test_an_idle_session_ends_and_an_active_one_goes_on(acme):
    user = make_user(acme)
    client = tenant_client(acme)
    sign_in(client, user.email, PASSWORD)
    # 59 idle minutes (the tenant's default limit is 60): still signed in, and the visit
    # counts as activity.
    move_clock_back(acme, client, 59 * 60, keys=(SEEN_AT,))
    assert client.get("/account/").status_code == 200
    assert time.time() - stored(acme, client)[SEEN_AT] < 60
    with tenant_context(acme.tenant):
        row = Session.objects.get(session_key=client.cookies["sessionid"].value)
    assert row.expire_date > timezone.now() + timedelta(minutes=59)
    # Then 61 idle minutes: signed out.
    move_clock_back(acme, client, 61 * 60, keys=(SEEN_AT,))
    assert client.get("/account/")["Location"].startswith("/accounts/login/")


def test_session_timeouts_are_the_tenants_settings(acme, globex):
    from tests.helpers import save_flow

    assert save_flow(acme, session_lifetime_hours="2", session_idle_minutes="15").status_code == 302
    user = make_user(acme)
    client = tenant_client(acme)
    sign_in(client, user.email, PASSWORD)
    data = stored(acme, client)
    assert abs(data[ENDS_AT] - (time.time() + 2 * 3600)) < 60
    with tenant_context(acme.tenant):
        row = Session.objects.get(session_key=client.cookies["sessionid"].value)
    assert abs((row.expire_date - timezone.now()).total_seconds() - 15 * 60) < 60
    move_clock_back(acme, client, 16 * 60, keys=(SEEN_AT,))
    assert client.get("/account/")["Location"].startswith("/accounts/login/")
    # Globex keeps its own (default) settings.
    other = make_user(globex)
    at_globex = tenant_client(globex)
    sign_in(at_globex, other.email, PASSWORD)
    assert abs(stored(globex, at_globex)[ENDS_AT] - (time.time() + 12 * 3600)) < 60
