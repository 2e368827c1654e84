"""/api/v1/groups with Microsoft Graph's names, for the tenant's daemon apps (client
credentials) holding Group.Read.All (read) or Group.ReadWrite.All (read and change).

    GET    /api/v1/groups?$top=100&$filter=displayName eq '...'    a page; @odata.nextLink
    POST   /api/v1/groups                                         {displayName, description}
    GET    /api/v1/groups/{id}
    PATCH  /api/v1/groups/{id}                                    {displayName?, description?}
    DELETE /api/v1/groups/{id}
    GET    /api/v1/groups/{id}/members                            users (Graph's user shape)
    POST   /api/v1/groups/{id}/members/$ref                       {"@odata.id": ".../users/{id}"}
    DELETE /api/v1/groups/{id}/members/{user id}/$ref
    GET    /api/v1/users/{id}/memberOf                            the user's groups (where a
                                                                  token's groups overage points)
"""

from __future__ import annotations

import json
import re
import uuid
from urllib.parse import urlencode

from django.contrib.auth import get_user_model
from django.core import signing
from django.core.exceptions import ValidationError
from django.http import HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from accounts.api import represent as user_represent
from ciam.api import api_permission_required, error_response
from groups import services
from groups.models import Group

READ, WRITE = "Group.Read.All", "Group.ReadWrite.All"
PAGE_DEFAULT, PAGE_MAX = 100, 999
_SKIP_TOKEN_SALT = "groups.api"
_FILTER = re.compile(
    r"^\s*(?:displayName\s+eq\s+(?P<eq>'(?:[^']|'')*')"
    r"|startswith\(\s*displayName\s*,\s*(?P<prefix>'(?:[^']|'')*')\s*\))\s*$"
)
_FIELDS = {"displayName": "display_name", "description": "description"}
# Graph's fields of a group that are fixed here: security groups, no mail.
_FIXED = {"securityEnabled": True, "mailEnabled": False}


def represent(group: Group) -> dict:
    return {
        "id": str(group.public_id),
        "displayName": group.display_name,
        "description": group.description or None,
        "securityEnabled": True,
        "mailEnabled": False,
        "groupTypes": [],
        "createdDateTime": group.created_at.isoformat(),
    }


class _BadRequest(ValueError):
    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


def _bad(problem: _BadRequest):
    return error_response(400, "invalidRequest", str(problem), problem.field)


def _page(request, rows, *, key, represent_row):
    """A keyset page of `rows` (ordered by primary key) in Graph's collection shape."""
    text = request.GET.get("$top", "")
    if text and (not text.isdigit() or not 1 <= int(text) <= PAGE_MAX):
        raise _BadRequest(f"$top is a whole number from 1 to {PAGE_MAX}.", "$top")
    top = int(text) if text else PAGE_DEFAULT
    after = 0
    if request.GET.get("$skiptoken"):
        try:
            after = int(signing.loads(request.GET["$skiptoken"], salt=_SKIP_TOKEN_SALT + key))
        except (signing.BadSignature, TypeError, ValueError) as error:
            raise _BadRequest(
                "Use the @odata.nextLink of the previous page.", "$skiptoken"
            ) from error
    page = list(rows.filter(pk__gt=after).order_by("pk")[: top + 1])
    body = {"value": [represent_row(row) for row in page[:top]]}
    if len(page) > top:
        query = {
            "$top": str(top),
            "$skiptoken": signing.dumps(page[top - 1].pk, salt=_SKIP_TOKEN_SALT + key),
        }
        if request.GET.get("$filter"):
            query["$filter"] = request.GET["$filter"]
        body["@odata.nextLink"] = request.build_absolute_uri(f"{request.path}?{urlencode(query)}")
    return JsonResponse(body)


def _json_object(request) -> dict:
    try:
        body = json.loads(request.body or b"null")
    except (ValueError, UnicodeDecodeError):
        raise _BadRequest("The body is not valid JSON.") from None
    if not isinstance(body, dict):
        raise _BadRequest("The body is a JSON object.")
    return body


def _group_values(body: dict, *, partial: bool) -> dict:
    """Graph's fields to the services' names; unknown and read-only fields are refused."""
    values = {}
    for name, value in body.items():
        if name in _FIXED:
            if value is not _FIXED[name]:
                raise _BadRequest(f"Only security groups: {name} is {_FIXED[name]}.", name)
            continue
        if (name == "mailNickname" and isinstance(value, str)) or (
            name == "groupTypes" and value == []
        ):
            continue  # Graph's create asks for them; a security group here has no mail
        if name not in _FIELDS:
            raise _BadRequest(f"{name} cannot be set.", name)
        if value is None and name == "description":
            value = ""
        if not isinstance(value, str):
            raise _BadRequest(f"{name} is a string.", name)
        values[_FIELDS[name]] = value
    if not partial and "display_name" not in values:
        raise _BadRequest("displayName is required.", "displayName")
    return values


def _validation_error(error: ValidationError):
    graph = {field: graph for graph, field in _FIELDS.items()}
    if hasattr(error, "error_dict"):
        field, messages = next(iter(error.message_dict.items()))
        code = "conflict" if "exists" in messages[0] else "invalidRequest"
        return error_response(409 if code == "conflict" else 400, code, messages[0],
                              graph.get(field, field))  # fmt: skip
    return error_response(400, "invalidRequest", " ".join(error.messages))


def _group_of(key: str) -> Group | None:
    try:
        return Group.objects.filter(public_id=uuid.UUID(key)).first()
    except ValueError:
        return None


def _user_of(key: str):
    users = get_user_model().objects.select_related("guest_profile")
    try:
        return users.filter(public_id=uuid.UUID(key)).first()
    except ValueError:
        return users.with_email(key).first()


def _not_found():
    return error_response(404, "notFound", "No group with this id.")


def _actor(request) -> str:
    return f"{request.api_caller} (API)"


@csrf_exempt  # machine calls; each method's view checks its permission
@require_http_methods(["GET", "POST"])
def group_collection(request):
    if request.method == "POST":
        return _group_create(request)
    return _group_list(request)


@api_permission_required(READ, WRITE)
def _group_list(request):
    groups = Group.objects.all()
    text = request.GET.get("$filter", "").strip()
    try:
        if text:
            match = _FILTER.match(text)
            if match is None:
                raise _BadRequest(
                    "Supported: displayName eq '...', startswith(displayName,'...').", "$filter"
                )
            if match["eq"]:
                groups = groups.filter(display_name__iexact=match["eq"][1:-1].replace("''", "'"))
            else:
                prefix = match["prefix"][1:-1].replace("''", "'")
                groups = groups.filter(display_name__istartswith=prefix)
        return _page(request, groups, key="groups", represent_row=represent)
    except _BadRequest as problem:
        return _bad(problem)


@api_permission_required(WRITE)
def _group_create(request):
    try:
        values = _group_values(_json_object(request), partial=False)
    except _BadRequest as problem:
        return _bad(problem)
    try:
        group = services.group_create(actor=_actor(request), **values)
    except ValidationError as error:
        return _validation_error(error)
    response = JsonResponse(represent(group), status=201)
    response["Location"] = request.build_absolute_uri(f"{request.path}/{group.public_id}")
    return response


@csrf_exempt
@require_http_methods(["GET", "PATCH", "DELETE"])
def group_item(request, key: str):
    if request.method == "GET":
        return _group_read(request, key)
    return _group_change(request, key)


@api_permission_required(READ, WRITE)
def _group_read(request, key: str):
    group = _group_of(key)
    return _not_found() if group is None else JsonResponse(represent(group))


@api_permission_required(WRITE)
def _group_change(request, key: str):
    group = _group_of(key)
    if group is None:
        return _not_found()
    if request.method == "DELETE":
        services.group_delete(actor=_actor(request), group=group)
        return HttpResponse(status=204)
    try:
        values = _group_values(_json_object(request), partial=True)
    except _BadRequest as problem:
        return _bad(problem)
    try:
        services.group_update(
            actor=_actor(request), group=group,
            display_name=values.get("display_name", group.display_name),
            description=values.get("description", group.description),
        )  # fmt: skip
    except ValidationError as error:
        return _validation_error(error)
    return HttpResponse(status=204)


@require_http_methods(["GET"])
@api_permission_required(READ, WRITE)
def group_members(request, key: str):
    group = _group_of(key)
    if group is None:
        return _not_found()
    members = group.members.select_related("guest_profile")

    def member(user):
        return {"@odata.type": "#microsoft.graph.user", **user_represent(user)}

    try:
        return _page(request, members, key=f"members{group.pk}", represent_row=member)
    except _BadRequest as problem:
        return _bad(problem)


_USER_REFERENCE = re.compile(r"(?:^|/)users/(?P<key>[^/?#]+)/?$")


@api_permission_required(WRITE)  # a credential first, as every /api/v1 view
@require_http_methods(["POST"])
def group_member_add(request, key: str):
    """Graph's `members/$ref`: the body names the user by its `@odata.id` URL (…/users/{id})."""
    group = _group_of(key)
    if group is None:
        return _not_found()
    try:
        reference = _json_object(request).get("@odata.id")
        match = _USER_REFERENCE.search(reference) if isinstance(reference, str) else None
        if match is None:
            raise _BadRequest('Name the user as {"@odata.id": ".../users/{id}"}.', "@odata.id")
    except _BadRequest as problem:
        return _bad(problem)
    user = _user_of(match["key"])
    if user is None:
        return error_response(404, "notFound", "No user with this id.", "@odata.id")
    if group.memberships.filter(user=user).exists():
        return error_response(
            400, "invalidRequest", "One or more added object references already exist."
        )
    services.group_members_add(actor=_actor(request), group=group, users=[user])
    return HttpResponse(status=204)


@api_permission_required(WRITE)  # a credential first, as every /api/v1 view
@require_http_methods(["DELETE"])
def group_member_remove(request, key: str, user_key: str):
    group = _group_of(key)
    if group is None:
        return _not_found()
    user = _user_of(user_key)
    if user is None or not group.memberships.filter(user=user).exists():
        return error_response(404, "notFound", "This user is not a member of the group.")
    services.group_member_remove(actor=_actor(request), group=group, user=user)
    return HttpResponse(status=204)


@require_http_methods(["GET"])
@api_permission_required(READ, WRITE)
def user_member_of(request, key: str):
    """The groups of a user: where a token's `groups` overage sends the app."""
    user = _user_of(key)
    if user is None:
        return error_response(404, "notFound", "No user with this id or email.")

    def group(row):
        return {"@odata.type": "#microsoft.graph.group", **represent(row)}

    try:
        return _page(
            request, Group.objects.filter(memberships__user=user), key=f"of{user.pk}",
            represent_row=group,
        )  # fmt: skip
    except _BadRequest as problem:
        return _bad(problem)
