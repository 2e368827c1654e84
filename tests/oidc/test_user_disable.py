"""Disabling a user in the console ends what its apps hold (SECURITY.md item 5)."""

from __future__ import annotations


def test_disabling_a_user_revokes_the_refresh_tokens_their_apps_hold(acme, acme_web, acme_flow):
    tokens = acme_flow.sign_in(acme_web)
    admin = acme.client(user=acme.admin)
    response = admin.post(f"/console/users/{acme.member.public_id}/enabled/", {"enabled": "false"})
    assert response.status_code == 302

    status, body = acme_flow.token(
        acme_web, {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]}
    )
    assert status == 400
    assert body["error"] == "invalid_grant"
    # Enabling again does not bring the revoked token back: the app must sign the user in.
    admin.post(f"/console/users/{acme.member.public_id}/enabled/", {"enabled": "true"})
    status, body = acme_flow.token(
        acme_web, {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]}
    )
    assert status == 400
