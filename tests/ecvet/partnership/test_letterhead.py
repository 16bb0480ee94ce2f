"""An organisation's letterhead (ecvet/partnership/letterhead.py): members save the address and a logo;
the logo is PNG or JPEG by content, bounded in bytes and pixels, and stored only as Pillow re-encoded it
(nothing of the upload's metadata or any script survives); everything else is a 422 naming the field."""
from __future__ import annotations

import io

import pytest
from PIL import Image

from ecvet.partnership import letterhead
from engine.db import Database
from engine.errors import Forbidden, Invalid, NotFound
from engine.models import AuditEvent
from tests.support import images
from tests.support.ecvet_factories import make_party


def refused(db: Database, data: bytes) -> list[str]:
    school = make_party(db, "DE", "Berufskolleg Rhein")
    with db.transaction() as s, pytest.raises(Invalid) as error:
        letterhead.save(s, actor=school.actor, organisation_id=school.org_id, address="Köln", logo_data=data)
    with db.transaction(write=False) as s:
        assert letterhead.current(s, school.org_id) is None  # nothing half-applied
    return (error.value.errors or {})["logo"]


def test_a_png_is_stored_re_encoded_without_its_metadata(db: Database) -> None:
    school = make_party(db, "DE", "Berufskolleg Rhein")
    upload = images.png(120, 40, text={"Comment": "<script>alert(1)</script>"})
    with db.transaction() as s:
        letterhead.save(s, actor=school.actor, organisation_id=school.org_id,
                        address="Berufskolleg Rhein\r\nRheinallee 1\x00\u202e\n\n50667 Köln", logo_data=upload)
    with db.transaction(write=False) as s:
        saved = letterhead.get(s, actor=school.actor, organisation_id=school.org_id)
        stored = letterhead.logo(s, actor=school.actor, organisation_id=school.org_id)
        actions = [e.action for e in s.query(AuditEvent)]
    assert saved["address"] == "Berufskolleg Rhein\nRheinallee 1\n50667 Köln"  # control characters gone
    assert (saved["has_logo"], saved["logo_width"], saved["logo_height"]) == (True, 120, 40)
    assert stored.startswith(b"\x89PNG")
    assert b"script" not in stored
    assert b"tEXt" not in stored
    assert Image.open(io.BytesIO(stored)).size == (120, 40)
    assert "letterhead.saved" in actions


def test_a_jpeg_becomes_a_png_and_a_later_save_keeps_the_logo(db: Database) -> None:
    school = make_party(db, "DE", "Berufskolleg Rhein")
    with db.transaction() as s:
        letterhead.save(s, actor=school.actor, organisation_id=school.org_id, address="Köln",
                        logo_data=images.jpeg(comment=b"<svg onload=alert(1)>"))
    with db.transaction() as s:
        letterhead.save(s, actor=school.actor, organisation_id=school.org_id, address="Bonn")
    with db.transaction(write=False) as s:
        row = letterhead.current(s, school.org_id)
        assert row is not None
        assert (row.address, row.logo_png is not None) == ("Bonn", True)
        assert row.logo_png is not None
        assert row.logo_png.startswith(b"\x89PNG")
        assert b"onload" not in row.logo_png
    with db.transaction() as s:
        letterhead.save(s, actor=school.actor, organisation_id=school.org_id, address="Bonn", remove_logo=True)
    with db.transaction(write=False) as s, pytest.raises(NotFound):
        letterhead.logo(s, actor=school.actor, organisation_id=school.org_id)


def test_a_text_file_is_not_an_image(db: Database) -> None:
    assert "PNG or JPEG" in refused(db, b"just some text, named logo.png")[0]


def test_an_svg_with_script_is_refused(db: Database) -> None:
    assert "SVG" in refused(db, images.SVG_WITH_SCRIPT)[0]


def test_a_polyglot_with_png_magic_is_refused(db: Database) -> None:
    assert "readable" in refused(db, images.png_header_then_html())[0]


def test_a_huge_file_is_refused(db: Database) -> None:
    assert "KB" in refused(db, images.png() + b"\x00" * (letterhead.MAX_BYTES + 1))[0]


def test_a_header_claiming_huge_dimensions_is_refused_before_decoding(db: Database) -> None:
    assert "pixels" in refused(db, images.png_claiming(50_000, 50_000))[0]  # Pillow's bomb guard
    assert "3000 × 10" in refused(db, images.png_claiming(3000, 10))[0]  # ours, from the header alone


def test_only_members_set_it_and_only_members_read_it(db: Database) -> None:
    school = make_party(db, "DE", "Berufskolleg Rhein")
    other = make_party(db, "ES", "Hotel Sol")
    with db.transaction() as s, pytest.raises(Forbidden):
        letterhead.save(s, actor=other.actor, organisation_id=school.org_id, address="Fake street 1")
    with db.transaction(write=False) as s, pytest.raises(NotFound):
        letterhead.get(s, actor=other.actor, organisation_id=school.org_id)
    with db.transaction() as s, pytest.raises(Invalid):
        letterhead.save(s, actor=school.actor, organisation_id=school.org_id, address="x" * 501)
