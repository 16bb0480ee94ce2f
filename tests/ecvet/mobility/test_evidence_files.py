"""Evidence files on learning outcomes: the host's assessors and the learner attach them during the
mobility; only the mobility's parties that may read the assessment see them; the sheet prints each
file's SHA-256; refusals store nothing."""
from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy import func, select

from ecvet.documents import assessment as assessment_document
from ecvet.documents import pdf
from ecvet.mobility import assessment, evidence_files, transcript
from ecvet.mobility.models import EvidenceFile
from ecvet.partnership import attachments
from ecvet.partnership.attachments import ContentTooLargeError, UnsupportedMediaTypeError
from engine import config
from engine.clock import FrozenClock
from engine.db import Database
from engine.errors import Conflict, Invalid, NotFound
from engine.models import AuditEvent
from tests.support import mobility_driver
from tests.support.ecvet_factories import SIGNER, LiveMobility, make_live_mobility
from tests.support.uploads import PDF, PNG

T0 = datetime(2027, 1, 11, 9, 0, tzinfo=UTC)
OUTCOME = "Prepares cold starters to recipe"  # U1's outcome in the agreement (from the MoU)


@pytest.fixture
def live(db: Database, frozen: FrozenClock) -> LiveMobility:
    world = make_live_mobility(db, frozen)
    frozen.set(datetime(2027, 3, 20, 10, 0, tzinfo=UTC))
    return world


def attach(db: Database, live: LiveMobility, actor: Any = None, *, content: bytes = PDF, unit: Any = "U1",
           outcome: Any = OUTCOME, **extra: Any) -> int:
    with db.transaction() as s:
        row, _ = evidence_files.upload(s, actor=actor or live.hosting.actor, mobility_id=live.mobility_id, unit=unit,
                                       learning_outcome=outcome, filename="starter.pdf", content=content, **extra)
        return row.id


def count(db: Database) -> int:
    with db.transaction(write=False) as s:
        return s.scalar(select(func.count(EvidenceFile.id))) or 0


def sheet(unit: str) -> dict[str, Any]:
    return {"unit": unit, "criteria": f"Criteria of {unit}", "method": "observation", "date": "2027-03-18",
            "result": "achieved"}


def test_host_and_learner_attach_evidence_the_sheet_prints_its_hash(db: Database, live: LiveMobility) -> None:
    first = attach(db, live, description="Photo of the plated starter")
    attach(db, live, live.learner, content=PNG)
    with db.transaction() as s:
        listed = evidence_files.list_for(s, actor=live.learner, mobility_id=live.mobility_id)
        assert [(f["unit"], f["learning_outcome"], f["media_type"], f["sha256"]) for f in listed] == [
            ("U1", OUTCOME, "application/pdf", hashlib.sha256(PDF).hexdigest()),
            ("U1", OUTCOME, "image/png", hashlib.sha256(PNG).hexdigest())]
        assert listed[0]["description"] == "Photo of the plated starter"
        attachment, content = evidence_files.content(s, actor=live.hosting.actor, mobility_id=live.mobility_id,
                                                     file_id=first)
        assert content == PDF
        assert s.scalar(select(func.count(AuditEvent.id)).where(AuditEvent.action == "evidence_file.downloaded")) == 1
        sheet_ids = [r.id for r in assessment.record(s, actor=live.hosting.actor, mobility_id=live.mobility_id,
                                                     assessments=[sheet("U1"), sheet("U2")])]
        document = assessment_document.build(s, live.hosting.actor, sheet_ids[0])
        other = assessment_document.build(s, live.hosting.actor, sheet_ids[1])
    section = next(x for x in document.sections if x.heading == "Evidence files")
    assert section.table is not None
    assert [row[-1] for row in section.table.rows] == [hashlib.sha256(PDF).hexdigest(),
                                                       hashlib.sha256(PNG).hexdigest()]
    assert [f["sha256"] for f in document.data["evidence_files"]] == [attachment.sha256,
                                                                     hashlib.sha256(PNG).hexdigest()]
    assert all(x.heading != "Evidence files" for x in other.sections), "U2 has no evidence"
    assert pdf.render(document).startswith(b"%PDF-"), "the sheet with its evidence table renders as PDF"


def test_outsiders_and_the_home_side_before_release_do_not_see_the_evidence(db: Database, live: LiveMobility) -> None:
    file_id = attach(db, live)
    for actor in (live.outsider.actor, live.sending.actor):
        with db.transaction() as s, pytest.raises(NotFound):
            evidence_files.content(s, actor=actor, mobility_id=live.mobility_id, file_id=file_id)
        with db.transaction() as s, pytest.raises(NotFound):
            evidence_files.list_for(s, actor=actor, mobility_id=live.mobility_id)
    with db.transaction() as s, pytest.raises(NotFound):  # the outsider cannot add to a mobility it does not see
        evidence_files.upload(s, actor=live.outsider.actor, mobility_id=live.mobility_id, unit="U1",
                              learning_outcome=OUTCOME, filename="x.pdf", content=PDF)
    with db.transaction() as s, pytest.raises(NotFound):  # the right file id under another mobility's id
        evidence_files.content(s, actor=live.hosting.actor, mobility_id=live.mobility_id + 1000, file_id=file_id)
    assert count(db) == 1


@pytest.mark.parametrize(("target", "field"), [
    ({"unit": "U9"}, "unit"), ({"outcome": "Flambés desserts"}, "learning_outcome"),
    ({"description": "x" * 2001}, "description"),
])
def test_evidence_must_name_a_learning_outcome_of_the_agreement(
    db: Database, live: LiveMobility, target: dict[str, Any], field: str
) -> None:
    with pytest.raises(Invalid) as refused:
        attach(db, live, **target)
    assert field in refused.value.errors
    assert count(db) == 0


def test_too_large_or_not_a_document_is_refused(db: Database, live: LiveMobility) -> None:
    with pytest.raises(UnsupportedMediaTypeError):
        attach(db, live, content=b"#!/bin/sh\necho hi\n")
    config.use(config.changed(attachment_max_bytes=len(PDF) - 1))  # the root conftest restores the settings after
    with pytest.raises(ContentTooLargeError):
        attach(db, live)
    assert count(db) == 0


def test_once_the_transcript_is_issued_no_evidence_is_added(db: Database, live: LiveMobility) -> None:
    attach(db, live)
    with db.transaction() as s:
        assessment.record(s, actor=live.hosting.actor, mobility_id=live.mobility_id,
                          assessments=[sheet("U1"), sheet("U2")])
        assessment.acknowledge(s, actor=live.learner, mobility_id=live.mobility_id, agrees=True)
        transcript.issue(s, actor=live.hosting.actor, mobility_id=live.mobility_id, signer=SIGNER)
    with pytest.raises(Conflict):
        attach(db, live)
    with db.transaction() as s:  # released: the home side reads the evidence now
        transcript.mark_ready(s, actor=live.hosting.actor, mobility_id=live.mobility_id)
        assert len(evidence_files.list_for(s, actor=live.sending.actor, mobility_id=live.mobility_id)) == 1


def test_the_assessment_task_attaches_the_files_its_page_uploaded(db: Database, frozen: FrozenClock) -> None:
    sc = mobility_driver.start(db, frozen, "NL", "BE")
    run = sc.nominate("Daan de Vries", date(2004, 9, 1))
    run.prepare()
    run.parties_sign()
    mobility_driver.go_live(sc)
    frozen.set(datetime(2027, 4, 5, 10, 0, tzinfo=UTC))
    values = run.values("hosting", "checkpoint")
    run.complete("hosting", "checkpoint", {"la_hash": values["la_hash"], "decision": "assess"})
    with db.transaction() as s:  # what the task page does with a file chosen in the form: an attachment
        mine = attachments.upload(s, actor=sc.hosting.actor, filename="starter.png", content=PNG).id
        theirs = attachments.upload(s, actor=sc.outsider.actor, filename="other.pdf", content=PDF).id

    def sheets(evidence: list[int]) -> dict[str, Any]:
        return {"assessments": [
            {**sheet("U1"), "date": "2027-04-05", "outcomes": [
                {"learning_outcome": OUTCOME, "result": "achieved", "evidence_files": evidence}]},
            {**sheet("U2"), "date": "2027-04-05"}]}

    with pytest.raises(Invalid) as refused:  # another organisation's file cannot be claimed as evidence
        run.complete("hosting", "record_assessment", sheets([theirs]))
    assert "assessments.0.outcomes.0.evidence_files.0" in refused.value.errors
    assert count(db) == 0
    run.complete("hosting", "record_assessment", sheets([mine]))
    with db.transaction() as s:
        (listed,) = evidence_files.list_for(s, actor=run.learner, mobility_id=run.mobility_id)
    assert (listed["unit"], listed["learning_outcome"], listed["sha256"]) == (
        "U1", OUTCOME, hashlib.sha256(PNG).hexdigest())
