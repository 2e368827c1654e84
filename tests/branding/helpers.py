"""What the branding tests share: images made on the spot, the console's forms posted."""

from __future__ import annotations

import io
import re
import struct
import zlib

from PIL import Image

from tests.helpers import tenant_client

DRAFT = {
    "background_color": "#fdf6e3",
    "header_color": "#ffffff",
    "primary_color": "#7a1f5c",
    "accent_color": "#7a1f5c",
    "text_color": "#1b1f24",
    "sign_in_text": "Welcome to Acme's customer portal",
    "username_hint": "Use the email on your Acme invoice",
    "privacy_url": "https://acme.example/privacy",
    "privacy_label": "Acme privacy",
    "terms_url": "https://acme.example/terms",
    "terms_label": "",
    "help_url": "",
    "help_label": "",
    "layout": "card",
    "show_sign_up": "on",
    "custom_css": "",
}


def image_bytes(fmt="PNG", size=(240, 80), colour=(122, 31, 92)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, fmt)
    return out.getvalue()


def png_declaring(width: int, height: int) -> bytes:
    """A small PNG whose header declares `width` x `height` (a decompression bomb's shape:
    a few bytes that would unpack into gigabytes)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\0" * 1024, 9)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


def save_draft(world, user=None, **changes):
    return world.client(user or world.admin).post("/console/branding/", {**DRAFT, **changes})


def upload_image(world, slot: str, data: bytes, name="image.png", user=None):
    file = io.BytesIO(data)
    file.name = name
    return world.client(user or world.admin).post(
        f"/console/branding/images/{slot}/", {f"{slot}-image": file}
    )


def publish(world, user=None):
    return world.client(user or world.admin).post("/console/branding/publish/")


def reset(world, user=None):
    return world.client(user or world.admin).post("/console/branding/reset/")


def page_of(world, path="/accounts/login/") -> str:
    return tenant_client(world).get(path).content.decode()


def theme_link(page: str) -> str | None:
    match = re.search(r'href="(/branding/(?:app/[0-9a-f-]+/)?theme-[0-9a-f]{16}\.css)"', page)
    return match.group(1) if match else None


def image_links(page: str, slot: str) -> list[str]:
    return re.findall(rf"(/branding/logo/{slot}-[0-9a-f]{{32}}\.(?:png|jpg|webp|svg))", page)
