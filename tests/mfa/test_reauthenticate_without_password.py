"""Someone without a password whose passkey no longer counts (an administrator asked for
re-registration) has no way to confirm it is them in place: "Confirm it's you" offers to sign
in again (where the re-registration happens) instead of letting the change through unasked
or answering 403, and a fresh sign-in then lets it through."""

from __future__ import annotations

from urllib.parse import quote

from tests.mfa.test_reauthenticate_passkey import ADD, passwordless_with_passkey
from tests.mfa.test_reregistration import require

SIGN_IN_AGAIN = "/accounts/reauthenticate/sign-in/"


def _with_authentication_records_old(client):
    """As if the sign-in were more than allauth's re-authentication timeout ago."""
    session = client.session
    session["account_authentication_methods"] = [
        {**record, "at": record["at"] - 3600}
        for record in session.get("account_authentication_methods", [])
    ]
    session.save()


def test_a_passwordless_person_with_a_pending_re_registration_signs_in_again(acme):
    user, _passkey, client = passwordless_with_passkey(acme)
    require(acme, acme.admin, user)
    _with_authentication_records_old(client)

    confirm = client.get(ADD, follow=True)
    assert confirm.redirect_chain[-1][0] == f"{SIGN_IN_AGAIN}?next={quote(ADD, safe='')}"
    page = confirm.content.decode()
    assert "sign in again to continue" in page and f'action="{SIGN_IN_AGAIN}"' in page

    out = client.post(SIGN_IN_AGAIN, {"next": ADD})
    assert out["Location"] == f"/accounts/login/?next={quote(ADD, safe='')}"
    assert client.get("/account/")["Location"].startswith("/accounts/login/")


def test_a_person_with_a_password_is_not_offered_to_sign_in_again(acme):
    from tests.mfa.helpers import make_user, signed_in

    user = make_user(acme)
    client = signed_in(acme, user)
    assert client.get(SIGN_IN_AGAIN).status_code == 302  # to the password page instead
    assert client.get("/accounts/reauthenticate/").status_code == 200
