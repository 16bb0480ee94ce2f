"""An organisation's letterhead: the address and logo printed at the top of the documents it issues.

Members of the organisation (and administrators) save it from their profile page or the API. The logo
is checked and never stored as uploaded: only PNG or JPEG (by content, not by name or declared type)
up to :data:`MAX_BYTES` and :data:`MAX_SIDE` pixels a side, decoded with Pillow and re-encoded as a
plain PNG, so an SVG with script, a polyglot file, metadata (EXIF, text chunks, ICC) or anything else
active does not survive. A new row per save keeps what earlier documents printed; the newest is current.
"""
from __future__ import annotations

import hashlib
import io
import unicodedata
from datetime import datetime
from typing import Annotated, Any, TypedDict

from PIL import Image, UnidentifiedImageError
from sqlalchemy import select
from sqlalchemy.orm import Session

from ecvet.partnership.models import Letterhead
from engine import audit
from engine.errors import Forbidden, Invalid, NotFound
from engine.models import Organisation
from engine.parties import Actor

MAX_BYTES = 512 * 1024
MAX_SIDE = 2000
MAX_ADDRESS = 500
MAX_ADDRESS_LINES = 6
#: What a logo may be, by its first bytes: Pillow's format name for each.
SIGNATURES = {b"\x89PNG\r\n\x1a\n": "PNG", b"\xff\xd8\xff": "JPEG"}


class LetterheadView(TypedDict):
    """An organisation's current letterhead (the logo itself: ``GET /api/organisations/{id}/letterhead/logo``)."""

    organisation_id: int
    address: Annotated[str | None, "the postal address printed under the organisation's name"]
    has_logo: bool
    logo_sha256: Annotated[str | None, "SHA-256 of the stored PNG"]
    logo_width: int | None
    logo_height: int | None
    saved_at: Annotated[datetime | None, "when it was last saved; null when never"]


def view(organisation_id: int, row: Letterhead | None) -> LetterheadView:
    return {"organisation_id": organisation_id, "address": row.address if row else None,
            "has_logo": bool(row and row.logo_png), "logo_sha256": row.logo_sha256 if row else None,
            "logo_width": row.logo_width if row else None, "logo_height": row.logo_height if row else None,
            "saved_at": row.created_at if row else None}


def current(session: Session, organisation_id: int) -> Letterhead | None:
    """The newest letterhead of the organisation (no access check: what its documents print)."""
    return session.scalar(select(Letterhead).where(Letterhead.organisation_id == organisation_id)
                          .order_by(Letterhead.id.desc()).limit(1))


def _member(session: Session, actor: Actor, organisation_id: int) -> Organisation:
    organisation = session.get(Organisation, organisation_id)
    if organisation is None or not (actor.is_admin or organisation_id in actor.organisation_ids):
        raise NotFound(f"No organisation {organisation_id} of yours")
    return organisation


def get(session: Session, *, actor: Actor, organisation_id: int) -> LetterheadView:
    """The letterhead, for the organisation's members and administrators (404 for anyone else)."""
    _member(session, actor, organisation_id)
    return view(organisation_id, current(session, organisation_id))


def logo(session: Session, *, actor: Actor, organisation_id: int) -> bytes:
    """The stored (re-encoded) PNG, for members and administrators; 404 when there is none."""
    _member(session, actor, organisation_id)
    row = current(session, organisation_id)
    if row is None or not row.logo_png:
        raise NotFound("No logo saved")
    return row.logo_png


def clean_address(value: Any) -> str | None:
    """The address as printed: control and format characters removed, lines trimmed (422 when too long)."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise Invalid("The address is a text", errors={"address": ["A text"]})
    kept = "".join(c for c in value.replace("\r\n", "\n")
                   if c == "\n" or not unicodedata.category(c).startswith("C"))
    lines = [" ".join(line.split()) for line in kept.split("\n")]
    lines = [line for line in lines if line]
    address = "\n".join(lines)
    if len(address) > MAX_ADDRESS or len(lines) > MAX_ADDRESS_LINES:
        raise Invalid("The address is too long", errors={"address": [
            f"At most {MAX_ADDRESS} characters on {MAX_ADDRESS_LINES} lines"]})
    return address or None


def clean_logo(data: bytes) -> tuple[bytes, int, int]:
    """The upload as a plain PNG (and its size in pixels), or 422 saying what is wrong with it."""
    if len(data) > MAX_BYTES:
        raise Invalid("The logo is too large", errors={"logo": [
            f"At most {MAX_BYTES // 1024} KB; this file has {len(data) // 1024} KB"]})
    expected = next((fmt for magic, fmt in SIGNATURES.items() if data.startswith(magic)), None)
    if expected is None:
        raise Invalid("The logo is not a PNG or JPEG image", errors={"logo": [
            "A PNG or JPEG image (SVG and other formats that can carry script are not accepted)"]})
    try:
        with Image.open(io.BytesIO(data), formats=[expected]) as image:
            width, height = image.size
            if width < 1 or height < 1 or width > MAX_SIDE or height > MAX_SIDE:
                raise Invalid("The logo is too large", errors={"logo": [
                    f"At most {MAX_SIDE} × {MAX_SIDE} pixels; this one is {width} × {height}"]})
            image.load()
            clean = image.convert("RGBA" if image.mode in ("RGBA", "LA", "P") else "RGB")
    except Image.DecompressionBombError as exc:  # Pillow's own bound, far above ours: refused the same way
        raise Invalid("The logo is too large", errors={"logo": [
            f"At most {MAX_SIDE} × {MAX_SIDE} pixels"]}) from exc
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as exc:
        raise Invalid("The logo cannot be read as an image", errors={"logo": [
            f"Not a readable {expected} image"]}) from exc
    out = io.BytesIO()
    clean.save(out, format="PNG", optimize=True)  # no metadata is copied: pixels only
    return out.getvalue(), width, height


def save(session: Session, *, actor: Actor, organisation_id: int, address: Any, logo_data: bytes | None = None,
         remove_logo: bool = False) -> Letterhead:
    """A new letterhead for the organisation: the address given, the logo uploaded (or the previous one,
    unless `remove_logo`). Members and administrators only (403 for a member of another organisation)."""
    organisation = session.get(Organisation, organisation_id)
    if organisation is None:
        raise NotFound(f"No organisation {organisation_id}")
    if not (actor.is_admin or organisation_id in actor.organisation_ids):
        raise Forbidden(f"Only members of {organisation.name} set its letterhead")
    cleaned = clean_address(address)
    previous = current(session, organisation_id)
    png: bytes | None
    if logo_data:
        png, width, height = clean_logo(logo_data)
    elif previous is not None and previous.logo_png and not remove_logo:
        png, width, height = previous.logo_png, previous.logo_width or 0, previous.logo_height or 0
    else:
        png, width, height = None, 0, 0
    row = Letterhead(organisation_id=organisation_id, address=cleaned, logo_png=png,
                     logo_sha256=hashlib.sha256(png).hexdigest() if png else None,
                     logo_width=width or None, logo_height=height or None, created_by=actor.user_id)
    session.add(row)
    session.flush()
    audit.record(session, actor_id=actor.user_id, action="letterhead.saved", organisation_id=organisation_id,
                 letterhead_id=row.id, logo_sha256=row.logo_sha256, logo_uploaded=bool(logo_data))
    return row
