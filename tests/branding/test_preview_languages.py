"""The editor's live preview in every language the tenant works in, side by side: a row of
pages (phone and desktop) per language, each in that language and with its texts."""

from __future__ import annotations

import re

from django.utils import translation
from django_tenants.utils import tenant_context

from branding.languages import branding_texts_set
from tenants.services import tenant_default_language_set
from tests.branding.helpers import DRAFT
from tests.i18n.helpers import own_tenant


def rows(page: str) -> dict[str, str]:
    """The preview's rows by language: {code: the row's HTML}."""
    parts = re.split(r'<section class="branding-preview-language" aria-labelledby="[^"]*">', page)
    found = {}
    for part in parts[1:]:
        languages = set(re.findall(r'class="branding-preview-row [^"]*" lang="([^"]+)"', part))
        assert len(languages) == 1, languages
        found[languages.pop()] = part.split("</section>", 1)[0]
    return found


def in_language(language: str, text: str) -> str:
    with translation.override(language):
        return translation.gettext(text)


def test_the_preview_shows_each_configured_language_side_by_side(acme):
    world = own_tenant()
    with tenant_context(world.tenant):
        tenant_default_language_set(tenant=world.tenant, language="de", actor=world.admin)
        branding_texts_set(
            actor=world.admin,
            language="fr",
            texts={"sign_in_text": "Bienvenue", "sign_in_button_label": "C'est parti"},
        )
    admin = world.client(world.admin)
    page = admin.get("/console/branding/").content.decode()
    shown = rows(page)
    # The default language and the one with texts; a row each, every page at both widths.
    assert list(shown) == ["fr", "de"]
    assert page.count('class="branding-preview-frame') == 24
    for row in shown.values():
        assert row.count('class="branding-preview-frame') == 12
    assert "Bienvenue" in shown["fr"] and "Bienvenue" not in shown["de"]
    assert "C&#x27;est parti" in shown["fr"]
    # Each row in its language, our words translated; the captions in the console's.
    assert in_language("de", "Create your account") in shown["de"]
    assert in_language("fr", "Create your account") in shown["fr"]
    # (The console speaks the tenant's default language, German, here.)
    caption = f"{in_language('de', 'Sign-in')} · {in_language('de', 'Phone')}"
    assert shown["de"].count(caption) == 1 and shown["fr"].count(caption) == 1
    assert 'id="preview-language-fr" checked' in page
    assert 'id="preview-language-ja" aria-describedby' in page  # not ticked

    # The languages ticked, with the fields as typed: Japanese and Arabic (right to left).
    response = admin.post(
        "/console/branding/preview/live/",
        {**DRAFT, "sign_in_text": "Typed", "preview_language": ["ar", "ja", "xx"]},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    fragment = response.content.decode()
    shown = rows(fragment)
    assert list(shown) == ["ja", "ar"]
    assert 'lang="ar" dir="rtl"' in shown["ar"] and 'lang="ja" dir="ltr"' in shown["ja"]
    assert shown["ja"].count("Typed") == 2 and shown["ar"].count("Typed") == 2
    assert in_language("ja", "Enter your code") in shown["ja"]
    assert in_language("ar", "Enter your code") in shown["ar"]
    assert "style=" not in fragment and "<script" not in fragment

    # The same choice as a plain GET (no JavaScript): the page with those rows.
    page = admin.get("/console/branding/?preview_language=es").content.decode()
    assert list(rows(page)) == ["es"]
