"""Checking and cleaning an uploaded logo: what it is by its bytes, how big, re-encoded."""

from __future__ import annotations

import io

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from PIL import Image

MAX_BYTES = 100 * 1024
MAX_WIDTH, MAX_HEIGHT = 1200, 400

# Formats by their first bytes, never by the file's name or the browser's content type. SVG
# is refused in this version: it can carry scripts and needs a sanitiser first.
_SIGNATURES = {
    "PNG": lambda head: head.startswith(b"\x89PNG\r\n\x1a\n"),
    "JPEG": lambda head: head.startswith(b"\xff\xd8\xff"),
    "WEBP": lambda head: head[:4] == b"RIFF" and head[8:12] == b"WEBP",
}
EXTENSIONS = {"PNG": "png", "JPEG": "jpg", "WEBP": "webp"}
CONTENT_TYPES = {"png": "image/png", "jpg": "image/jpeg", "webp": "image/webp"}


def format_of(head: bytes) -> str | None:
    for name, matches in _SIGNATURES.items():
        if matches(head):
            return name
    return None


def logo_clean(data: bytes) -> tuple[bytes, str, int, int]:
    """The logo re-encoded from its pixels alone (no EXIF, location, comments or colour
    profile), its extension, width and height. Raises ValidationError when it is not a PNG,
    JPEG or WebP image within the limits."""
    if len(data) > MAX_BYTES:
        raise ValidationError(_("The logo may be at most 100 KB."), code="too_large")
    kind = format_of(data[:16])
    if kind is None:
        raise ValidationError(
            _("Upload a PNG, JPEG or WebP image (SVG is not accepted)."), code="type"
        )
    try:
        image = Image.open(io.BytesIO(data), formats=[kind])
        # The header's size, before any pixel is decoded: a small file cannot unpack into
        # an enormous image here.
        width, height = image.size
        if width > MAX_WIDTH or height > MAX_HEIGHT:
            raise ValidationError(
                _("The logo may be at most %(width)s × %(height)s pixels.")
                % {"width": MAX_WIDTH, "height": MAX_HEIGHT},
                code="too_many_pixels",
            )
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
    return out.getvalue(), EXTENSIONS[kind], width, height
