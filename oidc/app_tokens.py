"""App-only access tokens on the directory API (/api/v1): the client credentials token of one
of the tenant's daemon apps, and the application permissions it holds."""

from __future__ import annotations

from accounts.roles import permission_roles_label
from ciam.api import error_response
from oidc.selectors import access_token_from_request, permission_authority


def app_token_claims(request) -> dict | None:
    """Claims of an app-only access token (client credentials of one of this tenant's daemon
    apps) sent as `Authorization: Bearer`, validated offline; None otherwise. A user's
    token is not an app's: APIs that act for a system refuse it."""
    claims = access_token_from_request(request)
    if claims is None or claims.get("idtyp") != "app":
        return None
    return claims


def app_permission_problem(claims: dict, permission: str) -> tuple[object, str | None]:
    """(authority, problem) for an app token's use of `permission`: the admin whose grant
    the app acts under, or why the permission is not in force (as the 403 message)."""
    if permission not in (claims.get("roles") or []):
        return None, f"The app needs the {permission} application permission."
    authority = permission_authority(
        client_id=str(claims.get("client_id", "")), permission=permission
    )
    if authority is None:
        return None, (
            f"The app's {permission} permission is not in force: it was removed, or the admin "
            f"who granted it no longer holds the role. An admin holding "
            f"{permission_roles_label(permission)} must grant it again."
        )
    return authority, None


def app_permission_required(permission: str):
    """Let through an app-only token holding `permission` (an application permission given
    to the app in the console by an admin who still holds its roles); 401 without a valid
    app token, 403 without the permission. The view finds the caller in `request.api_caller`
    and the admin it acts for in `request.api_authority`."""

    def decorator(view):
        def wrapper(request, *args, **kwargs):
            claims = app_token_claims(request)
            if claims is None:
                return error_response(
                    401, "unauthorized", "Send an app's access token as a Bearer token."
                )
            authority, problem = app_permission_problem(claims, permission)
            if problem:
                return error_response(403, "forbidden", problem)
            request.api_caller = f"app {claims.get('client_id', '')}"
            request.api_authority = authority
            return view(request, *args, **kwargs)

        wrapper.__name__ = view.__name__
        wrapper.__doc__ = view.__doc__
        return wrapper

    return decorator
