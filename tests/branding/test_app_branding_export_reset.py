"""The apps' own brandings in an export and an import (matched by client ID, logos inline and
checked as uploads), and in a reset to the default look."""

from __future__ import annotations

import base64
import io
import json
from urllib.parse import urlencode

import pytest
from django_tenants.utils import tenant_context

from audit.models import AuditEvent
from branding.models import AppBranding
from tests.branding.helpers import image_bytes, page_of, publish, save_draft, theme_link
from tests.branding.test_app_branding import app_form
from tests.i18n.helpers import own_tenant
from tests.oidc.helpers import authorize_path, register_app


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)


def export(world) -> dict:
    response = world.client(world.admin).get("/console/branding/export/")
    assert response.status_code == 200
    return json.loads(response.content)


def import_(world, document, include_apps=True):
    file = io.BytesIO(json.dumps(document).encode())
    file.name = "branding.json"
    data = {"file": file, **({"include_apps": "on"} if include_apps else {})}
    return world.client(world.admin).post("/console/branding/import/", data, follow=True)


def app_brandings(world) -> dict[str, tuple]:
    with tenant_context(world.tenant):
        return {
            row.application.name: (row.primary_color, row.background_color, bool(row.logo_name))
            for row in AppBranding.objects.select_related("application")
        }


def branded_apps(world):
    portal = register_app(world, name="Portal", redirect_uri="https://portal.example/cb")
    shop = register_app(world, name="Shop", redirect_uri="https://shop.example/cb")
    logo = image_bytes(size=(200, 40), colour=(0, 90, 60))
    assert app_form(world, portal, logo=logo, primary_color="#00563b").status_code == 302
    assert app_form(world, shop, background_color="#fdf6e3").status_code == 302
    return portal, shop


def test_app_brandings_travel_with_an_export_and_come_back_matched_by_client_id(acme):
    world = own_tenant()
    portal, shop = branded_apps(world)
    document = export(world)
    apps = {entry["name"]: entry for entry in document["apps"]}
    assert apps["Portal"]["client_id"] == portal.application.client_id
    assert apps["Portal"]["primary_color"] == "#00563b"
    assert apps["Portal"]["logo"].startswith("data:image/png;base64,")
    assert apps["Shop"]["background_color"] == "#fdf6e3" and "logo" not in apps["Shop"]

    # Both brandings changed, then the export imported: as exported again; and an app of
    # the file that is not registered here is named, not imported.
    app_form(world, portal, primary_color="#003d6b")
    app_form(world, shop, background_color="#ffffff")
    document["apps"].append({"client_id": "not-here-123", "name": "Ghost app"})
    response = import_(world, document)
    assert response.status_code == 200
    page = response.content.decode()
    assert "Portal, Shop" in page
    assert "no app here has the client ID of Ghost app (not-here-123)" in page
    assert app_brandings(world) == {
        "Portal": ("#00563b", "", True),
        "Shop": ("", "#fdf6e3", False),
    }
    assert {entry["name"]: entry for entry in export(world)["apps"]}["Portal"]["logo"] == (
        apps["Portal"]["logo"]
    )
    # In use at once on the app's pages.
    path = "/accounts/login/?" + urlencode({"next": authorize_path(portal)})
    assert theme_link(page_of(world, path)).startswith(
        f"/branding/app/{portal.application.public_id}/"
    )
    with tenant_context(world.tenant):
        event = AuditEvent.objects.filter(action="branding.import").latest("pk")
        assert event.after["apps"] == ["Portal", "Shop"]
        assert event.after["apps_unknown"] == ["Ghost app (not-here-123)"]
        updates = AuditEvent.objects.filter(action="branding.app_update").order_by("-pk")[:2]
        assert {update.after.get("primary_color") for update in updates} >= {"#00563b"}


def test_an_import_without_the_apps_leaves_their_branding(acme):
    world = own_tenant()
    portal, _shop = branded_apps(world)
    document = export(world)
    app_form(world, portal, primary_color="#003d6b")
    assert import_(world, document, include_apps=False).status_code == 200
    assert app_brandings(world)["Portal"][0] == "#003d6b"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            {"logo": "data:image/png;base64," + base64.b64encode(b"<html><script>").decode()},
            "Portal (",
        ),
        ({"logo": "javascript:alert(1)"}, "the logo is not a base64 data: URL."),
        ({"primary_color": "red"}, "Give a colour as #rrggbb."),
        ({"accent_color": "#c0c0c0"}, "contrast"),
        ({"onclick": "x"}, "Unknown fields: onclick."),
    ],
)
def test_an_app_of_an_import_is_checked_as_in_the_editor_and_nothing_changes_if_refused(
    acme, change, message
):
    world = own_tenant()
    portal, _shop = branded_apps(world)
    save_draft(world, sign_in_text="Before the import")
    document = export(world)
    document["branding"]["sign_in_text"] = "From the file"
    entry = next(entry for entry in document["apps"] if entry["name"] == "Portal")
    entry.update(change)
    before = app_brandings(world)
    response = import_(world, document)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert app_brandings(world) == before
    assert (
        "Before the import" in world.client(world.admin).get("/console/branding/").content.decode()
    )


def test_a_reset_removes_the_apps_branding_when_asked_and_says_which_remain(acme):
    world = own_tenant()
    portal, _shop = branded_apps(world)
    save_draft(world)
    publish(world)
    admin = world.client(world.admin)
    page = admin.get("/console/branding/").content.decode()
    assert "Also remove the own branding of 2 apps" in page

    # Unticked: the tenant's branding goes, the apps keep theirs (and are told of).
    response = admin.post("/console/branding/reset/", follow=True)
    assert "2 apps keep their own branding" in response.content.decode()
    assert set(app_brandings(world)) == {"Portal", "Shop"}
    path = "/accounts/login/?" + urlencode({"next": authorize_path(portal)})
    assert "/branding/app/" in theme_link(page_of(world, path))

    # Ticked: every app's too, each removal audited, and the reset with them.
    response = admin.post("/console/branding/reset/", {"include_apps": "on"}, follow=True)
    assert "keep their own branding" not in response.content.decode()
    assert app_brandings(world) == {}
    assert theme_link(page_of(world, path)) is None
    with tenant_context(world.tenant):
        assert AuditEvent.objects.filter(action="branding.app_remove").count() == 2
        reset = AuditEvent.objects.filter(action="branding.reset").latest("pk")
        assert sorted(reset.before["apps"]) == ["Portal", "Shop"]
    assert "Also remove the own branding" not in admin.get("/console/branding/").content.decode()
