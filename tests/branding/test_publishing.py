"""What a publish leaves working, the username hint tied to its field, and the editor's live
preview."""

from __future__ import annotations

import re

import pytest

from tests.branding.helpers import DRAFT, page_of, publish, save_draft, theme_link
from tests.helpers import tenant_client


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)


def test_a_page_loaded_before_a_publish_keeps_its_stylesheet(acme):
    save_draft(acme, primary_color="#7a1f5c")
    publish(acme)
    first = theme_link(page_of(acme))
    save_draft(acme, primary_color="#00563b")
    publish(acme)
    second = theme_link(page_of(acme))
    save_draft(acme, primary_color="#003d6b")
    publish(acme)
    third = theme_link(page_of(acme))
    assert len({first, second, third}) == 3
    for link, colour in ((first, "#7a1f5c"), (second, "#00563b"), (third, "#003d6b")):
        response = tenant_client(acme).get(link)
        assert response.status_code == 200, link
        assert f"--ciam-primary: {colour};" in response.content.decode()
    assert tenant_client(acme).get("/branding/theme-0123456789abcdef.css").status_code == 404


def test_the_username_hint_is_tied_to_the_email_field(acme):
    save_draft(acme, username_hint="Use the email on your Acme invoice")
    publish(acme)
    page = page_of(acme)
    field = re.search(r'<input[^>]*name="login"[^>]*>', page).group(0)
    described_by = re.search(r'aria-describedby="([^"]+)"', field).group(1).split()
    hint = re.search(
        r'<div class="form-text" id="([^"]+)">Use the email on your Acme invoice<', page
    )
    assert hint and hint.group(1) in described_by


def test_the_live_preview_renders_every_page_at_both_widths_from_the_fields_as_typed(acme):
    client = acme.client(acme.admin)
    console = client.get("/console/branding/").content.decode()
    assert 'hx-post="/console/branding/preview/live/"' in console
    assert console.count('class="branding-preview-frame') == 12
    assert "<iframe" not in console

    typed = {
        **DRAFT,
        "sign_in_text": "Typed, not saved",
        "primary_color": "#00563b",
        "custom_css": ".hosted-card { border-radius: 0 }\n@import url(https://x.example/a);",
    }
    response = client.post("/console/branding/preview/live/", typed, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    fragment = response.content.decode()
    assert fragment.count("Typed, not saved") == 2  # the sign-in page, phone and desktop
    for caption in ("Sign-in", "Sign-up", "Email code", "Consent", "Invitation page",
                    "Invitation email"):  # fmt: skip
        assert fragment.count(f"{caption} · ") == 2, caption
    assert "<html" not in fragment and "style=" not in fragment
    stylesheet = re.search(r'href="(/console/branding/preview/theme-[0-9a-f]{16}\.css)"', fragment)
    css = client.get(stylesheet.group(1)).content.decode()
    assert css.startswith(".branding-preview {") and "--ciam-primary: #00563b;" in css
    assert ".branding-preview .hosted-card { border-radius: 0; }" in css
    assert "x.example" not in css
    # Nothing was saved, and hosted pages never see it.
    assert "Typed, not saved" not in client.get("/console/branding/").content.decode()
    assert "Typed, not saved" not in page_of(acme)
    # Unreadable colours show in the preview as they are typed.
    grey = client.post("/console/branding/preview/live/", {**typed, "accent_color": "#c0c0c0"})
    assert "below WCAG AA" in grey.content.decode()
    assert (
        acme.client(acme.member).post("/console/branding/preview/live/", typed).status_code == 403
    )
