"""The console's navigation: the areas the apps register.

An app that has console pages registers its area from its `AppConfig.ready()`:

    from console.navigation import Area, register

    register(Area(_("Users"), "console:users:list", (AdminRole.USER_ADMINISTRATOR,)), order=10)

An area exists once its app registers it; the navigation shows it to the admins holding one
of its roles, in `order` (Overview 0, Users 10, Apps 20, Identity providers 30, User flows 40,
Branding 50, Guests 60, Policies 70, Logs 90)."""

from __future__ import annotations

from dataclasses import dataclass

from django.urls import reverse

from accounts.roles import has_admin_role


@dataclass(frozen=True)
class Area:
    label: str
    url_name: str
    roles: tuple[str, ...]
    # Pages of the area named in the navigation under it (the Logs area's two logs).
    pages: tuple[Area, ...] = ()


_registry: dict[str, tuple[int, Area]] = {}


def register(area: Area, *, order: int) -> None:
    """Add `area` to the navigation. Registering the same URL name again replaces it, so a
    `ready()` that runs twice does not list an area twice."""
    _registry[area.url_name] = (order, area)


def areas() -> list[Area]:
    return [area for _, area in sorted(_registry.values(), key=lambda entry: entry[0])]


def areas_for(user, current_path: str, listed: list[Area] | tuple[Area, ...] | None = None):
    """The areas `user` may open, with their URL and whether `current_path` is in them."""
    visible = []
    for area in areas() if listed is None else listed:
        if not any(has_admin_role(user, role) for role in area.roles):
            continue
        url = reverse(area.url_name)
        visible.append(
            {
                "label": area.label,
                "url": url,
                "current": current_path == url
                or (url != reverse("console:overview") and current_path.startswith(url)),
                "pages": areas_for(user, current_path, area.pages),
            }
        )
    return visible
