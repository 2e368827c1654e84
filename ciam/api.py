"""What every /api/v1 endpoint shares: Microsoft Graph's error shape and the app-only
access token a caller presents."""

from __future__ import annotations

from django.http import JsonResponse


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


def app_token_claims(request) -> dict | None:
    """Claims of an app-only access token (client credentials of one of this tenant's daemon
    apps) sent as `Authorization: Bearer`, validated offline; None otherwise. A user's
    token is not an app's: APIs that act for a system refuse it."""
    from oidc.selectors import access_token_from_request

    claims = access_token_from_request(request)
    if claims is None or claims.get("idtyp") != "app":
        return None
    return claims


def app_permission_required(permission: str):
    """Let through an app-only token holding `permission` (an application permission given
    to the app in the console); 401 without a valid app token, 403 without the
    permission. The view finds the caller in `request.api_caller`."""

    def decorator(view):
        def wrapper(request, *args, **kwargs):
            claims = app_token_claims(request)
            if claims is None:
                return error_response(
                    401, "unauthorized", "Send an app's access token as a Bearer token."
                )
            if permission not in (claims.get("roles") or []):
                return error_response(
                    403, "forbidden", f"The app needs the {permission} application permission."
                )
            request.api_caller = f"app {claims.get('client_id', '')}"
            return view(request, *args, **kwargs)

        wrapper.__name__ = view.__name__
        wrapper.__doc__ = view.__doc__
        return wrapper

    return decorator
