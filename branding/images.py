"""Checking and cleaning an uploaded branding image: what it is by its bytes, how big,
re-encoded (bitmaps) or sanitised (SVG)."""

from __future__ import annotations

import io
import re
from dataclasses import dataclass

from defusedxml import ElementTree as SafeElementTree
from defusedxml.common import DefusedXmlException
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from PIL import Image


@dataclass(frozen=True)
class Slot:
    """One image a branding can carry, with its limits (PRODUCT.md's, Entra's
    organizationalBrandingProperties: banner 245x36, square logos 240x240, background about
    1920x1080 in 300 KB). The banner keeps the wider limits of its first version."""

    name: str  # the file name's prefix and the model's `<field>_name`
    field: str
    label: str
    max_bytes: int
    max_width: int
    max_height: int
    svg: bool  # an SVG is accepted after sanitising


SLOTS = {
    slot.name: slot
    for slot in (
        Slot("logo", "logo", gettext_lazy("Banner logo"), 100 * 1024, 1200, 400, True),
        Slot("square", "square_logo", gettext_lazy("Square logo"), 50 * 1024, 240, 240, True),
        Slot(
            "square-dark",
            "square_logo_dark",
            gettext_lazy("Square logo, dark theme"),
            50 * 1024,
            240,
            240,
            True,
        ),
        Slot("favicon", "favicon", gettext_lazy("Favicon"), 50 * 1024, 256, 256, True),
        Slot(
            "background",
            "background_image",
            gettext_lazy("Background image"),
            300 * 1024,
            1920,
            1080,
            False,
        ),
    )
}
SLOT_BY_FIELD = {slot.field: slot for slot in SLOTS.values()}

# The banner's limits, as the first version named them.
MAX_BYTES = SLOTS["logo"].max_bytes
MAX_WIDTH, MAX_HEIGHT = SLOTS["logo"].max_width, SLOTS["logo"].max_height
LARGEST_BYTES = max(slot.max_bytes for slot in SLOTS.values())

# Formats by their first bytes, never by the file's name or the browser's content type.
_SIGNATURES = {
    "PNG": lambda head: head.startswith(b"\x89PNG\r\n\x1a\n"),
    "JPEG": lambda head: head.startswith(b"\xff\xd8\xff"),
    "WEBP": lambda head: head[:4] == b"RIFF" and head[8:12] == b"WEBP",
}
EXTENSIONS = {"PNG": "png", "JPEG": "jpg", "WEBP": "webp", "SVG": "svg"}
CONTENT_TYPES = {
    "png": "image/png",
    "jpg": "image/jpeg",
    "webp": "image/webp",
    "svg": "image/svg+xml",
}


@dataclass(frozen=True)
class CleanImage:
    content: bytes
    extension: str
    width: int
    height: int


def format_of(head: bytes) -> str | None:
    for name, matches in _SIGNATURES.items():
        if matches(head):
            return name
    return None


def _looks_like_svg(data: bytes) -> bool:
    head = data[:512].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    return head.startswith((b"<?xml", b"<svg", b"<!--"))


def image_clean(data: bytes, slot: Slot) -> CleanImage:
    """The image re-encoded from its pixels alone (no EXIF, location, comments or colour
    profile) or, for an SVG, rebuilt from an allow-list. Raises ValidationError when it is
    not a PNG, JPEG, WebP (or a clean SVG where the slot takes one) within the limits."""
    if len(data) > slot.max_bytes:
        raise ValidationError(
            _("This image may be at most %(size)s KB.") % {"size": slot.max_bytes // 1024},
            code="too_large",
        )
    kind = format_of(data[:16])
    if kind is None:
        if slot.svg and _looks_like_svg(data):
            return svg_clean(data, slot)
        if slot.svg:
            message = _("Upload a PNG, JPEG, WebP or SVG image.")
        else:
            message = _("Upload a PNG, JPEG or WebP image.")
        raise ValidationError(message, code="type")
    try:
        image = Image.open(io.BytesIO(data), formats=[kind])
        # The header's size, before any pixel is decoded: a small file cannot unpack into
        # an enormous image here (a decompression bomb is refused by its declared size).
        width, height = image.size
        _check_pixels(width, height, slot)
        image.load()
    except ValidationError:
        raise
    except Exception as error:
        raise ValidationError(_("This image could not be read."), code="unreadable") from error
    mode = "RGB" if kind == "JPEG" else "RGBA"
    pixels = image.convert(mode)
    clean = Image.frombytes(mode, pixels.size, pixels.tobytes())
    out = io.BytesIO()
    if kind == "JPEG":
        clean.save(out, "JPEG", quality=90, optimize=True)
    elif kind == "PNG":
        clean.save(out, "PNG", optimize=True)
    else:
        clean.save(out, "WEBP", lossless=True)
    return CleanImage(out.getvalue(), EXTENSIONS[kind], width, height)


def logo_clean(data: bytes) -> tuple[bytes, str, int, int]:
    """The banner logo (the first version's interface)."""
    clean = image_clean(data, SLOTS["logo"])
    return clean.content, clean.extension, clean.width, clean.height


def _check_pixels(width: int, height: int, slot: Slot) -> None:
    if width > slot.max_width or height > slot.max_height or width < 1 or height < 1:
        raise ValidationError(
            _("This image may be at most %(width)s × %(height)s pixels.")
            % {"width": slot.max_width, "height": slot.max_height},
            code="too_many_pixels",
        )


# SVG: what a logo needs to draw shapes, paths, gradients and text, nothing that runs, loads
# or embeds. Everything else (script, foreignObject, image, use, style, animate..., every
# on* attribute, href) is dropped while the tree is rebuilt.
SVG_NS = "http://www.w3.org/2000/svg"
_SVG_ELEMENTS = {
    "svg",
    "g",
    "path",
    "rect",
    "circle",
    "ellipse",
    "line",
    "polyline",
    "polygon",
    "text",
    "tspan",
    "title",
    "desc",
    "defs",
    "lineargradient",
    "radialgradient",
    "stop",
    "clippath",
    "mask",
}
_SVG_ATTRIBUTES = {
    "viewbox",
    "width",
    "height",
    "x",
    "y",
    "x1",
    "x2",
    "y1",
    "y2",
    "cx",
    "cy",
    "r",
    "rx",
    "ry",
    "d",
    "points",
    "fill",
    "fill-opacity",
    "fill-rule",
    "clip-rule",
    "stroke",
    "stroke-width",
    "stroke-opacity",
    "stroke-linecap",
    "stroke-linejoin",
    "stroke-miterlimit",
    "stroke-dasharray",
    "opacity",
    "transform",
    "offset",
    "stop-color",
    "stop-opacity",
    "gradientunits",
    "gradienttransform",
    "id",
    "clip-path",
    "mask",
    "font-family",
    "font-size",
    "font-weight",
    "text-anchor",
    "preserveaspectratio",
    "role",
    "aria-label",
}
# Attribute values may name a local paint server (`url(#gradient)`), nothing else.
_URL_VALUE = re.compile(r"url\s*\(", re.IGNORECASE)
_LOCAL_URL = re.compile(r"^\s*url\(\s*#[A-Za-z0-9_.-]+\s*\)\s*$")
MAX_SVG_DEPTH = 64
_LENGTH = re.compile(r"^\s*([0-9]+(?:\.[0-9]+)?)\s*(px)?\s*$")


def _local(tag: str) -> tuple[str, str]:
    if tag.startswith("{"):
        namespace, _sep, name = tag[1:].partition("}")
        return namespace, name
    return "", tag


def svg_clean(data: bytes, slot: Slot) -> CleanImage:
    """An SVG rebuilt from an allow-list of elements and attributes. defusedxml refuses any
    DOCTYPE, entity and external reference while parsing (no billion laughs, no XXE)."""
    try:
        root = SafeElementTree.fromstring(
            data, forbid_dtd=True, forbid_entities=True, forbid_external=True
        )
    except (DefusedXmlException, SafeElementTree.ParseError, ValueError) as error:
        raise ValidationError(
            _("This SVG could not be read (a DOCTYPE or entity is not accepted)."),
            code="unreadable",
        ) from error
    namespace, name = _local(root.tag)
    if name != "svg" or namespace not in ("", SVG_NS):
        raise ValidationError(_("This is not an SVG image."), code="type")
    # A drawing scales: its size is only fitted into the slot's box (the page's width and
    # height attributes), keeping its proportions.
    width, height = _svg_size(root)
    scale = min(1.0, slot.max_width / width, slot.max_height / height)
    width, height = max(1, round(width * scale)), max(1, round(height * scale))

    from xml.etree.ElementTree import Element, SubElement, tostring

    def copy(source, target_parent, depth=0):
        if depth > MAX_SVG_DEPTH:
            raise ValidationError(_("This SVG is nested too deeply."), code="unreadable")
        namespace, name = _local(source.tag)
        if namespace not in ("", SVG_NS) or name.lower() not in _SVG_ELEMENTS:
            return
        attributes = {}
        for key, value in source.attrib.items():
            attribute_namespace, attribute = _local(key)
            if attribute_namespace or attribute.lower() not in _SVG_ATTRIBUTES:
                continue
            if _URL_VALUE.search(value) and not _LOCAL_URL.match(value):
                continue
            attributes[attribute] = value
        if target_parent is None:
            element = Element(name, attributes)
        else:
            element = SubElement(target_parent, name, attributes)
        element.text = source.text if name.lower() in ("text", "tspan", "title", "desc") else None
        for child in source:
            copied = copy(child, element, depth + 1)
            # Text between elements (the tail) only matters inside text.
            if copied is not None and name.lower() in ("text", "tspan"):
                copied.tail = child.tail
        return element

    clean = copy(root, None)
    clean.set("xmlns", SVG_NS)
    content = tostring(clean, encoding="utf-8", xml_declaration=False)
    return CleanImage(content, "svg", width, height)


def _svg_size(root) -> tuple[int, int]:
    """The drawing's size in CSS pixels, from width and height or else the viewBox."""
    width, height = root.get("width", ""), root.get("height", "")
    width_match, height_match = _LENGTH.match(width), _LENGTH.match(height)
    if width_match and height_match:
        width, height = float(width_match.group(1)), float(height_match.group(1))
        if width > 0 and height > 0:
            return max(1, round(width)), max(1, round(height))
    view_box = root.get("viewBox", "").replace(",", " ").split()
    try:
        if len(view_box) == 4 and float(view_box[2]) > 0 and float(view_box[3]) > 0:
            return max(1, round(float(view_box[2]))), max(1, round(float(view_box[3])))
    except ValueError:
        pass
    raise ValidationError(
        _("The SVG needs a width and height in pixels, or a viewBox."), code="unreadable"
    )
