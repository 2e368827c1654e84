"""Two tenants branded differently, in headless Chromium under the real Content Security
Policy: their sign-in pages look different (screenshots compared), each loads its theme,
logos (light and dark square logo) and custom CSS without a CSP violation, and axe-core finds
nothing. The console's live preview follows the fields as they are typed."""

from __future__ import annotations

import io
import uuid

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django_tenants.utils import tenant_context
from PIL import Image, ImageChops
from playwright.sync_api import expect

from tests.branding.helpers import image_bytes
from tests.browser import axe_violations
from tests.helpers import PASSWORD

pytestmark = [pytest.mark.server, pytest.mark.browser]

WATCH_CSP = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__cspViolations.push(event.violatedDirective + " " + event.blockedURI);
});
"""
SQUARE_SVG = (
    b'<svg xmlns="http://www.w3.org/2000/svg" width="240" height="240" onload="alert(1)">'
    b'<circle cx="120" cy="120" r="100" fill="#f5f5f5"/><script>alert(2)</script></svg>'
)


def branded_tenant(name: str, **look):
    from branding import services
    from tenants.services import tenant_create

    slug = f"{name.lower()}-{uuid.uuid4().hex[:8]}"
    tenant = tenant_create(
        name=f"{name} Ltd", slug=slug, admin_email=f"admin@{slug}.test", admin_password=PASSWORD
    )
    images = look.pop("images")
    with tenant_context(tenant):
        admin = get_user_model().objects.get(email=f"admin@{slug}.test")
        services.branding_draft_update(actor=admin, **look)
        for slot, data in images.items():
            services.branding_image_upload(actor=admin, slot=slot, data=data)
        services.branding_publish(actor=admin)
    connection.close()
    return tenant, f"admin@{slug}.test"


def open_sign_in(chromium, port, tenant):
    context = chromium.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    page.add_init_script(WATCH_CSP)
    page.goto(f"http://{tenant.primary_host}:{port}/accounts/login/")
    page.wait_for_load_state("networkidle")
    return context, page


def test_two_tenants_render_differently_under_the_real_csp_and_pass_axe(
    chromium, branding_server, committed
):
    night, night_admin = branded_tenant(
        "Night",
        layout="full_page",
        background_color="#10151c",
        header_color="#10151c",
        text_color="#f5f5f5",
        accent_color="#9cc3ff",
        primary_color="#9cc3ff",
        sign_in_text="Welcome back to Night",
        username_hint="Your Night email",
        privacy_url="https://night.example/privacy",
        custom_css=".btn-primary { text-transform: uppercase; border-radius: 0 }",
        images={
            "logo": image_bytes(size=(240, 36), colour=(16, 21, 28)),
            "square": image_bytes(size=(240, 240), colour=(16, 21, 28)),
            "square-dark": SQUARE_SVG,
            "favicon": image_bytes(size=(32, 32), colour=(156, 195, 255)),
        },
    )
    day, _day_admin = branded_tenant(
        "Day",
        background_color="#fdf6e3",
        primary_color="#7a1f5c",
        accent_color="#7a1f5c",
        sign_in_text="Good morning from Day",
        images={
            "square": image_bytes(size=(240, 240), colour=(122, 31, 92)),
            "background": image_bytes("JPEG", size=(800, 600), colour=(250, 240, 220)),
        },
    )

    shots = {}
    for tenant, words in ((night, "Welcome back to Night"), (day, "Good morning from Day")):
        context, page = open_sign_in(chromium, branding_server, tenant)
        expect(page.get_by_text(words)).to_be_visible()
        assert page.evaluate("window.__cspViolations") == [], tenant.slug
        assert axe_violations(page) == [], tenant.slug
        square = page.locator("img.hosted-square-logo")
        assert square.evaluate("img => img.complete && img.naturalWidth > 0"), tenant.slug
        shots[tenant.slug] = (page.screenshot(full_page=False), page, context)

    night_page, day_page = shots[night.slug][1], shots[day.slug][1]
    # Night: dark page, the dark-theme square logo (an SVG, scripts removed), its custom CSS.
    assert night_page.evaluate("getComputedStyle(document.body).backgroundColor") == (
        "rgb(16, 21, 28)"
    )
    assert "/square-dark-" in night_page.locator("img.hosted-square-logo").get_attribute("src")
    button = night_page.get_by_role("button", name="Sign in", exact=True)
    assert button.evaluate("b => getComputedStyle(b).textTransform") == "uppercase"
    assert button.evaluate("b => getComputedStyle(b).backgroundColor") == "rgb(156, 195, 255)"
    hint_id = night_page.get_by_text("Your Night email").get_attribute("id")
    described = night_page.get_by_label("Email").get_attribute("aria-describedby")
    assert hint_id in described.split()
    favicon = night_page.locator("link[rel=icon]").get_attribute("href")
    assert favicon.startswith("/branding/logo/favicon-")
    # Day: the light square logo on the white card, its background image, its own colours.
    assert "/square-" in day_page.locator("img.hosted-square-logo").get_attribute("src")
    assert "square-dark" not in day_page.locator("img.hosted-square-logo").get_attribute("src")
    assert "/branding/logo/background-" in day_page.evaluate(
        "getComputedStyle(document.body).backgroundImage"
    )
    day_button = day_page.get_by_role("button", name="Sign in", exact=True)
    assert day_button.evaluate("b => getComputedStyle(b).backgroundColor") == "rgb(122, 31, 92)"

    night_shot = Image.open(io.BytesIO(shots[night.slug][0])).convert("RGB")
    day_shot = Image.open(io.BytesIO(shots[day.slug][0])).convert("RGB")
    difference = ImageChops.difference(night_shot, day_shot).convert("L")
    changed = sum(1 for value in difference.getdata() if value > 40)
    assert changed > night_shot.width * night_shot.height // 4  # most of the page differs

    # Night's admin opens Console > Branding: the live preview follows what is typed.
    page = night_page
    page.get_by_label("Email").fill(night_admin)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.wait_for_url("**/")
    page.goto(f"http://{night.primary_host}:{branding_server}/console/branding/")
    page.wait_for_load_state("networkidle")
    assert page.locator(".branding-preview-frame").count() == 12
    assert page.locator("iframe").count() == 0
    page.get_by_label("Sign-in page text").fill("Typed in the editor")
    page.locator("#branding-preview").get_by_text("Typed in the editor").first.wait_for()
    assert page.locator("#branding-preview").get_by_text("Typed in the editor").count() == 2
    page.get_by_label("Buttons").fill("#ffd166")
    page.get_by_label("Buttons").dispatch_event("input")
    preview_button = page.locator(".branding-preview-phone .btn-primary").first
    page.wait_for_function(
        "() => getComputedStyle(document.querySelector('.branding-preview-phone .btn-primary'))"
        ".backgroundColor === 'rgb(255, 209, 102)'"
    )
    expect(preview_button).to_be_visible()
    assert page.evaluate("window.__cspViolations") == []
    assert axe_violations(page) == []
    for _shot, _page, context in shots.values():
        context.close()


def test_the_live_preview_shows_each_language_side_by_side_and_adds_the_ones_ticked(
    chromium, branding_server, committed
):
    from branding.languages import branding_texts_set

    tenant, admin_email = branded_tenant("Babel", sign_in_text="Welcome to Babel", images={})
    with tenant_context(tenant):
        admin = get_user_model().objects.get(email=admin_email)
        branding_texts_set(
            actor=admin,
            language="fr",
            texts={"sign_in_text": "Bienvenue chez Babel", "sign_up_label": "Rejoindre Babel"},
        )
    connection.close()
    context, page = open_sign_in(chromium, branding_server, tenant)
    page.set_viewport_size({"width": 1600, "height": 1000})
    page.get_by_label("Email").fill(admin_email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.wait_for_url("**/")
    page.goto(f"http://{tenant.primary_host}:{branding_server}/console/branding/")
    page.wait_for_load_state("networkidle")

    preview = page.locator("#branding-preview")
    languages = preview.locator("section.branding-preview-language")
    assert languages.count() == 2  # English (the default) and French (it has texts)
    english, french = languages.nth(0), languages.nth(1)
    assert english.get_by_text("Welcome to Babel").count() == 2
    assert french.get_by_text("Bienvenue chez Babel").count() == 2
    assert french.get_by_text("Rejoindre Babel", exact=True).count() == 2
    # Phone and desktop, each at its own width; the pages of a row next to each other.
    phone = french.locator(".branding-preview-phone .branding-preview").first
    desktop = french.locator(".branding-preview-desktop .branding-preview").first
    width = "e => e.getBoundingClientRect().width"
    assert 0 < phone.evaluate(width) < desktop.evaluate(width)
    row = french.locator(".branding-preview-row-phone")
    tops = row.locator(".branding-preview-frame").evaluate_all(
        "frames => frames.map(f => f.getBoundingClientRect().top)"
    )
    assert abs(tops[0] - tops[1]) < 1

    # Ticking Arabic adds its row, right to left, with the fields as typed.
    page.get_by_label("Sign-in page text").fill("Typed for everyone")
    english.get_by_text("Typed for everyone").first.wait_for()
    page.locator("#preview-language-ar").check()
    arabic = preview.locator('section.branding-preview-language:has([lang="ar"][dir="rtl"])')
    arabic.wait_for()
    assert languages.count() == 3
    arabic.get_by_text("Typed for everyone").first.wait_for()
    assert (
        arabic.locator(".branding-preview-row").first.evaluate("e => getComputedStyle(e).direction")
        == "rtl"
    )
    assert page.evaluate("window.__cspViolations") == []
    assert axe_violations(page) == []
    context.close()
