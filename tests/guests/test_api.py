"""/api/v1/invitations with Graph's field names, authenticated by a tenant API key."""

from __future__ import annotations

import json

from django_tenants.utils import tenant_context

from emails.models import OutboxEmail
from emails.services import message_build
from guests import services
from guests.models import ApiKey, Invitation
from tests.helpers import unique_email


def api_key(world) -> str:
    with tenant_context(world.tenant):
        _key, secret = services.api_key_create(actor=world.admin, name="Partner portal")
    return secret


def post(world, key, body):
    return world.client().post(
        "/api/v1/invitations",
        data=json.dumps(body) if not isinstance(body, str) else body,
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {key}",
    )


def test_create_returns_the_redeem_url_and_status(acme):
    key = api_key(acme)
    email = unique_email()
    response = post(
        acme,
        key,
        {
            "invitedUserEmailAddress": email,
            "inviteRedirectUrl": "https://portal.acme.example/",
            "invitedUserDisplayName": "Robin",
            "sendInvitationMessage": True,
            "invitedUserMessageInfo": {
                "customizedMessageBody": "Welcome aboard",
                "ccRecipients": [{"emailAddress": {"address": "copy@partner.example"}}],
            },
        },
    )
    assert response.status_code == 201
    body = response.json()
    assert body["status"] == "PendingAcceptance"
    assert body["inviteRedeemUrl"].startswith("http://acme.localhost/invite/")
    assert body["invitedUserEmailAddress"] == email
    assert body["invitedUserType"] == "Guest"
    token = body["inviteRedeemUrl"].rstrip("/").rsplit("/", 1)[1]
    assert acme.client().get(f"/invite/{token}/").status_code == 200
    with tenant_context(acme.tenant):
        invitation = Invitation.objects.get(public_id=body["id"])
        assert invitation.cc_recipients == ["copy@partner.example"]
        assert invitation.invited_by_label == "API key Partner portal"
        assert invitation.emails.filter(kind="invitation").count() == 1
        assert [copy.to for copy in invitation.emails.filter(kind="invitation_copy")] == [
            "copy@partner.example"
        ]

    detail = acme.client().get(
        f"/api/v1/invitations/{body['id']}", HTTP_AUTHORIZATION=f"Bearer {key}"
    )
    assert detail.status_code == 200 and detail.json()["status"] == "PendingAcceptance"


def test_send_invitation_message_defaults_to_false_as_in_graph(acme):
    key = api_key(acme)
    body = post(
        acme,
        key,
        {"invitedUserEmailAddress": unique_email(), "inviteRedirectUrl": "https://a.example/"},
    ).json()
    with tenant_context(acme.tenant):
        assert Invitation.objects.get(public_id=body["id"]).emails.count() == 0


def test_invalid_input_names_the_field(acme):
    key = api_key(acme)
    cases = [
        ({"inviteRedirectUrl": "https://a.example/"}, "invitedUserEmailAddress"),
        (
            {"invitedUserEmailAddress": "nope", "inviteRedirectUrl": "https://a.example/"},
            "invitedUserEmailAddress",
        ),
        (
            {"invitedUserEmailAddress": unique_email(), "inviteRedirectUrl": "javascript:alert(1)"},
            "inviteRedirectUrl",
        ),
        (
            {
                "invitedUserEmailAddress": unique_email(),
                "inviteRedirectUrl": "https://a.example/",
                "invitedUserType": "Admin",
            },
            "invitedUserType",
        ),
        (
            {
                "invitedUserEmailAddress": unique_email(),
                "inviteRedirectUrl": "https://a.example/",
                "sendInvitationMessage": "yes",
            },
            "sendInvitationMessage",
        ),
        (
            {
                "invitedUserEmailAddress": unique_email(),
                "inviteRedirectUrl": "https://a.example/",
                "invitedUserSponsors": [{"id": "x"}],
            },
            "invitedUserSponsors",
        ),
    ]
    for body, field in cases:
        response = post(acme, key, body)
        assert response.status_code == 400, body
        assert response.json()["error"]["field"] == field, response.json()
    broken = post(acme, key, "{not json")
    assert broken.status_code == 400 and broken.json()["error"]["code"] == "invalidRequest"


def test_requests_without_a_valid_key_of_this_tenant_are_refused(acme, globex):
    globex_key = api_key(globex)
    body = {"invitedUserEmailAddress": unique_email(), "inviteRedirectUrl": "https://a.example/"}
    assert post(acme, "", body).status_code == 401
    assert post(acme, "ciam_made-up", body).status_code == 401
    assert post(acme, globex_key, body).status_code == 401  # a key of globex is useless at acme
    assert post(globex, globex_key, body).status_code == 201
    with tenant_context(globex.tenant):
        api_key_row = ApiKey.objects.get()
        assert (
            globex_key not in api_key_row.key_hash
            and api_key_row.key_hash == services.api_key_hash(globex_key)
        )
        services.api_key_revoke(api_key=api_key_row, actor=globex.admin)
    assert (
        post(globex, globex_key, {**body, "invitedUserEmailAddress": unique_email()}).status_code
        == 401
    )


def test_no_one_may_invite_applies_to_the_api(acme):
    key = api_key(acme)
    with tenant_context(acme.tenant):
        services.guest_settings_update(actor=acme.admin, invite_policy="no_one")
    response = post(
        acme,
        key,
        {"invitedUserEmailAddress": unique_email(), "inviteRedirectUrl": "https://a.example/"},
    )
    assert response.status_code == 403


def test_api_keys_are_created_in_the_console_and_shown_once(acme):
    client = acme.client(user=acme.admin)
    page = client.post("/console/guests/api-keys/", {"name": "CRM"}).content.decode()
    key = page.split('<code id="new-api-key">', 1)[1].split("</code>", 1)[0]
    assert key.startswith("ciam_")
    assert key not in client.get("/console/guests/api-keys/").content.decode()
    response = post(
        acme,
        key,
        {"invitedUserEmailAddress": unique_email(), "inviteRedirectUrl": "https://a.example/"},
    )
    assert response.status_code == 201
    assert acme.client(user=acme.member).get("/console/guests/api-keys/").status_code == 403


def test_a_daemon_app_with_user_invite_all_invites_with_its_client_credentials_token(acme, globex):
    from tests.oidc.helpers import Flow, register_app

    allowed = register_app(acme, app_type="daemon", permissions=["User.Invite.All"], name="CRM")
    status, token = Flow(acme).token(allowed, {"grant_type": "client_credentials"})
    assert status == 200
    body = {"invitedUserEmailAddress": unique_email(), "inviteRedirectUrl": "https://a.example/"}
    response = post(acme, token["access_token"], body)
    assert response.status_code == 201, response.content
    with tenant_context(acme.tenant):
        invitation = Invitation.objects.get(public_id=response.json()["id"])
        assert invitation.invited_by_label == "CRM"

    # Without the permission: 403; acme's token at globex: 401.
    plain = register_app(acme, app_type="daemon", name="Reporting")
    _status, plain_token = Flow(acme).token(plain, {"grant_type": "client_credentials"})
    other = {**body, "invitedUserEmailAddress": unique_email()}
    assert post(acme, plain_token["access_token"], other).status_code == 403
    assert post(globex, token["access_token"], other).status_code == 401


def test_an_invitation_an_app_sends_names_the_tenant_and_the_app_not_its_client_id(acme):
    from tests.oidc.helpers import Flow, register_app

    app = register_app(acme, app_type="daemon", permissions=["User.Invite.All"], name="CRM")
    _status, token = Flow(acme).token(app, {"grant_type": "client_credentials"})
    email = unique_email()
    response = post(
        acme,
        token["access_token"],
        {
            "invitedUserEmailAddress": email,
            "inviteRedirectUrl": "https://a.example/",
            "sendInvitationMessage": True,
        },
    )
    assert response.status_code == 201, response.content
    with tenant_context(acme.tenant):
        message = message_build(OutboxEmail.objects.get(to=email, kind="invitation"))
    html = message.alternatives[0][0]
    assert message.subject == (
        "Acme Corporation invited you to access applications within their organization"
    )
    assert "Invited by: CRM" in message.body and "Invited by: CRM" in html
    assert app.client_id not in message.subject + message.body + html


def test_expiry_days_is_honoured_within_the_tenants_maximum(acme):
    from datetime import timedelta

    from django.utils import timezone

    key = api_key(acme)
    with tenant_context(acme.tenant):
        services.guest_settings_update(actor=acme.admin, max_expiry_days=10, default_expiry_days=5)
    base = {"inviteRedirectUrl": "https://a.example/"}
    response = post(acme, key, {**base, "invitedUserEmailAddress": unique_email(), "expiryDays": 2})
    assert response.status_code == 201
    with tenant_context(acme.tenant):
        invitation = Invitation.objects.get(public_id=response.json()["id"])
        lifetime = invitation.expires_at - invitation.created_at
        assert lifetime == timedelta(days=2)
        assert invitation.expires_at < timezone.now() + timedelta(days=3)
    for value in (11, 0, -1, "3", 2.5, True):
        email = unique_email()
        refused = post(acme, key, {**base, "invitedUserEmailAddress": email, "expiryDays": value})
        assert refused.status_code == 400, value
        error = refused.json()["error"]
        assert error["code"] == "invalidField" and error["field"] == "expiryDays", value
        with tenant_context(acme.tenant):
            assert not Invitation.objects.filter(email=email).exists()
