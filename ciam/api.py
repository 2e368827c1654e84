"""What every /api/v1 endpoint shares: Microsoft Graph's error shape. (The app-only access
tokens callers present are checked by oidc.app_tokens.)"""

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
