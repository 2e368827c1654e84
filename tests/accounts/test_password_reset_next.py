""" "Forgot your password?" keeps where the sign-in was going (`next`: an app's authorization
request, a page of My account): the person resets the password and the sign-in that follows
goes on there, as if the password had been remembered. An unsafe `next` is dropped."""

from __future__ import annotations

import re
from urllib.parse import quote

from tests.helpers import PASSWORD, emails_to, link_in, make_user, sign_in, tenant_client

NEXT = "/account/apps/"
NEW_PASSWORD = "another long and unusual passphrase"
RESET_LINK = re.compile(r'href="(/accounts/password/reset/[^"]*)"')


def _reset_link(page) -> str:
    return RESET_LINK.search(page.content.decode()).group(1).replace("&amp;", "&")


def test_the_reset_link_of_the_sign_in_page_carries_next_and_only_a_safe_one(acme):
    client = tenant_client(acme)
    page = client.get(f"/accounts/login/?next={quote(NEXT)}")
    assert _reset_link(page) == f"/accounts/password/reset/?next={quote(NEXT, safe='')}"
    elsewhere = client.get("/accounts/login/?next=https://attacker.example/")
    assert _reset_link(elsewhere) == "/accounts/password/reset/"


def test_after_the_reset_the_sign_in_goes_on_to_next(acme):
    user = make_user(acme)
    client = tenant_client(acme)
    reset = _reset_link(client.get(f"/accounts/login/?next={quote(NEXT)}"))
    form = client.get(reset).content.decode()
    assert f'href="/accounts/login/?next={quote(NEXT, safe="")}"' in form  # "Back to sign in"

    asked = client.post(reset, {"email": user.email, "next": NEXT})
    # "Check your email", not straight on to `next` as allauth's page would.
    assert asked.status_code == 302 and asked["Location"] == "/accounts/password/reset/done/"
    sent = client.get(asked["Location"]).content.decode()
    assert f'href="/accounts/login/?next={quote(NEXT, safe="")}"' in sent

    (email,) = emails_to(acme, user.email)
    chosen = client.get(link_in(email).split(acme.host, 1)[1], follow=True)
    set_password = (
        chosen.redirect_chain[-1][0] if chosen.redirect_chain else chosen.request["PATH_INFO"]
    )
    done = client.post(set_password, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD})
    assert done.status_code == 302
    page = client.get(done["Location"]).content.decode()
    sign_in_link = re.search(r'href="(/accounts/login/[^"]*)"', page).group(1)
    assert sign_in_link == f"/accounts/login/?next={quote(NEXT, safe='')}"
    # Remembered for this reset only.
    again = client.get(done["Location"]).content.decode()
    assert 'href="/accounts/login/"' in again

    signed_in = sign_in(client, user.email, NEW_PASSWORD, next=NEXT)
    assert signed_in.status_code == 302 and signed_in["Location"] == NEXT
    assert sign_in(tenant_client(acme), user.email, PASSWORD).status_code == 200  # old one gone


def test_a_reset_asked_without_next_signs_in_as_usual(acme):
    user = make_user(acme)
    client = tenant_client(acme)
    client.get(f"/accounts/login/?next={quote(NEXT)}")
    asked = client.post("/accounts/password/reset/", {"email": user.email})
    assert asked["Location"] == "/accounts/password/reset/done/"
    sent = client.get(asked["Location"]).content.decode()
    assert 'href="/accounts/login/"' in sent and 'href="/accounts/password/reset/"' in sent
