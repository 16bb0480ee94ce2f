"""Documents built from the records: what was agreed (names, units, points, hashes, signatures and whether
they count), who may read them, references found in process data, and a stable JSON export."""
from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

import ecvet.documents.service
import ecvet.mobility.workflow
import ecvet.partnership.workflow
import ecvet.review.service
from ecvet.documents import model
from ecvet.documents.model import Document, DocumentRef, Section
from ecvet.mobility import learning_agreement, transcript
from ecvet.mobility.models import LearningAgreement
from ecvet.partnership import approvals, mou
from ecvet.review.models import ActionPlan
from engine import instances
from engine.actions import ActionContext
from engine.clock import FrozenClock
from engine.config import ROOT
from engine.db import Database
from engine.errors import NotFound
from engine.parties import Actor
from tests.support.ecvet_factories import SIGNER, make_party, mou_content, register
from tests.support.ecvet_worlds import (
    BULGARIAN_HOTEL,
    CZECH_SCHOOL,
    DANISH_HOTEL,
    GREEK_HOTEL,
    LEARNER_NAME,
    LIFECYCLE_LEARNER,
    LifecycleWorld,
    RecordsWorld,
    make_lifecycle_world,
    make_records_world,
    make_review,
)
from tests.support.engine import actor_for
from tests.support.engine import deploy as deploy_files
from tests.support.factories import make_user

T0 = datetime(2027, 1, 11, 9, 0, tzinfo=UTC)
FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "documents"


@pytest.fixture
def world(db: Database, frozen: FrozenClock) -> RecordsWorld:
    return make_records_world(db, frozen)


def build(db: Database, actor: Actor, kind: str, record_id: int, version: int | None = None) -> Document:
    with db.transaction(write=False) as s:
        return ecvet.documents.service.build(s, actor=actor, kind=kind, record_id=record_id, version=version)


def section(document: Document, heading: str) -> Section:
    found = [s for s in document.sections if s.heading == heading]
    assert len(found) == 1, [s.heading for s in document.sections]
    return found[0]


def fields(document: Document, heading: str) -> dict[str, str]:
    return dict(section(document, heading).fields)


# --- MoU -------------------------------------------------------------------------------------------


def test_mou_document_is_the_approved_text_with_the_signatures_that_count(db: Database, world: RecordsWorld) -> None:
    doc = build(db, world.sending.actor, "mou", world.mou_id)
    assert doc.title == "Memorandum of Understanding"
    assert doc.status == "active"
    assert (doc.reference.code, doc.reference.version) == ("MoU-2027-001", 2)
    assert doc.reference.content_hash == doc.content_hash == world.mou_hashes[1]
    assert doc.reference.hash_basis == "record"
    assert GREEK_HOTEL in (doc.subtitle or "")
    assert BULGARIAN_HOTEL in (doc.subtitle or "")
    assert fields(doc, "Signing organisation 2")["Name"] == GREEK_HOTEL
    assert fields(doc, "Signing organisation 2")["Contact person"] == "Γιώργος Παπαδόπουλος"
    assert fields(doc, "Signing organisation 3")["Country"] == "BG"
    qualification = section(doc, "Qualification 1: Cook")
    assert dict(qualification.fields)["ECVET points of the units concerned"] == "16"
    assert qualification.table is not None
    assert qualification.table.rows == [["U1", "Preparing cold dishes", "4", "12", "—", "—"],
                                        ["U2", "Hygiene", "4", "4", "—", "—"]]
    assert section(doc, "Evaluation and review").text == "Review meeting of the partners every spring"
    required = section(doc, "Approvals this version needs").table
    assert required is not None
    assert [row[1:] for row in required.rows] == [
        ["Partner", "explicit", "approved"], ["Partner", "explicit", "approved"], ["Partner", "explicit", "approved"],
        ["Competent institution", "explicit", "approved"],
    ]
    # The school's approval of version 1 stays as evidence but does not count for version 2.
    assert [(s.version, s.counts, s.name) for s in doc.signatures] == [
        (1, False, "Anna Schmidt"), (2, True, "Anna Schmidt"), (2, True, "Γιώργος Παπαδόπουλος"),
        (2, True, "Иван Петров"), (2, True, "Jörg Müller"),
    ]
    assert [s.content_hash for s in doc.signatures] == [world.mou_hashes[0]] + [world.mou_hashes[1]] * 4
    chamber = doc.signatures[-1]
    assert chamber.party == "Competent institution: IHK Köln (DE)"
    assert (chamber.position, chamber.email, chamber.mode) == ("Ausbildungsberater", "jm@ihk.example", "explicit")
    assert chamber.signed_at == datetime(2027, 1, 11, 15, 0, tzinfo=UTC)
    assert doc.signatures[2].party == f"Partner: {GREEK_HOTEL} (GR)"


def test_an_earlier_mou_version_shows_its_own_text_and_signatures(db: Database, world: RecordsWorld) -> None:
    doc = build(db, world.hosting_gr.actor, "mou", world.mou_id, version=1)
    assert doc.reference.version == 1
    assert doc.content_hash == world.mou_hashes[0]
    assert doc.status == "superseded by version 2"
    assert section(doc, "Evaluation and review").text == "Yearly review meeting of the partners"
    assert [(s.version, s.counts) for s in doc.signatures] == [(1, True)] + [(2, False)] * 4
    with pytest.raises(NotFound, match="no version 3"):
        build(db, world.sending.actor, "mou", world.mou_id, version=3)


def test_mou_is_readable_by_its_parties_and_admins_only(db: Database, world: RecordsWorld) -> None:
    for party in (world.sending, world.hosting_gr, world.hosting_bg, world.chamber):
        assert build(db, party.actor, "mou", world.mou_id).record_id == world.mou_id
    admin = actor_for(db, make_user(db, is_admin=True).id)
    assert build(db, admin, "mou", world.mou_id).record_id == world.mou_id
    with pytest.raises(NotFound):
        build(db, world.outsider.actor, "mou", world.mou_id)
    with pytest.raises(NotFound):
        build(db, world.mobility.learner, "mou", world.mou_id)
    with pytest.raises(NotFound):
        build(db, world.sending.actor, "mou", world.mou_id + 1000)


# --- Learning Agreement ----------------------------------------------------------------------------


def test_la_document_shows_learner_units_points_changes_and_signatures(db: Database, world: RecordsWorld) -> None:
    doc = build(db, world.sending.actor, "learning-agreement", world.la_id)
    assert doc.title == "Learning Agreement"
    assert doc.status == "signing"
    assert (doc.reference.version, doc.content_hash) == (2, world.la_hashes[1])
    assert doc.subtitle == f"{LEARNER_NAME} · Cook · Berufskolleg Köln (DE) → {BULGARIAN_HOTEL} (BG)"
    participants = fields(doc, "Participants")
    assert participants["Learner"] == LEARNER_NAME
    assert participants["Date of birth"] == "2005-05-05"
    assert participants["Hosting organisation"] == f"{BULGARIAN_HOTEL} (BG)"
    assert participants["Under the MoU"] == "MoU-2027-001"
    assert "Parent or guardian" not in participants  # an adult: no guardian on the agreement
    units = section(doc, "Units of learning outcomes to be achieved abroad")
    assert dict(units.fields) == {"Total ECVET points": "12"}
    assert units.table is not None
    assert units.table.rows == [["U1", "Preparing cold dishes", "12", "Prepares cold starters to recipe", "—",
                                 "Hotel kitchen, Sofia", "Garde-manger station"]]
    assessment = section(doc, "Assessment")
    assert assessment.table is not None
    assert assessment.table.rows == [["Мария Иванова", BULGARIAN_HOTEL, "chef"]]
    changes = section(doc, "Changes made by version 2").table
    assert changes is not None
    assert changes.rows == [["U2", "removed", "Hygiene is taught at home this year"]]
    assert changes.columns[0] == "Unit or part of the text"
    assert fields(doc, "Signing")["Next to sign"] == "Sending organisation"
    assert [(s.party, s.version, s.counts) for s in doc.signatures] == [
        ("Learner", 1, False), ("Sending organisation: Berufskolleg Köln (DE)", 1, False),
        (f"Hosting organisation: {BULGARIAN_HOTEL} (BG)", 1, False), ("Learner", 2, True),
    ]
    assert doc.signatures[2].name == "Иван Петров"
    assert doc.signatures[2].position == "Управител"
    assert doc.data["learner"]["name"] == LEARNER_NAME


def test_la_version_1_shows_both_units_and_all_three_signatures_counting(db: Database, world: RecordsWorld) -> None:
    doc = build(db, world.mobility.learner, "learning-agreement", world.la_id, version=1)
    assert (doc.reference.version, doc.content_hash) == (1, world.la_hashes[0])
    assert doc.status == "superseded by version 2"
    units = section(doc, "Units of learning outcomes to be achieved abroad")
    assert dict(units.fields) == {"Total ECVET points": "16"}
    assert [(s.version, s.counts) for s in doc.signatures] == [(1, True)] * 3 + [(2, False)]
    assert not [s for s in doc.sections if s.heading.startswith("Changes")]
    with pytest.raises(NotFound):
        build(db, world.sending.actor, "learning-agreement", world.la_id, version=9)


def test_learners_personal_data_is_for_the_parties_of_their_mobility(db: Database, world: RecordsWorld) -> None:
    for actor in (world.sending.actor, world.hosting_bg.actor, world.mobility.learner):
        assert build(db, actor, "learning-agreement", world.la_id).data["learner"]["name"] == LEARNER_NAME
    # A partner of the MoU that does not host this learner, the chamber (it approves MoUs, not LAs here),
    # and anyone else: no such document.
    for actor in (world.hosting_gr.actor, world.chamber.actor, world.outsider.actor):
        with pytest.raises(NotFound):
            build(db, actor, "learning-agreement", world.la_id)


# --- kinds ---------------------------------------------------------------------------------------------


def test_unknown_kinds_are_not_found(db: Database, world: RecordsWorld) -> None:
    with pytest.raises(NotFound, match="No document kind"):
        build(db, world.sending.actor, "passport", world.mou_id)
    assert set(model.KIND_TITLES) == set(model.KINDS)
    assert set(ecvet.documents.service.BUILDERS) == set(model.KINDS)  # every kind of the lifecycle is built


# --- references in process data ------------------------------------------------------------------------


def test_references_in_process_data_follow_the_well_known_keys() -> None:
    data: dict[str, Any] = {"mou_id": 3, "la_id": 5, "assessment_ids": [1, 2, 2, True, "7", -1], "transcript_id": None,
                            "action_plan_id": 4, "mou_hash": "abc", "other_id": 9}
    refs = ecvet.documents.service.references_in(data)
    assert refs == [
        DocumentRef("mou", 3, "Memorandum of Understanding 3"),
        DocumentRef("learning-agreement", 5, "Learning Agreement 5"),
        DocumentRef("assessment-sheet", 1, "Assessment sheet 1"),
        DocumentRef("assessment-sheet", 2, "Assessment sheet 2"),
        DocumentRef("action-plan", 4, "Action plan 4"),
    ]
    assert ecvet.documents.service.references_in({}) == []
    assert set(ecvet.documents.service.REFERENCE_KEYS.values()) <= set(model.KINDS)


def test_the_record_actions_return_keys_that_references_in_knows(db: Database, world: RecordsWorld) -> None:
    """The mapping follows what the task actions really put into process data."""
    with db.transaction(write=False) as s:
        context = ActionContext(s, world.sending.actor, None, None, {})  # type: ignore[arg-type]
        data = {**ecvet.partnership.workflow.references(context, world.mou_id),
                **ecvet.mobility.workflow.la_references(context, world.la_id)}
    assert [(r.kind, r.record_id) for r in ecvet.documents.service.references_in(data)] == [
        ("mou", world.mou_id), ("learning-agreement", world.la_id)]


def test_instance_documents_are_those_the_caller_may_read(db: Database, world: RecordsWorld) -> None:
    deploy_files(db, {"two_lane_review.bpmn": (ROOT / "processes" / "two_lane_review.bpmn").read_bytes()})
    with db.transaction() as s:
        instance = instances.start(s, actor=world.sending.actor, process_key="two_lane_review",
                                   variables={"mou_id": world.mou_id, "la_id": world.la_id},
                                   parties={"sending": world.sending.org_id, "hosting": world.hosting_gr.org_id})
        instance_id = instance.id

    def refs(actor: Actor) -> list[DocumentRef]:
        with db.transaction(write=False) as s:
            return ecvet.documents.service.for_instance(s, actor=actor, instance_id=instance_id)

    mine = refs(world.sending.actor)
    assert [(r.kind, r.record_id) for r in mine] == [("mou", world.mou_id), ("learning-agreement", world.la_id)]
    assert mine[1].title == f"Learning Agreement: {LEARNER_NAME} · Cook · Berufskolleg Köln (DE) → " \
                            f"{BULGARIAN_HOTEL} (BG)"
    # The Greek hotel is a party of this instance and of the MoU, not of the learner's mobility.
    assert [(r.kind, r.record_id) for r in refs(world.hosting_gr.actor)] == [("mou", world.mou_id)]
    with pytest.raises(NotFound):
        refs(world.outsider.actor)


# --- JSON export ---------------------------------------------------------------------------------------


def test_json_export_carries_schema_data_and_hash(db: Database, world: RecordsWorld) -> None:
    doc = build(db, world.sending.actor, "learning-agreement", world.la_id)
    exported = doc.as_json()
    assert exported["schema"] == "ecvet-flow/document/learning-agreement/v1"
    assert exported["content_hash"] == world.la_hashes[1]
    assert exported["data"]["content_hash"] == world.la_hashes[1]
    assert exported["data"]["content"]["units"][0]["code"] == "U1"
    assert exported["data"]["learner"]["date_of_birth"] == "2005-05-05"
    assert [s["counts"] for s in exported["signatures"]] == [False, False, False, True]
    assert json.loads(json.dumps(exported)) == exported  # JSON types only


def test_json_export_is_stable(db: Database, world: RecordsWorld) -> None:
    """The same records give the same JSON, byte for byte, and the MoU export keeps its agreed shape
    (tests/fixtures/documents/mou.json; regenerate it deliberately when the shape changes, e.g. fields added)."""
    first = build(db, world.chamber.actor, "mou", world.mou_id).as_json()
    again = build(db, world.sending.actor, "mou", world.mou_id).as_json()
    assert json.dumps(first, sort_keys=True) == json.dumps(again, sort_keys=True)
    expected = json.loads((FIXTURES / "mou.json").read_text(encoding="utf-8"))
    assert first == expected


# --- mobility records: assessment sheets, transcript, validation and recognition ----------------------


def lifecycle(db: Database, frozen: FrozenClock, stage: str = "implications") -> LifecycleWorld:
    return make_lifecycle_world(db, frozen, stage)


def test_assessment_sheet_shows_the_assessment_and_the_learners_acknowledgement(
    db: Database, frozen: FrozenClock
) -> None:
    life = lifecycle(db, frozen, "acknowledged")
    first_u1, first_u2, second_u2 = life.sheet_ids
    doc = build(db, life.hosting.actor, "assessment-sheet", first_u1)
    assert doc.title == "Assessment sheet"
    assert doc.status == "current"
    assert doc.subtitle == f"{LIFECYCLE_LEARNER} · Unit U1 Preparing cold dishes · {DANISH_HOTEL} (DK)"
    assessed = fields(doc, "Assessment")
    assert (assessed["Criteria"], assessed["Method"], assessed["Assessor"], assessed["Date"], assessed["Result"],
            assessed["Grade"], assessed["Evidence"]) == (
        "Criteria of U1", "practical task", "Søren Ørsted", "2027-03-18", "achieved", "sehr gut",
        "Photos of the buffet")
    assert fields(doc, "Unit of learning outcomes")["ECVET points"] == "12"
    acknowledgement = fields(doc, "Learner's acknowledgement")
    assert acknowledgement["Agrees with the assessment"] == "no"
    assert acknowledgement["Learner's comment on this unit"] == "—", "a comment on the whole is not one on U1"
    assert acknowledgement["Learner's comment on the whole assessment"].startswith("U2 took two attempts")
    # Signed by the hotel's member who recorded it (her account and profile), acknowledged by the learner.
    assert [(s.party, s.name, s.position, s.place, s.counts) for s in doc.signatures] == [
        (f"Hosting organisation: {DANISH_HOTEL} (DK)", "Søren Ørsted", "Køkkenchef", "Aarhus", True),
        ("Learner (acknowledgement)", LIFECYCLE_LEARNER, None, None, True)]
    assert doc.reference.hash_basis == "document"
    assert doc.content_hash == model.data_hash(doc.data)

    replaced = build(db, life.learner, "assessment-sheet", first_u2)
    assert replaced.status == f"replaced by AS-{second_u2}"
    assert fields(replaced, "Assessment")["Result"] == "not achieved"
    assert fields(replaced, "Corrections") == {"Replaces sheet": "—", "Replaced by sheet": f"AS-{second_u2}"}
    # Signed by the hotel when recorded; the learner acknowledged the current sheets only.
    assert [s.party for s in replaced.signatures] == [f"Hosting organisation: {DANISH_HOTEL} (DK)"]
    current = build(db, life.learner, "assessment-sheet", second_u2)
    assert fields(current, "Corrections")["Replaces sheet"] == f"AS-{first_u2}"


def test_transcript_shows_results_points_and_the_hosts_signature(db: Database, frozen: FrozenClock) -> None:
    life = lifecycle(db, frozen, "ready")
    assert life.transcript_id is not None
    doc = build(db, life.sending.actor, "transcript", life.transcript_id)
    assert doc.title == "Learner's Personal Transcript"
    assert doc.status == "ready for recognition"
    assert (doc.reference.code, doc.content_hash, doc.reference.hash_basis) == (
        f"LPT-{life.transcript_id}", life.transcript_hash, "record")
    results = section(doc, "Results per unit")
    assert dict(results.fields) == {"ECVET points achieved": "16"}
    assert results.table is not None
    assert [row[:8] for row in results.table.rows] == [
        ["U1", "Preparing cold dishes", "practical task", "2027-03-18", "Søren Ørsted (Køkkenchef)", "achieved",
         "sehr gut", "12"],
        ["U2", "Hygiene", "practical task", "2027-04-01", "Søren Ørsted (Køkkenchef)", "achieved", "—", "4"],
    ]
    # The learner disagreed with one comment on the whole: printed once, not as a remark on every unit.
    remarks = section(doc, "Learner's remarks")
    assert dict(remarks.fields)["Learner's comment on the whole assessment"].startswith("U2 took two attempts")
    assert remarks.table is not None
    assert [row[2] for row in remarks.table.rows] == ["—", "—"]
    with db.transaction(write=False) as s:
        la_hash = learning_agreement.current_version(s, s.get_one(LearningAgreement, life.la_id)).content_hash
    assert fields(doc, "Learning Agreement")["Text the results refer to (SHA-256)"] == la_hash
    assert [(s.party, s.name, s.position, s.content_hash, s.counts) for s in doc.signatures] == [
        (f"Hosting organisation: {DANISH_HOTEL} (DK)", "Søren Ørsted", "Køkkenchef", life.transcript_hash, True)]


def test_home_side_reads_transcript_and_sheets_once_ready_for_recognition(db: Database, frozen: FrozenClock) -> None:
    life = lifecycle(db, frozen, "issued")
    assert life.transcript_id is not None
    for actor in (life.hosting.actor, life.learner):
        assert build(db, actor, "transcript", life.transcript_id).status == "issued"
        assert build(db, actor, "assessment-sheet", life.sheet_ids[0]).record_id == life.sheet_ids[0]
    for actor in (life.sending.actor, life.outsider.actor):
        with pytest.raises(NotFound):
            build(db, actor, "transcript", life.transcript_id)
        with pytest.raises(NotFound):
            build(db, actor, "assessment-sheet", life.sheet_ids[0])
    with db.transaction() as s:
        transcript.mark_ready(s, actor=life.hosting.actor, mobility_id=life.mobility_id)
    assert build(db, life.sending.actor, "transcript", life.transcript_id).status == "ready for recognition"
    assert build(db, life.sending.actor, "assessment-sheet", life.sheet_ids[0]).record_id == life.sheet_ids[0]
    with pytest.raises(NotFound):
        build(db, life.outsider.actor, "transcript", life.transcript_id)


def test_recognition_record_shows_validation_recognition_credits_and_implications(
    db: Database, frozen: FrozenClock
) -> None:
    life = lifecycle(db, frozen)
    assert life.recognition_id is not None
    doc = build(db, life.hosting.actor, "recognition-record", life.recognition_id)
    assert doc.title == "Validation and recognition record"
    assert doc.status == "recognized"
    assert fields(doc, "Transcript decided on") == {
        "Learner's Personal Transcript": f"LPT-{life.transcript_id}", "Its SHA-256": life.transcript_hash,
        "Still the transcript issued": "yes"}
    validation = section(doc, "Validation").table
    assert validation is not None
    assert [row[:3] for row in validation.rows] == [["U1", "validated", "—"],
                                                    ["U2", "partly validated", "Cold chain only"]]
    recognised = section(doc, "Recognition")
    assert dict(recognised.fields)["Recognised by"] == f"sending organisation: {CZECH_SCHOOL} (CZ)"
    assert recognised.table is not None
    assert [row[:5] for row in recognised.table.rows] == [
        ["U1", "Preparing cold dishes", "validated", "yes", "12"], ["U2", "Hygiene", "partly validated", "yes", "2"]]
    credits = section(doc, "Credits awarded to the learner")
    assert dict(credits.fields) == {"Total ECVET points": "14"}
    assert credits.table is not None
    assert [row[4] for row in credits.table.rows] == ["12", "2"]
    implications = section(doc, "Practical implications").table
    assert implications is not None
    assert implications.rows == [["exempted from a learning activity", "No cold-kitchen module in term 3", "U1", "—"]]
    assert [(s.party, s.content_hash, s.counts) for s in doc.signatures] == [
        (f"Validation: {CZECH_SCHOOL} (CZ)", life.transcript_hash, True),
        (f"Recognition: {CZECH_SCHOOL} (CZ)", life.transcript_hash, True)]
    assert doc.data["credits"][1]["ecvet_points"] == 2
    for actor in (life.sending.actor, life.learner):
        assert build(db, actor, "recognition-record", life.recognition_id).content_hash == doc.content_hash
    with pytest.raises(NotFound):
        build(db, life.outsider.actor, "recognition-record", life.recognition_id)
    with pytest.raises(NotFound):
        build(db, life.sending.actor, "recognition-record", life.recognition_id, version=1)


# --- review: evaluation sheets and action plan ----------------------------------------------------------


def test_evaluation_sheet_shows_the_answers_and_who_handed_it_in(db: Database, frozen: FrozenClock) -> None:
    life = lifecycle(db, frozen)
    review = make_review(db, life)
    with pytest.raises(NotFound):  # by default each party reads its own sheet (issue 16)
        build(db, life.hosting.actor, "evaluation", review.evaluation_ids["sending"])
    doc = build(db, life.sending.actor, "evaluation", review.evaluation_ids["sending"])
    assert doc.title == "Evaluation sheet"
    assert doc.subtitle == f"Sending organisation: {CZECH_SCHOOL} (CZ) · {LIFECYCLE_LEARNER} · Cook"
    assert fields(doc, "Was the documentation of the assessment sufficient evidence for recognition?") == {
        "Answer": "partly", "Why": "The U2 sheet lacked the temperature log"}
    assert section(doc, "What should change").text == "Send the log template before departure"
    remarks = section(doc, "Remarks per unit").table
    assert remarks is not None
    assert remarks.rows == [["U2", "Log template unknown to the learner"]]
    assert [(s.party, s.email, s.counts) for s in doc.signatures] == [
        (f"Sending organisation: {CZECH_SCHOOL} (CZ)", life.sending.email, True)]
    learner_sheet = build(db, life.learner, "evaluation", review.evaluation_ids["learner"])
    assert learner_sheet.signatures[0].party == "Learner"
    assert learner_sheet.signatures[0].name == LIFECYCLE_LEARNER
    assert fields(learner_sheet, "Were the agreed learning outcomes appropriate?") == {
        "Answer": "partly", "Why": "U2 needed more time"}
    with pytest.raises(NotFound):
        build(db, life.outsider.actor, "evaluation", review.evaluation_ids["sending"])


def test_action_plan_shows_actions_owners_and_progress(db: Database, frozen: FrozenClock) -> None:
    life = lifecycle(db, frozen)
    review = make_review(db, life)
    doc = build(db, life.learner, "action-plan", review.action_plan_id)
    assert doc.title == "Action plan"
    # The review is completed, but none of the plan's actions is: the plan reads open, never completed.
    assert doc.status == "open"
    actions = section(doc, "Actions")
    assert dict(actions.fields) == {"Status": "open", "Done": "0 of 2 done"}
    assert actions.table is not None
    assert [row[:5] for row in actions.table.rows] == [
        ["1", "Send the log template with the LA", f"Sending organisation: {CZECH_SCHOOL} (CZ) (Anna Schmidt)",
         "2027-06-30", "open"],
        ["2", "Brief the learner on HACCP logs", f"Hosting organisation: {DANISH_HOTEL} (DK)", "2027-09-01", "open"],
    ]
    sheets = section(doc, "Evaluation sheets").table
    assert sheets is not None
    # The learner reads their own sheet only (issue 16); the document's data names every sheet, as for anyone.
    assert [row[1:] for row in sheets.rows] == [["partly", "yes", f"EV-{review.evaluation_ids['learner']}"]]
    assert doc.data["evaluation_ids"] == [review.evaluation_ids[p] for p in ("sending", "hosting", "learner")]
    assert fields(doc, "Revision of the MoU")["Revision asked for"] == "no"
    assert doc.signatures[0].party == f"Sending organisation: {CZECH_SCHOOL} (CZ)"
    # Progress on an action changes the document, and so its hash.
    with db.transaction() as s:
        item_id = s.get_one(ActionPlan, review.action_plan_id).items[0].id
        ecvet.review.service.update_item(s, actor=life.sending.actor, action_plan_id=review.action_plan_id,
                                         item_id=item_id,
                            status="done", note="Sent with LA version 1")
    later = build(db, life.hosting.actor, "action-plan", review.action_plan_id)
    assert dict(section(later, "Actions").fields) == {"Status": "in progress", "Done": "1 of 2 done"}
    assert later.status == "in progress"
    assert later.content_hash != doc.content_hash
    with db.transaction() as s:
        item_id = s.get_one(ActionPlan, review.action_plan_id).items[1].id
        ecvet.review.service.update_item(s, actor=life.sending.actor, action_plan_id=review.action_plan_id,
                                         item_id=item_id, status="dropped", note="Covered by the LA")
    finished = build(db, life.hosting.actor, "action-plan", review.action_plan_id)
    assert (finished.status, dict(section(finished, "Actions").fields)["Done"]) == ("done", "1 of 1 done")
    for actor in (life.outsider.actor,):
        with pytest.raises(NotFound):
            build(db, actor, "action-plan", review.action_plan_id)


def test_review_actions_return_keys_that_references_in_knows() -> None:
    keys = {"review_id": 1, "sending_evaluation_id": 4, "evaluation_ids": [4, 5, 6], "action_plan_id": 2}
    assert [(r.kind, r.record_id) for r in ecvet.documents.service.references_in(keys)] == [
        ("evaluation", 4), ("evaluation", 5), ("evaluation", 6), ("action-plan", 2)]


def test_an_implicit_approval_is_shown_as_such(db: Database, frozen: FrozenClock) -> None:
    """ES: the regional authority approves MoUs by raising no objection within its period."""
    school, hotel, authority = (make_party(db, c, n) for c, n in (("NL", "ROC Amsterdam"), ("ES", "Hotel Sol"),
                                                                   ("ES", "Junta de Andalucía")))
    register(db, authority.org_id, "ES")
    with db.transaction() as s:
        memorandum = mou.create_draft(s, actor=school.actor, sending_organisation_id=school.org_id,
                                content=mou_content(school, hotel, countries=("NL", "ES")))
        approvals.submit(s, actor=school.actor, mou_id=memorandum.id)
        mou_id, digest = memorandum.id, mou.current_version(memorandum).content_hash
    for party in (school, hotel):
        with db.transaction() as s:
            approvals.approve(s, actor=party.actor, mou_id=mou_id, content_hash=digest, signer=SIGNER)
    frozen.advance(timedelta(days=21))
    with db.transaction() as s:
        approvals.implicit_approval(s, mou_id=mou_id, organisation_id=authority.org_id)
    doc = build(db, authority.actor, "mou", mou_id)
    assert doc.status == "active"
    silent = doc.signatures[-1]
    assert (silent.party, silent.mode, silent.name, silent.counts, silent.content_hash) == (
        "Competent institution: Junta de Andalucía (ES)", "implicit", None, True, digest)
    required = section(doc, "Approvals this version needs").table
    assert required is not None
    assert required.rows[-1] == ["Junta de Andalucía (ES)", "Competent institution",
                                 "implicit (no objection within 20 days)", "approved"]
