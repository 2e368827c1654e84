"""Small console fixes: a favicon, the API key header shown whole, and a confirmation before
the one-click destructive actions (revoke an invitation, rotate the signing key)."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django_tenants.utils import tenant_context

from guests.models import Invitation
from oidc.models import SigningKey
from tests.guests.helpers import invite

ROTATE = "/console/apps/signing-keys/rotate/"


def test_pages_name_a_favicon_that_is_served(acme):
    client = acme.client(acme.admin)
    for page in (client.get("/console/"), acme.client().get("/accounts/login/")):
        assert '<link rel="icon" href="/static/favicon.svg"' in page.content.decode()
    icon = client.get("/static/favicon.svg")
    assert icon.status_code == 200 and icon["Content-Type"].startswith("image/svg+xml")
    assert b"<svg" in b"".join(icon.streaming_content)


def test_api_key_page_shows_the_key_placeholder_of_the_header(acme):
    page = acme.client(acme.admin).get("/console/guests/api-keys/").content.decode()
    assert "<code>Authorization: Bearer &lt;key&gt;</code>" in page
    assert "<key>" not in page


def _status(world, invitation) -> str:
    with tenant_context(world.tenant):
        return Invitation.objects.get(pk=invitation.pk).status


def test_revoking_an_invitation_asks_first(acme):
    invitation = invite(acme)
    client = acme.client(user=acme.admin)
    detail = f"/console/guests/invitations/{invitation.public_id}/"
    revoke = f"{detail}revoke/"
    # The Revoke button is a link to a confirmation page: following it revokes nothing.
    assert (
        f'<a class="btn btn-outline-danger" href="{revoke}">' in client.get(detail).content.decode()
    )
    confirmation = client.get(revoke)
    body = confirmation.content.decode()
    assert confirmation.status_code == 200
    assert f"Revoke the invitation to {invitation.email}?" in body
    assert f'<form method="post" action="{revoke}"' in body and "Revoke invitation" in body
    assert f'href="{detail}">Cancel</a>' in body
    assert _status(acme, invitation) == Invitation.Status.PENDING
    # The confirmation's form revokes.
    response = client.post(revoke)
    assert response.status_code == 302 and response["Location"] == detail
    assert _status(acme, invitation) == Invitation.Status.REVOKED
    # Nothing left to confirm: back to the invitation.
    assert client.get(revoke)["Location"] == detail


def test_only_inviters_see_the_revoke_confirmation(acme, globex):
    invitation = invite(acme)
    revoke = f"/console/guests/invitations/{invitation.public_id}/revoke/"
    assert acme.client(acme.member).get(revoke).status_code == 403
    assert globex.client(globex.admin).get(revoke).status_code == 404


def _key_count(world) -> int:
    with tenant_context(world.tenant):
        return SigningKey.objects.count()


def test_rotating_the_signing_key_asks_first(acme):
    client = acme.client(user=acme.admin)
    page = client.get("/console/apps/signing-keys/").content.decode()
    assert f'href="{ROTATE}">Rotate key…</a>' in page
    before = _key_count(acme)
    confirmation = client.get(ROTATE)
    body = confirmation.content.decode()
    assert confirmation.status_code == 200 and "Rotate the signing key?" in body
    assert f'<form method="post" action="{ROTATE}"' in body
    assert _key_count(acme) == before
    assert client.post(ROTATE)["Location"] == "/console/apps/signing-keys/"
    assert _key_count(acme) == before + 1


def test_only_security_administrators_see_the_rotation_confirmation(acme):
    with tenant_context(acme.tenant):
        app_admin = get_user_model().objects.create_user(
            email="app-admin-rotate@acme.test", admin_roles=["application_administrator"]
        )
    assert acme.client(app_admin).get(ROTATE).status_code == 403
    assert acme.client(acme.member).get(ROTATE).status_code == 403
