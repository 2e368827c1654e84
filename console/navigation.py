"""The console's areas. Each states the admin roles that may use it; features fill in the
URL name when they land."""

from __future__ import annotations

from dataclasses import dataclass

from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext_lazy as _

from accounts.roles import AdminRole, has_admin_role

R = AdminRole


@dataclass(frozen=True)
class Area:
    label: str
    url_name: str
    roles: tuple[str, ...]
    # Pages of the area named in the navigation under it (the Logs area's two logs).
    pages: tuple[Area, ...] = ()


LOG_READERS = (R.REPORTS_READER, R.SECURITY_ADMINISTRATOR)


AREAS = (
    Area(_("Overview"), "console:overview", tuple(R.values)),
    Area(_("Users"), "console:users", (R.USER_ADMINISTRATOR,)),
    Area(_("Apps"), "console:apps", (R.APPLICATION_ADMINISTRATOR,)),
    Area(_("Identity providers"), "console:identity-providers", (R.SECURITY_ADMINISTRATOR,)),
    Area(_("User flows"), "console:user-flows", (R.USER_ADMINISTRATOR,)),
    Area(_("Branding"), "console:branding", (R.BRANDING_ADMINISTRATOR,)),
    Area(_("Guests"), "console:guests", (R.GUEST_INVITER, R.USER_ADMINISTRATOR)),
    Area(_("Policies"), "console:policies:index", (R.SECURITY_ADMINISTRATOR,)),
    Area(
        _("Logs"),
        "console:logs",
        LOG_READERS,
        pages=(
            Area(_("Sign-in log"), "console:sign-in-logs", LOG_READERS),
            Area(_("Audit log"), "console:audit-log", LOG_READERS),
        ),
    ),
)


def areas_for(user, current_path: str, areas: tuple[Area, ...] = AREAS) -> list[dict]:
    visible = []
    for area in areas:
        if not any(has_admin_role(user, role) for role in area.roles):
            continue
        try:
            url = reverse(area.url_name)
        except NoReverseMatch:
            url = None  # an area whose feature has not landed yet: shown, not linked
        visible.append(
            {
                "label": area.label,
                "url": url,
                "current": url is not None
                and (current_path == url or (url != "/console/" and current_path.startswith(url))),
                "pages": areas_for(user, current_path, area.pages),
            }
        )
    return visible
