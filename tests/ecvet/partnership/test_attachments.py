"""ecvet.partnership.attachments: types recognised from the bytes, a size limit, stored once, visible to few."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from ecvet.partnership import attachments
from ecvet.partnership.models import Attachment, AttachmentBlob
from engine.db import Database
from engine.errors import Forbidden, Invalid, NotFound
from engine.parties import Actor
from tests.support.ecvet_factories import make_party
from tests.support.engine import actor_for
from tests.support.factories import make_org, make_user
from tests.support.settings import environment
from tests.support.uploads import DOCX, JPEG, ODT, PDF, PNG, package


@pytest.mark.parametrize(("content", "expected"), [
    (PDF, attachments.PDF), (PNG, attachments.PNG), (JPEG, attachments.JPEG), (ODT, attachments.ODT),
    (DOCX, attachments.DOCX),
    (b"plain text that claims to be a PDF", None),
    (b"<html><script>alert(1)</script></html>", None),
    (b"GIF89a" + b"\x00" * 10, None),
    (package([("mimetype", b"application/vnd.oasis.opendocument.spreadsheet")]), None),  # ODS, not ODT
    (package([("notes.txt", b"hello")]), None),  # some other ZIP
    (b"PK\x03\x04 truncated", None),
])
def test_the_type_is_recognised_from_the_content(content: bytes, expected: str | None) -> None:
    assert attachments.sniff(content) == expected


@pytest.mark.parametrize(("name", "expected"), [
    ("../../etc/passwd.pdf", "passwd.pdf"),
    ("C:\\Users\\anna\\Europass CS – Koch.pdf", "Europass CS – Koch.pdf"),
    ("line\nbreak\x00.pdf", "linebreak.pdf"),
    ("", "attachment.pdf"),
    ("..", "attachment.pdf"),
    ("a" * 300 + ".pdf", "a" * 251 + ".pdf"),
])
def test_file_names_are_made_safe(name: str, expected: str) -> None:
    assert attachments.clean_filename(name, attachments.PDF) == expected


def test_upload_stores_the_bytes_once_and_records_who_uploaded(db: Database) -> None:
    school = make_party(db, "DE", "School")
    colleague = actor_for(db, make_user(db, organisation_ids=[school.org_id]).id)
    with db.transaction() as s:
        first = attachments.upload(s, actor=school.actor, filename="cs.pdf", content=PDF)
        second = attachments.upload(s, actor=colleague, filename="copy.pdf", content=PDF)
    assert (first.media_type, first.size, first.organisation_id, first.uploaded_by) == (
        attachments.PDF, len(PDF), school.org_id, school.user_id)
    assert first.id != second.id
    assert first.sha256 == second.sha256
    with db.transaction(write=False) as s:
        assert s.scalar(select(func.count(AttachmentBlob.sha256))) == 1
        attachment, content = attachments.content(s, actor=colleague, attachment_id=first.id)
        assert content == PDF
        assert attachment.filename == "cs.pdf"


def test_refused_uploads_store_nothing(db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    school = make_party(db, "DE", "School")
    environment(monkeypatch, ECVET_ATTACHMENT_MAX_BYTES="100")
    with pytest.raises(attachments.ContentTooLargeError) as too_large, db.transaction() as s:
        attachments.upload(s, actor=school.actor, filename="big.pdf", content=PDF + b"x" * 100)
    assert too_large.value.status == 413
    with pytest.raises(attachments.UnsupportedMediaTypeError) as unsupported, db.transaction() as s:
        attachments.upload(s, actor=school.actor, filename="evil.pdf", content=b"<html>not a pdf</html>")
    assert unsupported.value.status == 415
    with pytest.raises(Invalid), db.transaction() as s:
        attachments.upload(s, actor=school.actor, filename="empty.pdf", content=b"")
    with db.transaction(write=False) as s:
        assert s.scalar(select(func.count(Attachment.id))) == 0
        assert s.scalar(select(func.count(AttachmentBlob.sha256))) == 0


def test_the_uploading_organisation_must_be_ones_own(db: Database) -> None:
    one, two, other = make_org(db), make_org(db), make_org(db)
    member = actor_for(db, make_user(db, organisation_ids=[one.id, two.id]).id)
    with pytest.raises(Invalid) as which, db.transaction() as s:
        attachments.upload(s, actor=member, filename="cs.pdf", content=PDF)
    assert "organisation_id" in which.value.errors
    with pytest.raises(Forbidden), db.transaction() as s:
        attachments.upload(s, actor=member, filename="cs.pdf", content=PDF, organisation_id=other.id)
    with db.transaction() as s:
        assert attachments.upload(s, actor=member, filename="cs.pdf", content=PDF,
                                  organisation_id=two.id).organisation_id == two.id


def test_visible_to_the_uploaders_organisation_and_admins_only_until_referenced(db: Database) -> None:
    school, outsider = make_party(db, "DE", "School"), make_party(db, "FR", "Outsider")
    admin: Actor = actor_for(db, make_user(db, is_admin=True).id)
    with db.transaction() as s:
        attachment_id = attachments.upload(s, actor=school.actor, filename="cs.pdf", content=PDF).id
    with db.transaction(write=False) as s:
        assert attachments.get(s, actor=admin, attachment_id=attachment_id).id == attachment_id
        with pytest.raises(NotFound):
            attachments.get(s, actor=outsider.actor, attachment_id=attachment_id)
        with pytest.raises(NotFound):
            attachments.content(s, actor=outsider.actor, attachment_id=attachment_id)
        assert attachments.check_usable(s, actor=outsider.actor, ids=[("a", attachment_id), ("b", 999999),
                                                                       ("c", "7"), ("d", True)]) == {
            "a": [f"No attachment {attachment_id}"], "b": ["No attachment 999999"],
            "c": ["An attachment id (upload the file first: POST /api/attachments)"],
            "d": ["An attachment id (upload the file first: POST /api/attachments)"],
        }
        assert attachments.check_usable(s, actor=school.actor, ids=[("a", attachment_id)]) == {}


def test_attachment_ids_are_found_by_the_schema_format() -> None:
    schema = {"type": "object", "properties": {
        "files": {"type": "array", "items": {"type": "integer", "format": "attachment-id"}},
        "supplements": {"type": "array", "items": {"type": "object", "properties": {
            "attachment_id": {"type": "integer", "format": "attachment-id"}, "url": {"type": "string"}}}},
        "count": {"type": "integer"},
    }}
    value = {"files": [3, 4], "supplements": [{"url": "x"}, {"attachment_id": 9}], "count": 5}
    assert attachments.ids_in(value, schema) == [("files.0", 3), ("files.1", 4), ("supplements.1.attachment_id", 9)]
