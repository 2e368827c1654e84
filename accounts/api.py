"""/api/v1/users: the tenant's directory for its systems, with Microsoft Graph's names.

Callers are the tenant's daemon apps, with an access token from the client credentials grant
holding the User.Read.All application permission (given to the app in the console).

    GET /api/v1/users?$top=100&$filter=userType eq 'Guest'   a page; @odata.nextLink follows
    GET /api/v1/users/{id or email}                           one user

Daemon apps holding User.ReadWrite.All also create, change and (softly) delete users: see
"Writes" below. Deleted users are not in the directory.
"""

from __future__ import annotations

import json
import re
import uuid
from urllib.parse import urlencode

from django.core import signing
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpResponse, JsonResponse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET

from accounts import lifecycle, selectors
from accounts.models import User
from accounts.services import BUILTIN_ATTRIBUTES, USER_FIELD_FOR_ATTRIBUTE, user_set_enabled
from ciam.api import api_permission_required, error_response

READ_PERMISSION = "User.Read.All"
# Graph's spelling of a user type; the code and the database use User.UserType's values.
GRAPH_USER_TYPES = {User.UserType.MEMBER: "Member", User.UserType.GUEST: "Guest"}
USER_TYPE_FROM_GRAPH = {graph: kind for kind, graph in GRAPH_USER_TYPES.items()}
PAGE_DEFAULT, PAGE_MAX = 100, 999
_SKIP_TOKEN_SALT = "accounts.api.users"
_FILTER_HELP = (
    "Supported: mail eq '...', startswith(mail,'...'), startswith(displayName,'...'), "
    "userType eq 'Member' or 'Guest', accountEnabled eq true or false; joined with and."
)
_CLAUSE = re.compile(
    r"^\s*(?:(?P<field>mail|userType|accountEnabled)\s+eq\s+(?P<value>'(?:[^']|'')*'|true|false)"
    r"|startswith\(\s*(?P<prefix_field>mail|displayName)\s*,\s*(?P<prefix>'(?:[^']|'')*')\s*\))"
    r"\s*$"
)


def represent(user: User) -> dict:
    """A user in Graph's names. Built-in profile attributes keep their Graph names; the
    tenant's custom attributes are under customAttributes."""
    attributes = user.attributes or {}
    is_guest = user.user_type == User.UserType.GUEST
    profile = getattr(user, "guest_profile", None) if is_guest else None
    body = {
        "id": str(user.public_id),
        "mail": user.email,
        "displayName": user.display_name or None,
        "givenName": user.first_name or None,
        "surname": user.last_name or None,
        "userType": GRAPH_USER_TYPES[user.user_type],
        "accountEnabled": user.is_active,
        "createdDateTime": user.date_joined.isoformat(),
        "externalUserState": profile.state if profile is not None else None,
    }
    for name in BUILTIN_ATTRIBUTES:
        if name not in USER_FIELD_FOR_ATTRIBUTE:
            body[name] = attributes.get(name) or None
    body["customAttributes"] = {
        key: value for key, value in attributes.items() if key not in BUILTIN_ATTRIBUTES
    }
    return body


class _BadQuery(ValueError):
    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


def _filters(text: str) -> dict:
    """$filter to selectors.directory_users' arguments."""
    filters: dict = {}
    if not text.strip():
        return filters
    for clause in re.split(r"\s+and\s+", text.strip()):
        match = _CLAUSE.match(clause)
        if match is None:
            raise _BadQuery("$filter", f"Cannot filter on “{clause[:80]}”. {_FILTER_HELP}")
        if match["prefix_field"]:
            literal = match["prefix"][1:-1].replace("''", "'")
            name = {"mail": "mail_startswith", "displayName": "display_name_startswith"}
            filters[name[match["prefix_field"]]] = literal
            continue
        field, value = match["field"], match["value"]
        if field == "accountEnabled":
            if value not in ("true", "false"):
                raise _BadQuery("$filter", "accountEnabled is true or false.")
            filters["enabled"] = value == "true"
            continue
        if not value.startswith("'"):
            raise _BadQuery("$filter", f"{field} takes a quoted string. {_FILTER_HELP}")
        literal = value[1:-1].replace("''", "'")
        if field == "userType":
            if literal not in USER_TYPE_FROM_GRAPH:
                raise _BadQuery("$filter", "userType is 'Member' or 'Guest'.")
            filters["user_type"] = USER_TYPE_FROM_GRAPH[literal]
        else:
            filters["mail"] = literal
    return filters


def _page_size(text: str) -> int:
    if not text:
        return PAGE_DEFAULT
    if not text.isdigit() or not 1 <= int(text) <= PAGE_MAX:
        raise _BadQuery("$top", f"$top is a whole number from 1 to {PAGE_MAX}.")
    return int(text)


def _after(text: str) -> int:
    if not text:
        return 0
    try:
        return int(signing.loads(text, salt=_SKIP_TOKEN_SALT))
    except (signing.BadSignature, TypeError, ValueError) as error:
        raise _BadQuery("$skiptoken", "Use the @odata.nextLink of the previous page.") from error


@require_GET
@api_permission_required(READ_PERMISSION)
def user_list(request):
    try:
        top = _page_size(request.GET.get("$top", ""))
        filters = _filters(request.GET.get("$filter", ""))
        after = _after(request.GET.get("$skiptoken", ""))
    except _BadQuery as problem:
        return error_response(400, "invalidRequest", str(problem), problem.field)
    users = selectors.directory_users(after=after, limit=top + 1, **filters)
    body = {"value": [represent(user) for user in users[:top]]}
    if len(users) > top:
        query = {
            "$top": str(top),
            "$skiptoken": signing.dumps(users[top - 1].pk, salt=_SKIP_TOKEN_SALT),
        }
        if request.GET.get("$filter"):
            query["$filter"] = request.GET["$filter"]
        body["@odata.nextLink"] = request.build_absolute_uri(f"{request.path}?{urlencode(query)}")
    return JsonResponse(body)


@require_GET
@api_permission_required(READ_PERMISSION)
def user_detail(request, key: str):
    """By id, or by email (Graph takes the userPrincipalName there)."""
    try:
        user = selectors.directory_user(public_id=uuid.UUID(key))
    except ValueError:
        user = selectors.directory_user(email=key)
    if user is None:
        return error_response(404, "notFound", "No user with this id or email.")
    return JsonResponse(represent(user))


# Writes: User.ReadWrite.All ------------------------------------------------------------------
#
#   POST   /api/v1/users          create a member (201, the user); they are emailed a link to
#                                 choose their password: passwordProfile is refused
#   PATCH  /api/v1/users/{id}     change names, attributes, accountEnabled (204)
#   DELETE /api/v1/users/{id}     soft delete: restorable for 30 days in the console (204)

WRITE_PERMISSION = "User.ReadWrite.All"
_PROFILE = {"givenName": "first_name", "surname": "last_name", "displayName": "display_name"}
_WRITABLE = {
    *_PROFILE, "accountEnabled", "customAttributes", "mail", "userPrincipalName", "identities",
    "passwordProfile", "userType",
    *(name for name in BUILTIN_ATTRIBUTES if name not in USER_FIELD_FOR_ATTRIBUTE),
}  # fmt: skip


class _BadBody(ValueError):
    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


def _json_body(request) -> dict:
    try:
        body = json.loads(request.body or b"{}")
    except (ValueError, UnicodeDecodeError) as error:
        raise _BadBody("body", "Send a JSON object.") from error
    if not isinstance(body, dict):
        raise _BadBody("body", "Send a JSON object.")
    unknown = sorted(set(body) - _WRITABLE - {"@odata.type"})
    if unknown:
        raise _BadBody(unknown[0], f"{unknown[0]} is not a property we can set.")
    if "passwordProfile" in body:
        raise _BadBody(
            "passwordProfile",
            "Passwords are not set through the API: the person is emailed a link to choose "
            "their own, or signs in with an emailed code.",
        )
    if body.get("userType", "Member") != "Member":
        raise _BadBody("userType", "Create members here; invite guests with /api/v1/invitations.")
    return body


def _text(body: dict, name: str, limit: int) -> str | None:
    if name not in body or body[name] is None:
        return None if name not in body else ""
    if not isinstance(body[name], str) or len(body[name]) > limit:
        raise _BadBody(name, f"{name} is text of at most {limit} characters.")
    return body[name]


def _profile_changes(body: dict) -> dict:
    """The body's names and attributes as accounts.lifecycle takes them, each checked against
    the user flow (custom attributes must be ones it defines)."""
    from accounts.forms import attribute_field
    from accounts.selectors import sign_up_attributes, user_flow_get

    changes: dict = {}
    for graph_name, field in _PROFILE.items():
        limit = User._meta.get_field(field).max_length
        value = _text(body, graph_name, limit)
        if value is not None:
            changes[field] = value
    attributes: dict = {}
    for name, (_label, limit) in BUILTIN_ATTRIBUTES.items():
        if name in USER_FIELD_FOR_ATTRIBUTE:
            continue
        value = _text(body, name, limit)
        if value is not None:
            attributes[name] = value
    custom = body.get("customAttributes")
    if custom is not None:
        if not isinstance(custom, dict):
            raise _BadBody("customAttributes", "customAttributes is an object.")
        defined = {
            attribute.key: attribute
            for attribute in sign_up_attributes(user_flow_get())
            if not attribute.is_builtin
        }
        for key, value in custom.items():
            if key not in defined:
                raise _BadBody(
                    f"customAttributes.{key}", f"The user flow has no attribute “{key[:64]}”."
                )
            if value is None or value == "":
                attributes[key] = None
                continue
            try:
                attributes[key] = attribute_field(defined[key], required=False).clean(value)
            except ValidationError as error:
                raise _BadBody(f"customAttributes.{key}", " ".join(error.messages)) from error
    if attributes:
        changes["attributes"] = attributes
    return changes


def _email_of(body: dict) -> str:
    email = body.get("mail") or body.get("userPrincipalName")
    for identity in body.get("identities") or []:
        if isinstance(identity, dict) and identity.get("signInType") == "emailAddress":
            email = email or identity.get("issuerAssignedId")
    if not isinstance(email, str) or not email:
        raise _BadBody("mail", "Give the person's email address as mail.")
    return email


def _enabled(body: dict) -> bool | None:
    value = body.get("accountEnabled")
    if value is not None and not isinstance(value, bool):
        raise _BadBody("accountEnabled", "accountEnabled is true or false.")
    return value


def _service_error(error: ValidationError):
    field = None
    if hasattr(error, "error_dict"):
        field = {"email": "mail"}.get(next(iter(error.error_dict)))
    message = " ".join(error.messages)
    items = (
        [item for items in error.error_dict.values() for item in items]
        if hasattr(error, "error_dict")
        else error.error_list
    )
    codes = {item.code for item in items}
    if "rate_limited" in codes:
        return error_response(429, "tooManyRequests", message)
    if "address_taken" in codes:
        return error_response(409, "conflict", message, field)
    if codes & {"forbidden", "last_global_administrator"}:
        return error_response(403, "forbidden", message)
    return error_response(400, "invalidRequest", message, field)


@api_permission_required(WRITE_PERMISSION)
def user_create(request):
    try:
        body = _json_body(request)
        email = _email_of(body)
        changes = _profile_changes(body)
        enabled = _enabled(body)
    except _BadBody as problem:
        return error_response(400, "invalidRequest", str(problem), problem.field)
    try:
        user = lifecycle.user_create(
            actor=request.api_authority, email=email, request=request,
            enabled=True if enabled is None else enabled, **changes,
        )  # fmt: skip
    except ValidationError as error:
        return _service_error(error)
    response = JsonResponse(represent(user), status=201)
    response["Location"] = request.build_absolute_uri(f"/api/v1/users/{user.public_id}")
    return response


def _target(key: str) -> User | None:
    try:
        return selectors.directory_user(public_id=uuid.UUID(key))
    except ValueError:
        return selectors.directory_user(email=key)


@api_permission_required(WRITE_PERMISSION)
def user_update(request, key: str):
    user = _target(key)
    if user is None:
        return error_response(404, "notFound", "No user with this id or email.")
    try:
        body = _json_body(request)
        if any(name in body for name in ("mail", "userPrincipalName", "identities")):
            raise _BadBody("mail", "The address is changed by the person, who proves the new one.")
        changes = _profile_changes(body)
        enabled = _enabled(body)
    except _BadBody as problem:
        return error_response(400, "invalidRequest", str(problem), problem.field)
    actor = request.api_authority
    try:
        with transaction.atomic():
            if changes:
                lifecycle.user_update(actor=actor, user=user, request=request, **changes)
            if enabled is not None:
                if not lifecycle.may_manage(actor=actor, user=user):
                    raise ValidationError(
                        _("Only a Global administrator can change an administrator."),
                        code="forbidden",
                    )
                user_set_enabled(user=user, enabled=enabled, actor=actor, request=request)
    except ValidationError as error:
        return _service_error(error)
    return HttpResponse(status=204)


@api_permission_required(WRITE_PERMISSION)
def user_delete(request, key: str):
    user = _target(key)
    if user is None:
        return error_response(404, "notFound", "No user with this id or email.")
    try:
        lifecycle.user_delete(actor=request.api_authority, user=user, request=request)
    except ValidationError as error:
        return _service_error(error)
    return HttpResponse(status=204)


@csrf_exempt
def users(request):
    """/api/v1/users: GET a page (User.Read.All), POST a new user (User.ReadWrite.All)."""
    if request.method == "POST":
        return user_create(request)
    if request.method == "GET":
        return user_list(request)
    return error_response(405, "methodNotAllowed", "Use GET or POST.")


@csrf_exempt
def user(request, key: str):
    """/api/v1/users/{id or email}: GET (User.Read.All), PATCH and DELETE
    (User.ReadWrite.All)."""
    if request.method == "GET":
        return user_detail(request, key)
    if request.method == "PATCH":
        return user_update(request, key)
    if request.method == "DELETE":
        return user_delete(request, key)
    return error_response(405, "methodNotAllowed", "Use GET, PATCH or DELETE.")
