"""The stylesheet a branding gives the hosted pages: CSS custom properties over hosted.css."""

from __future__ import annotations

import hashlib

from django.urls import reverse

from branding.contrast import button_text_colour


def image_url(name: str) -> str:
    """The URL of a stored branding image (branding.views.logo serves them all)."""
    if not name:
        return ""
    return reverse("branding:logo", args=[name.rsplit("/", 1)[-1]])


def theme_css(branding) -> str:
    """Only validated #rrggbb colours and fixed rules go in: nothing a tenant types can reach
    the stylesheet as CSS."""
    lines = [
        ":root {",
        f"  --ciam-background: {branding.background_color};",
        f"  --ciam-header-background: {branding.header_color};",
        f"  --ciam-primary: {branding.primary_color};",
        f"  --ciam-primary-contrast: {button_text_colour(branding.primary_color)};",
        f"  --ciam-accent: {branding.accent_color};",
        f"  --ciam-text: {branding.text_color};",
        # Secondary text in the tenant's text colour: its contrast is the one checked.
        f"  --ciam-muted: {branding.text_color};",
        "}",
        ".hosted-header { color: var(--ciam-text); }",
    ]
    if branding.layout == "full_page":
        lines += [
            ":root { --ciam-card: var(--ciam-background); }",
            ".hosted-card { box-shadow: none; max-width: 40rem; }",
            # Bootstrap's greys are checked against white only: on the tenant's background
            # the secondary buttons and text take the tenant's text colour.
            ".hosted-card { --bs-secondary-color: var(--ciam-text); }",
            ".hosted-card .btn-outline-secondary { --bs-btn-color: var(--ciam-text);"
            " --bs-btn-border-color: var(--ciam-text); }",
            # The inputs stay white: their placeholders keep a grey readable there.
            ".hosted-card .form-control::placeholder { color: #5c636a; }",
        ]
    background = image_url(getattr(branding, "background_image_name", ""))
    if background:
        # A URL of our own making (a content hash), never text a tenant typed.
        lines.append(
            f'body.hosted {{ background-image: url("{background}"); background-size: cover;'
            " background-position: center; background-attachment: fixed; }"
        )
    custom = getattr(branding, "custom_css", "")
    if custom:
        # Already parsed and re-serialised from the allow-list (branding.custom_css).
        lines += ["/* custom CSS of the tenant */", custom.rstrip("\n")]
    return "\n".join(lines) + "\n"


def css_hash(css: str) -> str:
    return hashlib.sha256(css.encode()).hexdigest()[:16]
