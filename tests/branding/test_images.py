"""Square logos (light and dark), favicon and background image: checked by their bytes,
re-encoded or sanitised, stored by content hash, served safely, and deleted once replaced."""

from __future__ import annotations

import io
import os
import uuid

import pytest
from django.core.files.storage import default_storage
from django_tenants.utils import tenant_context
from PIL import Image

from audit.models import AuditEvent
from tests.branding.helpers import (
    image_bytes,
    image_links,
    page_of,
    png_declaring,
    publish,
    save_draft,
    theme_link,
    upload_image,
)
from tests.helpers import PASSWORD, tenant_client

SVG_ATTACKS = b"""<?xml version="1.0"?>
<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink"
     width="200" height="200" viewBox="0 0 200 200" onload="alert('onload')">
  <script>alert('script')</script>
  <title>Acme</title>
  <defs><linearGradient id="g"><stop offset="0" stop-color="#7a1f5c"/></linearGradient></defs>
  <rect width="200" height="200" fill="url(#g)" onclick="alert('click')"/>
  <circle cx="100" cy="100" r="50" fill="url(https://tracker.example/paint)"/>
  <image href="https://tracker.example/pixel.png" width="10" height="10"/>
  <use xlink:href="https://evil.example/sprite.svg#a"/>
  <a href="javascript:alert('link')"><text x="10" y="20">click</text></a>
  <foreignObject width="100" height="100"><body xmlns="http://www.w3.org/1999/xhtml"><script>alert('fo')</script></body></foreignObject>
  <style>@import url(https://evil.example/x.css);</style>
  <text x="10" y="190" font-size="20">Acme</text>
</svg>"""

ENTITY_BOMB = b"""<?xml version="1.0"?>
<!DOCTYPE svg [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">
<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]>
<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><text>&c;</text></svg>"""

EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE svg [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><text>&secret;</text></svg>"""


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)


def stored_files(world) -> set[str]:
    folder = f"branding/{world.tenant.schema_name}"
    try:
        return set(default_storage.listdir(folder)[1])
    except FileNotFoundError:
        return set()


def test_square_logos_favicon_and_background_reach_every_hosted_page(acme):
    assert upload_image(acme, "square", image_bytes(size=(240, 240))).status_code == 302
    assert (
        upload_image(
            acme, "square-dark", image_bytes(size=(240, 240), colour=(250, 250, 250))
        ).status_code
        == 302
    )
    assert upload_image(acme, "favicon", image_bytes(size=(64, 64))).status_code == 302
    background = image_bytes("JPEG", size=(1920, 1080), colour=(240, 236, 226))
    assert upload_image(acme, "background", background, name="bg.jpg").status_code == 302
    assert image_links(page_of(acme), "square") == []  # the draft only, until published
    save_draft(acme)
    assert publish(acme).status_code == 302

    for path in ("/accounts/login/", "/accounts/signup/", "/accounts/password/reset/"):
        page = page_of(acme, path)
        assert len(image_links(page, "square")) == 1, path
        assert '<link rel="icon" href="/branding/logo/favicon-' in page, path
    # The console keeps the product's look, with the tenant's square logo in its header.
    console = acme.client(acme.admin).get("/console/").content.decode()
    header = console.split('<header class="console-header', 1)[1].split("</header>", 1)[0]
    assert image_links(header, "square") == image_links(page_of(acme), "square")
    page = page_of(acme)
    css = tenant_client(acme).get(theme_link(page)).content.decode()
    (background_url,) = image_links(css, "background")
    assert "background-image: url(" in css
    served = tenant_client(acme).get(background_url)
    assert served.status_code == 200 and served["Content-Type"] == "image/jpeg"
    assert "immutable" in served["Cache-Control"] and served["X-Content-Type-Options"] == "nosniff"
    assert served["Content-Security-Policy"] == "default-src 'none'; sandbox"
    assert Image.open(io.BytesIO(served.content)).size == (1920, 1080)

    # On the centred white card the light square logo shows; on a dark full page, the dark one.
    light = image_links(page, "square")[0]
    save_draft(
        acme,
        layout="full_page",
        background_color="#10151c",
        text_color="#f5f5f5",
        accent_color="#9cc3ff",
        header_color="#10151c",
        primary_color="#9cc3ff",
    )
    assert publish(acme).status_code == 302
    dark_page = page_of(acme)
    assert image_links(dark_page, "square-dark") and light not in dark_page


def test_each_image_has_its_limits(acme):
    response = upload_image(acme, "square", image_bytes(size=(241, 100)))
    assert response.status_code == 400 and "240 × 240 pixels" in response.content.decode()
    response = upload_image(acme, "favicon", image_bytes(size=(300, 300)))
    assert response.status_code == 400 and "256 × 256 pixels" in response.content.decode()
    noisy = Image.frombytes("RGB", (600, 400), os.urandom(600 * 400 * 3))
    out = io.BytesIO()
    noisy.save(out, "PNG")
    response = upload_image(acme, "background", out.getvalue())
    assert response.status_code == 400 and "at most 300 KB" in response.content.decode()
    # The background takes no SVG.
    svg = b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"></svg>'
    response = upload_image(acme, "background", svg, name="bg.svg")
    assert response.status_code == 400
    assert "Upload a PNG, JPEG or WebP image." in response.content.decode()
    assert upload_image(acme, "nonsense", image_bytes()).status_code == 404


@pytest.mark.parametrize("slot", ["logo", "square", "background"])
def test_decompression_bombs_are_refused_by_their_declared_size(acme, slot):
    bomb = png_declaring(50_000, 50_000)
    assert len(bomb) < 2000
    response = upload_image(acme, slot, bomb)
    assert response.status_code == 400
    assert "pixels" in response.content.decode()
    assert stored_files(acme) == set()


def test_a_jpeg_that_is_also_html_becomes_a_plain_square_logo(acme):
    polyglot = image_bytes("JPEG", size=(200, 200)) + b"<html><script>alert(1)</script></html>"
    assert upload_image(acme, "square", polyglot, name="x.html").status_code == 302
    console = acme.client(acme.admin).get("/console/branding/").content.decode()
    (url,) = set(image_links(console, "square"))
    served = acme.client(acme.admin).get(url)
    assert served["Content-Type"] == "image/jpeg" and b"<script" not in served.content


def test_svg_is_rebuilt_without_scripts_events_or_external_references(acme):
    assert upload_image(acme, "square", SVG_ATTACKS, name="logo.svg").status_code == 302
    console = acme.client(acme.admin).get("/console/branding/").content.decode()
    (url,) = set(image_links(console, "square"))
    served = acme.client(acme.admin).get(url)
    assert served["Content-Type"] == "image/svg+xml"
    assert served["Content-Security-Policy"] == "default-src 'none'; sandbox"
    svg = served.content.decode()
    for gone in (
        "script",
        "onload",
        "onclick",
        "alert",
        "foreignObject",
        "tracker.example",
        "evil.example",
        "javascript",
        "href",
        "<style",
        "<image",
        "<use",
    ):
        assert gone not in svg, gone
    # What draws the logo stays.
    assert 'fill="url(#g)"' in svg and "<linearGradient" in svg and ">Acme</text>" in svg
    with tenant_context(acme.tenant):
        assert AuditEvent.objects.filter(action="branding.square_logo_upload").exists()


@pytest.mark.parametrize("svg", [ENTITY_BOMB, EXTERNAL_ENTITY], ids=["billion-laughs", "xxe"])
def test_svg_with_a_doctype_is_refused(acme, svg):
    response = upload_image(acme, "logo", svg, name="logo.svg")
    assert response.status_code == 400
    assert "DOCTYPE" in response.content.decode()
    assert stored_files(acme) == set()


def test_replaced_and_removed_images_are_deleted_from_storage(
    acme, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        upload_image(acme, "square", image_bytes(size=(200, 200), colour=(1, 2, 3)))
    first = stored_files(acme)
    assert len(first) == 1
    with django_capture_on_commit_callbacks(execute=True):
        upload_image(acme, "square", image_bytes(size=(200, 200), colour=(4, 5, 6)))
    second = stored_files(acme)
    assert len(second) == 1 and second != first
    # A published image stays while the published branding shows it.
    save_draft(acme)
    with django_capture_on_commit_callbacks(execute=True):
        publish(acme)
    with django_capture_on_commit_callbacks(execute=True):
        acme.client(acme.admin).post("/console/branding/images/square/remove/")
    assert stored_files(acme) == second
    page = page_of(acme)
    assert tenant_client(acme).get(image_links(page, "square")[0]).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        publish(acme)
    assert stored_files(acme) == set()
    assert image_links(page_of(acme), "square") == []


def test_deleting_a_tenant_deletes_its_images(db, django_capture_on_commit_callbacks):
    from django.contrib.auth import get_user_model
    from django.db import connection

    from branding import services
    from tenants.services import tenant_create, tenant_delete

    slug = f"gone-{uuid.uuid4().hex[:8]}"
    tenant = tenant_create(
        name="Gone Ltd", slug=slug, admin_email=f"admin@{slug}.test", admin_password=PASSWORD
    )
    with tenant_context(tenant):
        admin = get_user_model().objects.get(email=f"admin@{slug}.test")
        services.branding_image_upload(actor=admin, slot="square", data=image_bytes(size=(50, 50)))
    folder = f"branding/{tenant.schema_name}"
    assert len(default_storage.listdir(folder)[1]) == 1
    connection.set_schema_to_public()
    with django_capture_on_commit_callbacks(execute=True):
        tenant_delete(tenant=tenant, confirm_slug=slug, actor="test")
    assert default_storage.listdir(folder)[1] == []


def test_an_svg_nested_thousands_deep_is_refused(acme):
    svg = (
        b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
        + b"<g>" * 3000
        + b"</g>" * 3000
        + b"</svg>"
    )
    response = upload_image(acme, "logo", svg, name="deep.svg")
    assert response.status_code == 400 and "nested too deeply" in response.content.decode()
