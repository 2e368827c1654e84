"""Console > Branding and what the hosted pages show of it, per tenant."""

from __future__ import annotations

import io
import re

import pytest
from django_tenants.utils import tenant_context
from PIL import Image

from audit.models import AuditEvent
from tests.branding.helpers import DRAFT, page_of, publish, save_draft, theme_link
from tests.helpers import make_user, tenant_client


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)


def image_bytes(fmt="PNG", size=(240, 80), exif: bool = False) -> bytes:
    image = Image.new("RGB", size, (122, 31, 92))
    out = io.BytesIO()
    if exif:
        data = Image.Exif()
        data[0x010F] = "SecretCam"  # Make
        data[0x8825] = {2: (48.0, 51.0, 24.0)}  # GPS latitude
        image.save(out, fmt, exif=data.tobytes())
    else:
        image.save(out, fmt)
    return out.getvalue()


def upload(world, data: bytes, name="logo.png", user=None):
    file = io.BytesIO(data)
    file.name = name
    return world.client(user or world.admin).post("/console/branding/logo/", {"logo": file})


def logo_link(page: str) -> str | None:
    match = re.search(r'src="(/branding/logo/logo-[0-9a-f]{32}\.(?:png|jpg|webp))"', page)
    return match.group(1) if match else None


def test_branding_pages_are_for_branding_administrators(acme):
    assert acme.client(acme.admin).get("/console/branding/").status_code == 200
    branding_admin = make_user(acme, admin_roles=["branding_administrator"])
    assert acme.client(branding_admin).get("/console/branding/").status_code == 200
    assert acme.client(branding_admin).get("/console/branding/preview/").status_code == 200
    user_admin = make_user(acme, admin_roles=["user_administrator"])
    for user in (acme.member, user_admin):
        client = acme.client(user)
        assert client.get("/console/branding/").status_code == 403
        assert client.get("/console/branding/preview/").status_code == 403
        assert client.post("/console/branding/", DRAFT).status_code == 403
        assert client.post("/console/branding/publish/").status_code == 403
        assert client.post("/console/branding/reset/").status_code == 403
    assert tenant_client(acme).get("/console/branding/").status_code == 302
    assert "Branding" in acme.client(branding_admin).get("/console/").content.decode()


def test_the_draft_shows_only_once_published_and_is_audited(acme):
    assert save_draft(acme).status_code == 302
    assert upload(acme, image_bytes()).status_code == 302
    draft_page = page_of(acme)
    assert "Acme privacy" not in draft_page
    assert theme_link(draft_page) is None and logo_link(draft_page) is None
    assert "Welcome to Acme" not in draft_page

    assert publish(acme).status_code == 302
    page = page_of(acme)
    assert "Welcome to Acme&#x27;s customer portal" in page
    assert "Use the email on your Acme invoice" in page
    assert '<a href="https://acme.example/privacy">Acme privacy</a>' in page
    assert '<a href="https://acme.example/terms">Terms of use</a>' in page
    assert "Create one" in page
    # Every hosted page, not only the sign-in page.
    for path in ("/accounts/signup/", "/accounts/password/reset/", "/accounts/login/code/"):
        other = tenant_client(acme).get(path).content.decode()
        assert theme_link(other) == theme_link(page) and logo_link(other), path
        assert "Acme privacy" in other, path

    css = tenant_client(acme).get(theme_link(page))
    assert css.status_code == 200 and css["Content-Type"].startswith("text/css")
    assert "--ciam-primary: #7a1f5c;" in css.content.decode()
    assert css["X-Content-Type-Options"] == "nosniff" and "immutable" in css["Cache-Control"]
    assert tenant_client(acme).get("/branding/theme-0123456789abcdef.css").status_code == 404

    logo = tenant_client(acme).get(logo_link(page))
    assert logo.status_code == 200 and logo["Content-Type"] == "image/png"
    assert logo["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in logo["Content-Security-Policy"]

    with tenant_context(acme.tenant):
        actions = list(AuditEvent.objects.order_by("pk").values_list("action", flat=True))
        update = AuditEvent.objects.get(action="branding.draft_update")
        published = AuditEvent.objects.get(action="branding.publish")
    assert actions[-3:] == ["branding.draft_update", "branding.logo_upload", "branding.publish"]
    assert update.after["primary_color"] == "#7a1f5c"
    assert published.before is None and published.after["sign_in_text"].startswith("Welcome")

    # A later draft change waits for the next publication.
    save_draft(acme, sign_in_text="Changed words")
    assert "Changed words" not in page_of(acme)
    publish(acme)
    assert "Changed words" in page_of(acme)
    with tenant_context(acme.tenant):
        second = AuditEvent.objects.filter(action="branding.publish").latest("pk")
    assert second.before["sign_in_text"].startswith("Welcome")
    assert second.after["sign_in_text"] == "Changed words"


def test_hiding_sign_up_removes_the_link_and_reset_restores_the_default_look(acme):
    unbranded = page_of(acme)
    save_draft(acme, show_sign_up="")
    publish(acme)
    assert "Create one" not in page_of(acme)
    assert acme.client(acme.admin).post("/console/branding/reset/").status_code == 302
    page = page_of(acme)
    assert "Create one" in page and theme_link(page) is None
    assert theme_link(unbranded) is None and "hosted-footer-links" not in unbranded
    with tenant_context(acme.tenant):
        assert AuditEvent.objects.filter(action="branding.reset").exists()


def test_unreadable_colours_are_warned_and_not_published(acme):
    response = save_draft(acme, accent_color="#b0b0b0")
    assert response.status_code == 302
    page = acme.client(acme.admin).get("/console/branding/").content.decode()
    assert "Contrast too low: Links on the page background" in page
    refused = publish(acme)
    assert refused.status_code == 400
    assert "Not published" in refused.content.decode()
    assert theme_link(page_of(acme)) is None
    with tenant_context(acme.tenant):
        assert not AuditEvent.objects.filter(action="branding.publish").exists()


def test_colours_and_links_are_checked(acme):
    response = save_draft(acme, primary_color="red;}x", privacy_url="http://acme.example/")
    assert response.status_code == 400
    page = response.content.decode()
    assert "Give a colour as #rrggbb." in page and "Give an https:// link." in page


def test_labels_are_plain_text(acme):
    save_draft(acme, privacy_label='<img src=x onerror="alert(1)">', sign_in_text="<b>hi</b>")
    publish(acme)
    page = page_of(acme)
    assert "<img src=x" not in page and "<b>hi</b>" not in page
    assert "&lt;b&gt;hi&lt;/b&gt;" in page


def test_upload_refuses_a_renamed_non_image(acme):
    response = upload(acme, b"<html><script>alert(1)</script></html>" * 10, name="logo.png")
    assert response.status_code == 400
    assert "Upload a PNG, JPEG, WebP or SVG image" in response.content.decode()
    svg = b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"></svg>'
    assert upload(acme, svg, name="logo.svg").status_code == 400
    # A PNG signature followed by rubbish is not a PNG either.
    assert upload(acme, b"\x89PNG\r\n\x1a\n" + b"x" * 200).status_code == 400


def test_upload_refuses_oversized_files_and_too_many_pixels(acme):
    noisy = Image.frombytes("RGB", (400, 200), bytes(range(256)) * 937 + bytes(168))
    out = io.BytesIO()
    noisy.save(out, "PNG")
    big = out.getvalue() + b"\0" * (101 * 1024)
    response = upload(acme, big)
    assert response.status_code == 400 and "at most 100 KB" in response.content.decode()
    response = upload(acme, image_bytes(size=(1201, 100)))
    assert response.status_code == 400 and "1200 × 400 pixels" in response.content.decode()
    # A decompression bomb: a tiny file declaring an enormous image.
    response = upload(acme, image_bytes(size=(20000, 20000)))
    assert response.status_code == 400
    with tenant_context(acme.tenant):
        assert not AuditEvent.objects.filter(action="branding.logo_upload").exists()


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP"])
def test_uploaded_logo_is_stored_without_its_metadata(acme, fmt):
    original = image_bytes(fmt, exif=True)
    assert b"SecretCam" in original
    assert upload(acme, original, name="photo.txt").status_code == 302
    page = acme.client(acme.admin).get("/console/branding/").content.decode()
    url = logo_link(page)
    stored = acme.client(acme.admin).get(url).content
    assert b"SecretCam" not in stored and b"Exif" not in stored
    image = Image.open(io.BytesIO(stored))
    assert image.format == fmt and image.size == (240, 80)
    assert not image.getexif()


def test_branding_is_per_tenant(acme, globex):
    save_draft(acme)
    upload(acme, image_bytes())
    publish(acme)
    acme_page = page_of(acme)
    globex_page = page_of(globex)
    assert theme_link(globex_page) is None and "Welcome to Acme" not in globex_page
    # Acme's files are not served on globex's host.
    assert tenant_client(globex).get(theme_link(acme_page)).status_code == 404
    assert tenant_client(globex).get(logo_link(acme_page)).status_code == 404
    # Globex's admin sees its own (default) draft.
    console = globex.client(globex.admin).get("/console/branding/").content.decode()
    assert "Welcome to Acme" not in console and "Nothing published" in console


def test_preview_shows_the_draft_with_its_own_stylesheet(acme):
    save_draft(acme, sign_in_text="Draft words only")
    client = acme.client(acme.admin)
    preview = client.get("/console/branding/preview/").content.decode()
    assert "Draft words only" in preview and "Preview of the draft" in preview
    match = re.search(r'href="(/console/branding/preview/theme-[0-9a-f]{16}\.css)"', preview)
    assert match, preview
    assert "--ciam-primary: #7a1f5c;" in client.get(match.group(1)).content.decode()
    assert acme.client(acme.member).get(match.group(1)).status_code == 403
    assert "Draft words only" not in page_of(acme)


def test_a_jpeg_that_is_also_html_is_stored_as_a_plain_jpeg(acme):
    polyglot = image_bytes("JPEG") + b"<html><script>alert(document.domain)</script></html>"
    assert upload(acme, polyglot, name="logo.html").status_code == 302
    page = acme.client(acme.admin).get("/console/branding/").content.decode()
    stored = acme.client(acme.admin).get(logo_link(page))
    assert stored["Content-Type"] == "image/jpeg"
    assert b"<script" not in stored.content and b"<html" not in stored.content
