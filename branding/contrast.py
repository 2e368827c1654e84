"""WCAG 2.x contrast (success criteria 1.4.3 and 1.4.11) between the colours of a branding."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

AA_NORMAL_TEXT = 4.5
AA_LARGE_TEXT = 3.0

DARK_TEXT = "#1b1f24"
WHITE = "#ffffff"
CARD = "#ffffff"  # the card of the centred layout (hosted.css --ciam-card)


def _channel(value: int) -> float:
    srgb = value / 255
    return srgb / 12.92 if srgb <= 0.04045 else ((srgb + 0.055) / 1.055) ** 2.4


def relative_luminance(colour: str) -> float:
    red, green, blue = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    return 0.2126 * _channel(red) + 0.7152 * _channel(green) + 0.0722 * _channel(blue)


def contrast_ratio(first: str, second: str) -> float:
    """From 1 (same luminance) to 21 (black on white), as WCAG defines it."""
    lighter, darker = sorted((relative_luminance(first), relative_luminance(second)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def button_text_colour(primary: str) -> str:
    """White on the buttons when it is readable there, the product's dark text otherwise."""
    return WHITE if contrast_ratio(WHITE, primary) >= AA_NORMAL_TEXT else DARK_TEXT


@dataclass(frozen=True)
class ContrastFailure:
    field: str  # the form field a warning stands next to
    pair: str
    ratio: float
    required: float


def contrast_failures(
    *,
    background_color: str,
    header_color: str,
    primary_color: str,
    accent_color: str,
    text_color: str,
    layout: str = "card",
) -> list[ContrastFailure]:
    """The pairs of the hosted pages below WCAG AA. All of them carry body-size text (the
    pages have no large-text-only pair), so each needs 4.5:1. In the centred card layout the
    text and links sit on the white card as well as on the page background (the footer)."""
    surfaces = [(background_color, _("the page background"))]
    if layout == "card":
        surfaces.append((CARD, _("the card")))
    pairs = []
    for surface, surface_name in surfaces:
        pairs.append(("text_color", _("Text on %(surface)s"), text_color, surface, surface_name))
        pairs.append(
            ("accent_color", _("Links on %(surface)s"), accent_color, surface, surface_name)
        )
    pairs.append(("header_color", _("Text on the header"), text_color, header_color, ""))
    pairs.append(("accent_color", _("Links on the header"), accent_color, header_color, ""))
    pairs.append(
        (
            "primary_color",
            _("Button text on the buttons"),
            button_text_colour(primary_color),
            primary_color,
            "",
        )
    )
    failures = []
    for field, pair, foreground, background, surface_name in pairs:
        ratio = contrast_ratio(foreground, background)
        if ratio < AA_NORMAL_TEXT:
            label = str(pair) % {"surface": surface_name} if surface_name else str(pair)
            failures.append(ContrastFailure(field, label, round(ratio, 2), AA_NORMAL_TEXT))
    return failures
