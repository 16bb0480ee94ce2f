"""/api/attachments: upload (type from the bytes, size limit), metadata and download for the few who may."""
from __future__ import annotations

import io
from typing import Any

import pytest
from sqlalchemy import func, select

from ecvet.partnership.models import Attachment
from engine import config
from tests.api.conftest import Caller, World, assert_problem, sign_in
from tests.support.factories import make_user
from tests.support.uploads import DOCX, ODT, PDF, PNG


def upload(caller: Caller, content: bytes, filename: str = "supplement.pdf",
           content_type: str = "application/pdf", **form: str) -> Any:
    data = {"file": (io.BytesIO(content), filename, content_type), **form}
    return caller.post("/api/attachments", data=data, content_type="multipart/form-data")


def count(world: World) -> int:
    with world.db.transaction(write=False) as s:
        return s.scalar(select(func.count(Attachment.id))) or 0


def test_upload_then_read_and_download(world: World) -> None:
    response = upload(world.host, PDF, filename="Europass CS – Cocinero.pdf", content_type="text/plain")
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert (body["media_type"], body["size"], body["organisation_id"], body["filename"]) == (
        "application/pdf", len(PDF), world.hosting_org, "Europass CS – Cocinero.pdf")
    assert len(body["sha256"]) == 64
    assert body["uploaded_by"] == world.host.person.id

    colleague = sign_in(world.client, make_user(world.db, organisation_ids=[world.hosting_org]))
    for caller in (world.host, colleague, world.admin):
        assert caller.get(f"/api/attachments/{body['id']}").get_json()["sha256"] == body["sha256"]
    download = colleague.get(f"/api/attachments/{body['id']}/content")
    assert download.status_code == 200
    assert download.data == PDF
    assert download.headers["Content-Type"] == "application/pdf"
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    disposition = download.headers["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert "filename*=UTF-8''Europass%20CS%20%E2%80%93%20Cocinero.pdf" \
        in disposition
    assert "no-store" in download.headers["Cache-Control"]


@pytest.mark.parametrize(("content", "media_type"), [
    (PNG, "image/png"), (ODT, "application/vnd.oasis.opendocument.text"),
    (DOCX, "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
])
def test_other_accepted_types(world: World, content: bytes, media_type: str) -> None:
    response = upload(world.sender, content, filename="file.bin", content_type="application/octet-stream")
    assert response.status_code == 201
    assert response.get_json()["media_type"] == media_type


def test_outsiders_get_404(world: World) -> None:
    attachment_id = upload(world.sender, PDF).get_json()["id"]
    assert_problem(world.outsider.get(f"/api/attachments/{attachment_id}"), 404)
    assert_problem(world.outsider.get(f"/api/attachments/{attachment_id}/content"), 404)
    # Not referenced by a partnership record yet: only the uploader's organisation sees it.
    assert_problem(world.host.get(f"/api/attachments/{attachment_id}"), 404)
    assert_problem(world.sender.get("/api/attachments/999999"), 404)


def test_unknown_types_and_oversized_files_are_refused_and_nothing_is_stored(world: World) -> None:
    body = assert_problem(upload(world.sender, b"<html><script>alert(1)</script></html>", filename="cs.pdf"), 415)
    assert "PDF, PNG, JPEG, ODT and DOCX" in body["detail"]
    assert_problem(upload(world.sender, b"MZ\x90\x00 an executable", filename="cs.docx",
                          content_type="application/vnd.openxmlformats-officedocument.wordprocessingml.document"), 415)
    config.use(config.changed(attachment_max_bytes=1000))  # the root conftest restores the settings after
    body = assert_problem(upload(world.sender, PDF + b"0" * 1000), 413)
    assert body["errors"] == {"file": ["At most 1000 bytes"]}
    assert count(world) == 0


def test_bad_requests(world: World) -> None:
    assert_problem(world.sender.post("/api/attachments", data={}, content_type="multipart/form-data"), 422)
    assert_problem(upload(world.sender, PDF, organisation_id="abc"), 422)
    assert_problem(upload(world.sender, PDF, organisation_id=str(world.hosting_org)), 403)
    assert_problem(upload(world.sender, b""), 422)
    response = world.client.post("/api/attachments", data={"file": (io.BytesIO(PDF), "x.pdf")},
                                 content_type="multipart/form-data")
    assert_problem(response, 401)
    assert count(world) == 0
