"""/api/v1/users: the tenant's directory for its systems, with Microsoft Graph's names.

Callers are the tenant's daemon apps, with an access token from the client credentials grant
holding the User.Read.All application permission (given to the app in the console).

    GET /api/v1/users?$top=100&$filter=userType eq 'Guest'   a page; @odata.nextLink follows
    GET /api/v1/users/{id or email}                           one user
"""

from __future__ import annotations

import re
import uuid
from urllib.parse import urlencode

from django.core import signing
from django.http import JsonResponse
from django.views.decorators.http import require_GET

from accounts import selectors
from accounts.models import User
from accounts.services import BUILTIN_ATTRIBUTES, USER_FIELD_FOR_ATTRIBUTE
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
