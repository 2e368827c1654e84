"""Per-app branding: an app's logo and colours over the tenant's, on the hosted pages of
that app's sign-ins only."""

from __future__ import annotations

import io
from urllib.parse import urlencode

import pytest
from django_tenants.utils import tenant_context

from audit.models import AuditEvent
from tests.branding.helpers import (
    image_bytes,
    image_links,
    page_of,
    publish,
    save_draft,
    theme_link,
)
from tests.helpers import make_user, tenant_client
from tests.oidc.helpers import authorize_path, register_app


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)


def app_form(world, app, user=None, logo: bytes | None = None, **colours):
    data = {
        "background_color": "",
        "header_color": "",
        "primary_color": "",
        "accent_color": "",
        "text_color": "",
        **colours,
    }
    if logo is not None:
        file = io.BytesIO(logo)
        file.name = "app.png"
        data["logo"] = file
    return world.client(user or world.admin).post(
        f"/console/branding/apps/{app.application.public_id}/", data
    )


def test_an_app_s_sign_in_pages_wear_its_branding_and_others_the_tenant_s(acme):
    save_draft(acme)
    publish(acme)
    tenant_page = page_of(acme)
    portal = register_app(acme, name="Portal", redirect_uri="https://portal.example/cb")
    shop = register_app(acme, name="Shop", redirect_uri="https://shop.example/cb")
    response = app_form(
        acme, portal, logo=image_bytes(size=(200, 40), colour=(0, 90, 60)), primary_color="#00563b"
    )
    assert response.status_code == 302

    sign_in_for = "/accounts/login/?" + urlencode({"next": authorize_path(portal)})
    portal_page = tenant_client(acme).get(sign_in_for).content.decode()
    portal_theme = theme_link(portal_page)
    assert portal_theme.startswith(f"/branding/app/{portal.application.public_id}/")
    css = tenant_client(acme).get(portal_theme)
    assert css.status_code == 200 and "immutable" in css["Cache-Control"]
    assert "--ciam-primary: #00563b;" in css.content.decode()
    # The tenant's other choices stay: background, texts, footer.
    assert "--ciam-background: #fdf6e3;" in css.content.decode()
    assert "Acme privacy" in portal_page
    (portal_logo,) = image_links(portal_page, "logo")
    assert portal_logo not in tenant_page

    # The sign-up page of the same sign-in too; another app and no app: the tenant's.
    signup = "/accounts/signup/?" + urlencode({"next": authorize_path(portal)})
    assert theme_link(page_of(acme, signup)) == portal_theme
    shop_page = page_of(acme, "/accounts/login/?" + urlencode({"next": authorize_path(shop)}))
    assert theme_link(shop_page) == theme_link(tenant_page)
    assert theme_link(page_of(acme)) == theme_link(tenant_page)
    # A next that only looks like it (another host) changes nothing.
    foreign = "/accounts/login/?" + urlencode(
        {"next": "https://evil.example" + authorize_path(portal)}
    )
    assert theme_link(page_of(acme, foreign)) == theme_link(tenant_page)

    with tenant_context(acme.tenant):
        event = AuditEvent.objects.filter(action="branding.app_update").latest("pk")
    assert event.after["primary_color"] == "#00563b" and event.before == {}


def test_the_consent_page_of_a_third_party_app_wears_its_branding(acme):
    app = register_app(acme, name="Partner tool", first_party=False)
    assert app_form(acme, app, primary_color="#00563b").status_code == 302
    member_browser = acme.client(acme.member)
    consent = member_browser.get(authorize_path(app, scope="openid profile"))
    assert consent.status_code == 200
    page = consent.content.decode()
    assert theme_link(page).startswith(f"/branding/app/{app.application.public_id}/")


def test_an_app_s_unreadable_colours_are_refused_and_its_branding_can_be_removed(acme):
    app = register_app(acme, name="Grey app")
    response = app_form(acme, app, accent_color="#c0c0c0")
    assert response.status_code == 400
    assert "Links on the card" in response.content.decode()
    response = app_form(acme, app, primary_color="blue")
    assert response.status_code == 400 and "#rrggbb" in response.content.decode()
    assert app_form(acme, app, primary_color="#00563b").status_code == 302
    path = "/accounts/login/?" + urlencode({"next": authorize_path(app)})
    assert "/branding/app/" in page_of(acme, path)
    remove = f"/console/branding/apps/{app.application.public_id}/remove/"
    assert acme.client(acme.admin).post(remove).status_code == 302
    assert "/branding/app/" not in page_of(acme, path)
    with tenant_context(acme.tenant):
        assert AuditEvent.objects.filter(action="branding.app_remove").exists()


def test_an_earlier_app_stylesheet_leads_to_the_current_one(acme):
    app = register_app(acme, name="Moving app")
    app_form(acme, app, primary_color="#00563b")
    path = "/accounts/login/?" + urlencode({"next": authorize_path(app)})
    old = theme_link(page_of(acme, path))
    app_form(acme, app, primary_color="#003d6b")
    new = theme_link(page_of(acme, path))
    assert old != new
    response = tenant_client(acme).get(old)
    assert response.status_code == 302 and response["Location"] == new


def test_app_branding_is_for_branding_administrators(acme):
    app = register_app(acme, name="Guarded app")
    user_admin = make_user(acme, admin_roles=["user_administrator"])
    assert app_form(acme, app, user=user_admin, primary_color="#00563b").status_code == 403
    assert app_form(acme, app, user=acme.member, primary_color="#00563b").status_code == 403
    branding_admin = make_user(acme, admin_roles=["branding_administrator"])
    assert app_form(acme, app, user=branding_admin, primary_color="#00563b").status_code == 302


def test_deleting_an_app_deletes_its_logo(acme, django_capture_on_commit_callbacks):
    from django.core.files.storage import default_storage

    from oidc.models import Application

    app = register_app(acme, name="Short-lived app")
    with django_capture_on_commit_callbacks(execute=True):
        app_form(acme, app, logo=image_bytes(size=(100, 30), colour=(9, 9, 9)))
    folder = f"branding/{acme.tenant.schema_name}"
    assert len(default_storage.listdir(folder)[1]) == 1
    with tenant_context(acme.tenant), django_capture_on_commit_callbacks(execute=True):
        Application.objects.filter(pk=app.application.pk).delete()
    assert default_storage.listdir(folder)[1] == []
