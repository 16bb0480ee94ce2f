"""Images for upload tests: real PNG/JPEG made with Pillow, and the hostile files a logo upload must refuse."""
from __future__ import annotations

import io
import zlib

from PIL import Image, PngImagePlugin


def png(width: int = 40, height: int = 20, *, text: dict[str, str] | None = None) -> bytes:
    """A PNG, with ``tEXt`` chunks when `text` is given (metadata that must not survive re-encoding)."""
    info = PngImagePlugin.PngInfo()
    for key, value in (text or {}).items():
        info.add_text(key, value)
    out = io.BytesIO()
    Image.new("RGB", (width, height), (200, 30, 30)).save(out, format="PNG", pnginfo=info)
    return out.getvalue()


def jpeg(width: int = 30, height: int = 30, *, comment: bytes = b"") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (20, 90, 200)).save(out, format="JPEG", comment=comment)
    return out.getvalue()


SVG_WITH_SCRIPT = (b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
                   b'<script>alert(document.cookie)</script><rect width="10" height="10"/></svg>')


def png_header_then_html() -> bytes:
    """PNG magic bytes followed by HTML: a polyglot that is no readable image."""
    return b"\x89PNG\r\n\x1a\n" + b"<html><script>alert(1)</script></html>"


def png_claiming(width: int, height: int) -> bytes:
    """A tiny file whose header claims a huge image (a decompression bomb's first step)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return len(data).to_bytes(4, "big") + kind + data + zlib.crc32(kind + data).to_bytes(4, "big")
    header = width.to_bytes(4, "big") + height.to_bytes(4, "big") + bytes([8, 2, 0, 0, 0])
    pixels = zlib.compress(b"\x00" * 64)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
