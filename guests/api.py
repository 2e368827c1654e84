"""/api/v1/invitations with Microsoft Graph's field names.

Callers authenticate with `Authorization: Bearer <credential>`: an access token from the
client credentials grant of one of the tenant's daemon apps holding User.Invite.All, or a
tenant API key (`ciam_...`) created in the console.

A caller invites with the authority of the admin who configured it (who granted the app
User.Invite.All, or created the API key): the tenant's "who can invite" setting, the right
to invite members and to choose any redirect URL are that admin's, checked at each call.
"""

from __future__ import annotations

import json

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import JsonResponse
from django.views.decorators.http import require_GET, require_POST

from accounts.api import GRAPH_USER_TYPES, USER_TYPE_FROM_GRAPH
from ciam.api import ApiCaller, api_permission_required
from ciam.api import error_response as _error
from guests import selectors, services
from guests.models import Invitation

FIELD_NAMES = {
    "email": "invitedUserEmailAddress",
    "redirect_url": "inviteRedirectUrl",
    "display_name": "invitedUserDisplayName",
    "message": "invitedUserMessageInfo.customizedMessageBody",
    "cc_recipients": "invitedUserMessageInfo.ccRecipients",
    "user_type": "invitedUserType",
    "expiry_days": "expiryDays",
}


INVITE_PERMISSION = "User.Invite.All"


def api_key_authenticate(request, token: str, permission: str) -> ApiCaller | None:
    """A tenant API key (`ciam_...`, created in the console) carries User.Invite.All with the
    authority of the admin who created it (GuestsConfig.ready registers it for that
    permission alone)."""
    api_key = services.api_key_authenticate(token)
    if api_key is None:
        return None
    return ApiCaller(label=f"API key {api_key.name}", authority=api_key.created_by)


def _represent(invitation: Invitation, redeem_url: str | None = None) -> dict:
    return {
        "id": str(invitation.public_id),
        # The link token is stored only as a hash: the URL exists in the creation response.
        "inviteRedeemUrl": redeem_url,
        "invitedUserEmailAddress": invitation.email,
        "invitedUserDisplayName": invitation.display_name or None,
        "inviteRedirectUrl": invitation.redirect_url,
        "sendInvitationMessage": invitation.send_email,
        "invitedUserMessageInfo": {
            "customizedMessageBody": invitation.message or None,
            "messageLanguage": invitation.language,
            "ccRecipients": [
                {"emailAddress": {"address": address}} for address in invitation.cc_recipients
            ],
        },
        "invitedUserType": GRAPH_USER_TYPES[invitation.user_type],
        "status": invitation.status,
        "expiresDateTime": invitation.expires_at.isoformat(),
        "invitedUser": {"id": str(invitation.guest.public_id)} if invitation.guest_id else None,
    }


def _text(body: dict, name: str, default: str = "") -> str:
    value = body.get(name, default)
    if value is None:
        return default
    if not isinstance(value, str):
        raise ValidationError({name: ["Must be a string."]})
    return value


def _parse(body: dict) -> dict:
    """Graph's shape to invitation_create's arguments; ValidationError keyed by API names."""
    if not isinstance(body, dict):
        raise ValidationError({"body": ["Send a JSON object."]})
    for required in ("invitedUserEmailAddress", "inviteRedirectUrl"):
        if not _text(body, required).strip():
            raise ValidationError({required: ["This field is required."]})
    for field in ("email", "redirect_url"):
        # Validators accept longer addresses (320) and URLs (2048) than the columns hold.
        limit = Invitation._meta.get_field(field).max_length
        if len(_text(body, FIELD_NAMES[field]).strip()) > limit:
            raise ValidationError({FIELD_NAMES[field]: [f"At most {limit} characters."]})
    info = body.get("invitedUserMessageInfo") or {}
    if not isinstance(info, dict):
        raise ValidationError({"invitedUserMessageInfo": ["Must be an object."]})
    cc = info.get("ccRecipients") or []
    if not isinstance(cc, list):
        raise ValidationError({"invitedUserMessageInfo.ccRecipients": ["Must be a list."]})
    try:
        cc_addresses = [item["emailAddress"]["address"] for item in cc]
    except (KeyError, TypeError) as error:
        raise ValidationError(
            {"invitedUserMessageInfo.ccRecipients": ['Use [{"emailAddress": {"address": ...}}].']}
        ) from error
    send = body.get("sendInvitationMessage", False)
    if not isinstance(send, bool):
        raise ValidationError({"sendInvitationMessage": ["Must be true or false."]})
    reset = body.get("resetRedemption", False)
    if not isinstance(reset, bool):
        raise ValidationError({"resetRedemption": ["Must be true or false."]})
    expiry_days = body.get("expiryDays")
    if expiry_days is not None and (
        isinstance(expiry_days, bool) or not isinstance(expiry_days, int)
    ):
        raise ValidationError({"expiryDays": ["Must be a whole number of days."]})
    sponsors = body.get("invitedUserSponsors") or []
    if not isinstance(sponsors, list):
        raise ValidationError({"invitedUserSponsors": ["Must be a list."]})
    sponsor_ids = [item.get("id") if isinstance(item, dict) else None for item in sponsors]
    users = list(
        get_user_model().objects.filter(public_id__in=[i for i in sponsor_ids if _is_uuid(i)])
    )
    if len(users) != len(sponsor_ids):
        raise ValidationError(
            {"invitedUserSponsors": ["Each sponsor must be a user id of this directory."]}
        )
    return {
        "email": _text(body, "invitedUserEmailAddress").strip(),
        "redirect_url": _text(body, "inviteRedirectUrl").strip(),
        "display_name": _text(body, "invitedUserDisplayName"),
        "message": _text(info, "customizedMessageBody"),
        # Graph's BCP 47 tag ("fr-FR"); invitation_create keeps the language we ship for it.
        "language": _text(info, "messageLanguage", "")[:35],
        "cc_recipients": cc_addresses,
        # Anything but Graph's two names is refused by invitation_create ("Choose Guest or
        # Member.").
        "user_type": USER_TYPE_FROM_GRAPH.get(_text(body, "invitedUserType", "Guest"), ""),
        "sponsors": users,
        "send_email": send,
        "expiry_days": expiry_days,
        "reset": reset,
    }


def _is_uuid(value) -> bool:
    import uuid

    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return True


@require_POST
@api_permission_required(INVITE_PERMISSION)
def invitation_create(request):
    try:
        body = json.loads(request.body or b"null")
    except (ValueError, UnicodeDecodeError):
        return _error(400, "invalidRequest", "The body is not valid JSON.")
    try:
        arguments = _parse(body)
        reset = arguments.pop("reset")
        with transaction.atomic():
            if reset:
                # A fresh link replaces the pending one, which stops working.
                for pending in Invitation.objects.filter(
                    email__iexact=arguments["email"], status=Invitation.Status.PENDING
                ):
                    services.invitation_revoke(
                        invitation=pending, actor=request.api_caller, request=request
                    )
            invitation = services.invitation_create(
                invited_by_label=request.api_caller,
                on_behalf_of=request.api_authority,
                email_limit="invitation",
                request=request,
                **arguments,
            )
    except PermissionDenied as error:
        return _error(403, "forbidden", str(error))
    except ValidationError as error:
        if getattr(error, "code", None) == "rate_limited":
            return _error(429, "tooManyRequests", " ".join(error.messages))
        field, messages = next(iter(error.message_dict.items()))
        return _error(400, "invalidField", " ".join(messages), FIELD_NAMES.get(field, field))
    return JsonResponse(_represent(invitation, invitation.redeem_url), status=201)


@require_GET
@api_permission_required(INVITE_PERMISSION)
def invitation_detail(request, public_id):
    invitation = selectors.invitation_get(public_id)
    if invitation is None:
        return _error(404, "notFound", "No invitation with this id.")
    return JsonResponse(_represent(invitation))
