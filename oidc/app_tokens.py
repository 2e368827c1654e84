"""App-only access tokens on the directory API (/api/v1): the client credentials token of one
of the tenant's daemon apps, and the application permissions it holds. OidcConfig.ready
registers them with ciam.api, whose decorator every API view uses."""

from __future__ import annotations

from accounts.roles import permission_roles_label
from ciam.api import ApiCaller
from oidc.models import Application
from oidc.selectors import access_token_claims, permission_authority


def app_token_authenticate(request, token: str, permission: str) -> ApiCaller | None:
    """The app behind an app-only access token (client credentials of one of this tenant's
    daemon apps), validated offline, with why `permission` is not in force for it, if it is
    not; None for anything else. A user's token is not an app's: APIs that act for a system
    refuse it."""
    claims = access_token_claims(token)
    if claims is None or claims.get("idtyp") != "app":
        return None
    client_id = str(claims.get("client_id", ""))
    authority, problem = app_permission_problem(claims, permission)
    return ApiCaller(label=_app_name(client_id), authority=authority, problem=problem)


def _app_name(client_id: str) -> str:
    """The app's display name: it signs what the app does (an invitation email), where a
    client id means nothing to the person reading."""
    name = Application.objects.filter(client_id=client_id).values_list("name", flat=True).first()
    return name or f"app {client_id}"


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
