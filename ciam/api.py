"""What every /api/v1 endpoint shares: Microsoft Graph's error shape, and one decorator that
lets a caller through when its credential carries the permission the view names.

Apps register the credentials they issue from their AppConfig.ready (ciam imports no feature
app): oidc the app-only access tokens of the tenant's daemon apps, guests the tenant API keys.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps

from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt


def error_response(status: int, code: str, message: str, field: str | None = None):
    """Graph's error body: {"error": {"code", "message"[, "field"]}}; a 401 says how to
    authenticate."""
    body = {"error": {"code": code, "message": message}}
    if field:
        body["error"]["field"] = field
    response = JsonResponse(body, status=status)
    if status == 401:
        response["WWW-Authenticate"] = 'Bearer realm="api"'
    return response


@dataclass(frozen=True)
class ApiCaller:
    """Who presented a valid credential: its label (it signs what the caller does, e.g. the
    invitation email), the admin whose authority it acts under, and why `permission` is not
    in force for it (the 403 message), if it is not."""

    label: str
    authority: object = None
    problem: str | None = None


# (request, bearer credential, permission) -> ApiCaller, or None when the credential is not
# one of this kind or not valid here.
Authenticate = Callable[[object, str, str], "ApiCaller | None"]


@dataclass(frozen=True)
class _Credential:
    description: str
    authenticate: Authenticate
    permissions: frozenset[str] | None


_credentials: dict[str, _Credential] = {}


def api_credential_register(
    name: str,
    authenticate: Authenticate,
    *,
    description: str,
    permissions: set[str] | None = None,
) -> None:
    """A kind of bearer credential the API accepts; `permissions` limits the permissions it
    can ever carry (None: any, the authenticate function decides)."""
    _credentials[name] = _Credential(
        description, authenticate, frozenset(permissions) if permissions is not None else None
    )


def _accepted(permission: str) -> list[_Credential]:
    return [
        credential
        for credential in _credentials.values()
        if credential.permissions is None or permission in credential.permissions
    ]


def _bearer(request) -> str:
    scheme, _space, credential = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
    return credential.strip() if scheme.lower() == "bearer" else ""


def api_permission_required(permission: str, *also: str):
    """Let through a caller whose bearer credential carries `permission` (a Graph-style
    application permission, e.g. User.Read.All), or one of `also` (a wider one that includes
    it, as Group.ReadWrite.All includes Group.Read.All); 401 without a valid credential of a
    kind that can carry one, 403 when it carries none or the grant is no longer in force.
    The view finds the caller's label in `request.api_caller` and the admin it acts for in
    `request.api_authority`. Machine calls carry no CSRF token: the view is csrf_exempt."""
    permissions = (permission, *also)

    def decorator(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            token = _bearer(request)
            accepted: list[_Credential] = []
            caller = None
            for wanted in permissions:
                for credential in _accepted(wanted):
                    if credential not in accepted:
                        accepted.append(credential)
                    if not token:
                        continue
                    found = credential.authenticate(request, token, wanted)
                    if found is None:
                        continue
                    if caller is None or (caller.problem and not found.problem):
                        caller = found  # the first in force wins; else the first refusal
                    break
                if caller is not None and not caller.problem:
                    break
            if caller is None:
                kinds = " or ".join(credential.description for credential in accepted)
                return error_response(401, "unauthorized", f"Send {kinds} as a Bearer token.")
            if caller.problem:
                return error_response(403, "forbidden", caller.problem)
            request.api_caller = caller.label
            request.api_authority = caller.authority
            return view(request, *args, **kwargs)

        return csrf_exempt(wrapper)

    return decorator
