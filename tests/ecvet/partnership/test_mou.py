"""MoU records: hash-bound approvals, voiding by revision, national models deciding who must approve."""
from __future__ import annotations

import hashlib
import json
import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from ecvet import evidence
from ecvet.documents import service
from ecvet.partnership import approvals, approvers, mou, views
from ecvet.partnership.models import ApprovalMode, ApprovalRole, Decision, Mou, MouApproval, MouStatus, MouVersion
from engine.clock import FrozenClock
from engine.config import ROOT
from engine.db import Database
from engine.errors import Conflict, Forbidden, Invalid, NotFound
from engine.models import AuditEvent, FileBlob
from tests.support.ecvet_factories import SIGNER, Party, make_party, mou_content, register
from tests.support.engine import actor_for
from tests.support.factories import make_user

T0 = datetime(2027, 1, 11, 9, 0, tzinfo=UTC)


@pytest.fixture
def nl(db: Database) -> Party:
    return make_party(db, "NL", "ROC Amsterdam")


@pytest.fixture
def be(db: Database) -> Party:
    return make_party(db, "BE", "Hotel Brussel")


@pytest.fixture
def de(db: Database) -> Party:
    return make_party(db, "DE", "Berufskolleg Köln")


@pytest.fixture
def chamber(db: Database) -> Party:
    """The DE competent institution for MoU approval (a chamber)."""
    party = make_party(db, "DE", "IHK Köln")
    register(db, party.org_id, "DE")
    return party


@pytest.fixture
def outsider(db: Database) -> Party:
    return make_party(db, "DE", "Unrelated school")


def draft(db: Database, sender: Party, *partners: Party, submit: bool = True, **overrides: Any) -> Mou:
    with db.transaction() as s:
        memorandum = mou.create_draft(s, actor=sender.actor, sending_organisation_id=sender.org_id,
                                content=mou_content(sender, *partners, **overrides))
        if submit:
            approvals.submit(s, actor=sender.actor, mou_id=memorandum.id)
    return memorandum


def current_hash(db: Database, mou_id: int) -> str:
    with db.transaction(write=False) as s:
        return mou.current_version(s.get_one(Mou, mou_id)).content_hash


def approve(db: Database, party: Party, mou_id: int, digest: str | None = None,
            role: str = ApprovalRole.PARTNER) -> MouApproval:
    digest = digest or current_hash(db, mou_id)
    with db.transaction() as s:
        return approvals.approve(s, actor=party.actor, mou_id=mou_id, content_hash=digest, signer=SIGNER, as_role=role)


def state(db: Database, mou_id: int) -> tuple[str, bool]:
    with db.transaction(write=False) as s:
        memorandum = s.get_one(Mou, mou_id)
        return memorandum.status, mou.is_active(memorandum)


def approvals_count(db: Database, mou_id: int) -> int:
    with db.transaction(write=False) as s:
        return s.scalars(select(func.count(MouApproval.id)).where(MouApproval.mou_id == mou_id)).one()


# --- the hash ------------------------------------------------------------------------------------


def test_hash_is_canonical_so_key_order_and_spacing_do_not_matter(db: Database, nl: Party, be: Party) -> None:
    content = mou_content(nl, be)
    reordered = json.loads(json.dumps(dict(reversed(list(content.items())))))
    assert list(reordered) != list(content)
    assert evidence.content_hash(reordered) == evidence.content_hash(content)
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert evidence.content_hash(content) == hashlib.sha256(canonical.encode("utf-8")).hexdigest()
    changed = mou_content(nl, be, valid_until="2098-12-31")
    assert evidence.content_hash(changed) != evidence.content_hash(content)

    with db.transaction() as s:
        memorandum = mou.create_draft(s, actor=nl.actor, sending_organisation_id=nl.org_id, content=reordered)
        version = mou.current_version(memorandum)
        assert version.number == 1
        assert version.content_hash == evidence.content_hash(content)
        # Saving the same text again in another key order is not a change: no version 2.
        again = mou.revise(s, actor=nl.actor, mou_id=memorandum.id, content=content)
        assert again.id == version.id


# --- who must approve, and when the MoU is in force ----------------------------------------------


def test_nl_needs_only_the_partners_and_is_active_when_both_approved(db: Database, nl: Party, be: Party) -> None:
    memorandum = draft(db, nl, be)
    with db.transaction(write=False) as s:
        assert mou.required_approvals(s.get_one(Mou, memorandum.id)) == [(nl.org_id, "partner"), (be.org_id, "partner")]
    approve(db, nl, memorandum.id)
    assert state(db, memorandum.id) == (MouStatus.IN_APPROVAL, False)
    approve(db, be, memorandum.id)
    assert state(db, memorandum.id) == (MouStatus.ACTIVE, True)
    with db.transaction(write=False) as s:
        current = s.get_one(Mou, memorandum.id)
        assert current.active_version_id == current.current_version_id


def test_de_needs_the_chamber_as_competent_institution(db: Database, de: Party, be: Party, chamber: Party) -> None:
    memorandum = draft(db, de, be)
    with db.transaction(write=False) as s:
        assert mou.required_approvals(s.get_one(Mou, memorandum.id)) == [
            (de.org_id, "partner"), (be.org_id, "partner"), (chamber.org_id, "competent_institution"),
        ]
    approve(db, de, memorandum.id)
    approve(db, be, memorandum.id)
    assert state(db, memorandum.id) == (MouStatus.IN_APPROVAL, False), "both partners are not enough in DE"
    approve(db, chamber, memorandum.id, role=ApprovalRole.COMPETENT_INSTITUTION)
    assert state(db, memorandum.id) == (MouStatus.ACTIVE, True)


def test_de_mou_cannot_be_submitted_without_a_registered_chamber(db: Database, de: Party, be: Party) -> None:
    memorandum = draft(db, de, be, submit=False)
    with pytest.raises(Invalid) as refused, db.transaction() as s:
        approvals.submit(s, actor=de.actor, mou_id=memorandum.id)
    assert "none is registered for DE" in refused.value.errors["competent_institutions"][0]
    assert state(db, memorandum.id) == (MouStatus.DRAFT, False)


def test_submit_needs_a_complete_text(db: Database, nl: Party, be: Party) -> None:
    memorandum = draft(db, nl, be, submit=False, evaluation_and_review="", valid_until="2020-01-01")
    with pytest.raises(Invalid) as refused, db.transaction() as s:
        approvals.submit(s, actor=nl.actor, mou_id=memorandum.id)
    assert set(refused.value.errors) >= {"evaluation_and_review", "valid_until"}


def test_structure_is_checked_on_every_save(db: Database, nl: Party) -> None:
    with pytest.raises(Invalid) as refused, db.transaction() as s:
        mou.create_draft(s, actor=nl.actor, sending_organisation_id=nl.org_id,
                          content={"colour": "blue", "qualifications": [{"eqf_level": 9}]})
    assert set(refused.value.errors) == {"content", "qualifications.0.eqf_level"}
    with pytest.raises(Invalid) as refused, db.transaction() as s:
        mou.create_draft(s, actor=nl.actor, sending_organisation_id=nl.org_id,
                          content={"signing_organisations": [{"organisation_id": 999_999}],
                                   "mobility_duration_weeks": {"min": 8, "max": 2}, "valid_until": "soon"})
    assert set(refused.value.errors) == {
        "signing_organisations.0.organisation_id", "mobility_duration_weeks", "valid_until",
    }
    with db.transaction(write=False) as s:
        assert s.scalar(select(func.count(Mou.id))) == 0


# --- revision voids approvals --------------------------------------------------------------------


def test_revision_voids_earlier_approvals_until_everyone_approves_the_new_hash(
    db: Database, nl: Party, be: Party
) -> None:
    memorandum = draft(db, nl, be)
    old_hash = current_hash(db, memorandum.id)
    approve(db, nl, memorandum.id)
    approve(db, be, memorandum.id)
    assert state(db, memorandum.id) == (MouStatus.ACTIVE, True)

    with db.transaction() as s:
        version = mou.revise(s, actor=nl.actor, mou_id=memorandum.id,
                              content=mou_content(nl, be, mobility_duration_weeks={"min": 4, "max": 10}))
    assert version.number == 2
    assert version.content_hash != old_hash
    assert state(db, memorandum.id) == (MouStatus.IN_APPROVAL, False)
    with db.transaction(write=False) as s:
        current = s.get_one(Mou, memorandum.id)
        detail = views.mou(s, actor=nl.actor, mou_id=memorandum.id)
        # The amended text is not in force yet; the version approved by everyone stays on record.
        assert s.get_one(MouVersion, current.active_version_id).number == 1
    assert [a["counts"] for a in detail["approvals"]] == [False, False], "kept as evidence, no longer counting"
    assert detail["active_version"] == 1
    assert detail["version"] == 2

    with pytest.raises(Conflict, match="stale"):
        approve(db, be, memorandum.id, digest=old_hash)
    approve(db, nl, memorandum.id)
    assert state(db, memorandum.id) == (MouStatus.IN_APPROVAL, False)
    approve(db, be, memorandum.id)
    assert state(db, memorandum.id) == (MouStatus.ACTIVE, True)
    assert approvals_count(db, memorandum.id) == 4


def test_only_the_sending_organisation_drafts_and_revises(db: Database, nl: Party, be: Party) -> None:
    with pytest.raises(Forbidden), db.transaction() as s:
        mou.create_draft(s, actor=be.actor, sending_organisation_id=nl.org_id, content=mou_content(nl, be))
    memorandum = draft(db, nl, be)
    with pytest.raises(Forbidden), db.transaction() as s:
        mou.revise(s, actor=be.actor, mou_id=memorandum.id, content=mou_content(nl, be, file_code="X"))


def _race(db: Database, parties: tuple[Party, ...], mou_id: int, digest: str) -> list[BaseException]:
    barrier = threading.Barrier(len(parties))
    errors: list[BaseException] = []

    def sign(party: Party) -> None:
        try:
            barrier.wait()
            approve(db, party, mou_id, digest)
        except BaseException as exc:  # noqa: BLE001 - reported by the caller
            errors.append(exc)

    threads = [threading.Thread(target=sign, args=(party,)) for party in parties]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors


def test_the_last_two_approvals_racing_still_activate_the_mou(db: Database, nl: Party, be: Party) -> None:
    """Each approval locks the MoU row, so whichever commits second sees the first and activates."""
    for _ in range(5):
        memorandum = draft(db, nl, be)
        assert _race(db, (nl, be), memorandum.id, current_hash(db, memorandum.id)) == []
        assert state(db, memorandum.id) == (MouStatus.ACTIVE, True)
        assert approvals_count(db, memorandum.id) == 2


# --- stale approvals, rejection, outsiders -------------------------------------------------------


def test_stale_approval_is_refused_with_409_and_nothing_is_stored(db: Database, nl: Party, be: Party) -> None:
    memorandum = draft(db, nl, be)
    with pytest.raises(Conflict) as refused:
        approve(db, be, memorandum.id, digest="0" * 64)
    assert refused.value.message == "stale: the MoU changed since you read it"
    assert approvals_count(db, memorandum.id) == 0
    with db.transaction(write=False) as s:
        logged = list(s.scalars(select(AuditEvent.action).where(AuditEvent.action.like("mou.%"))))
    assert "mou.approved" not in logged
    assert "mou.submitted" in logged


def test_rejection_needs_a_comment_and_returns_the_draft_to_the_sender(db: Database, nl: Party, be: Party) -> None:
    memorandum = draft(db, nl, be)
    digest = current_hash(db, memorandum.id)
    for empty in ("", "   "):
        with pytest.raises(Invalid) as refused, db.transaction() as s:
            approvals.reject(s, actor=be.actor, mou_id=memorandum.id, content_hash=digest, comment=empty)
        assert "comment" in refused.value.errors
    assert state(db, memorandum.id) == (MouStatus.IN_APPROVAL, False)
    assert approvals_count(db, memorandum.id) == 0

    with db.transaction() as s:
        rejection = approvals.reject(s, actor=be.actor, mou_id=memorandum.id, content_hash=digest,
                                comment="Assessment by our mentor only, not a teacher")
    assert rejection.decision == Decision.REJECTED
    assert rejection.content_hash == digest
    assert rejection.signer_email == be.email
    assert state(db, memorandum.id) == (MouStatus.DRAFT, False)
    with pytest.raises(Conflict, match="not in approval"):
        approve(db, nl, memorandum.id)

    # Back with the sender: revise, resubmit, and both approve the new text.
    with db.transaction() as s:
        mou.revise(s, actor=nl.actor, mou_id=memorandum.id, content=mou_content(nl, be, file_code="MoU-2027-001b"))
        approvals.submit(s, actor=nl.actor, mou_id=memorandum.id)
    approve(db, nl, memorandum.id)
    approve(db, be, memorandum.id)
    assert state(db, memorandum.id) == (MouStatus.ACTIVE, True)


def test_only_required_parties_approve(
    db: Database, de: Party, be: Party, chamber: Party, outsider: Party
) -> None:
    memorandum = draft(db, de, be)
    with pytest.raises(NotFound):
        approve(db, outsider, memorandum.id)
    with pytest.raises(Forbidden):
        approve(db, be, memorandum.id, role=ApprovalRole.COMPETENT_INSTITUTION)
    with pytest.raises(Forbidden):
        approve(db, chamber, memorandum.id, role=ApprovalRole.PARTNER)
    admin = actor_for(db, make_user(db, is_admin=True).id)
    with pytest.raises(Forbidden):  # an administrator sees the MoU but signs for no organisation
        approve(db, Party(0, admin, admin.user_id, admin.email), memorandum.id)
    approve(db, be, memorandum.id)
    with pytest.raises(Conflict, match="already approved"):
        approve(db, be, memorandum.id)
    assert approvals_count(db, memorandum.id) == 1


def test_an_approval_in_another_persons_name_is_refused_and_nothing_is_stored(
    db: Database, nl: Party, be: Party
) -> None:
    """The attack of issue 9: a member approves with someone else's name and e-mail typed in."""
    memorandum = draft(db, nl, be)
    with pytest.raises(Invalid) as refused, db.transaction() as s:
        approvals.approve(s, actor=be.actor, mou_id=memorandum.id, content_hash=current_hash(db, memorandum.id),
                     signer={"name": "Anna Schmidt", "position": "VET coordinator", "email": "anna@school.example"})
    assert set(refused.value.errors) == {"signer.name", "signer.email"}
    assert approvals_count(db, memorandum.id) == 0
    approval = approve(db, be, memorandum.id)
    assert (approval.signer_user_id, approval.signer_email, approval.organisation_id, approval.signer_position) == (
        be.user_id, be.email, be.org_id, SIGNER["position"])


def test_an_approval_needs_a_position_from_the_form_or_the_profile(db: Database, nl: Party) -> None:
    host = make_party(db, "BE", "Hotel Gent", position=None)
    memorandum = draft(db, nl, host)
    with pytest.raises(Invalid) as incomplete, db.transaction() as s:
        approvals.approve(s, actor=host.actor, mou_id=memorandum.id, content_hash=current_hash(db, memorandum.id),
                          signer={})
    assert set(incomplete.value.errors) == {"signer.position"}
    assert approvals_count(db, memorandum.id) == 0
    approve(db, host, memorandum.id)  # SIGNER gives the position
    assert approvals_count(db, memorandum.id) == 1


def test_parties_see_the_mou_and_others_do_not(
    db: Database, de: Party, be: Party, chamber: Party, outsider: Party
) -> None:
    memorandum = draft(db, de, be)
    with db.transaction(write=False) as s:
        for party in (de, be, chamber):
            assert mou.get(s, actor=party.actor, mou_id=memorandum.id).id == memorandum.id
        with pytest.raises(NotFound):
            mou.get(s, actor=outsider.actor, mou_id=memorandum.id)


# --- implicit approval ---------------------------------------------------------------------------


def test_implicit_approval_after_the_objection_period(db: Database, frozen: FrozenClock, be: Party) -> None:
    es_school = make_party(db, "ES", "IES Sevilla")
    authority = make_party(db, "ES", "Junta de Andalucía")
    register(db, authority.org_id, "ES")
    memorandum = draft(db, es_school, be)
    approve(db, es_school, memorandum.id)
    approve(db, be, memorandum.id)
    assert state(db, memorandum.id) == (MouStatus.IN_APPROVAL, False)

    frozen.advance(days=19, hours=23)
    with pytest.raises(Conflict, match="objection period"), db.transaction() as s:
        approvals.implicit_approval(s, mou_id=memorandum.id, organisation_id=authority.org_id)
    frozen.advance(hours=1)
    with db.transaction() as s:
        approval = approvals.implicit_approval(s, mou_id=memorandum.id, organisation_id=authority.org_id)
    assert approval.mode == ApprovalMode.IMPLICIT
    assert approval.role == ApprovalRole.COMPETENT_INSTITUTION
    assert approval.signer_name is None
    assert approval.signed_at == T0 + timedelta(days=20)
    assert approval.content_hash == current_hash(db, memorandum.id)
    assert state(db, memorandum.id) == (MouStatus.ACTIVE, True)


def test_no_implicit_approval_where_the_model_wants_a_signature(
    db: Database, frozen: FrozenClock, de: Party, be: Party, chamber: Party
) -> None:
    memorandum = draft(db, de, be)
    frozen.advance(days=365)
    with pytest.raises(Conflict, match="explicit"), db.transaction() as s:
        approvals.implicit_approval(s, mou_id=memorandum.id, organisation_id=chamber.org_id)
    assert approvals_count(db, memorandum.id) == 0


# --- evidence and end of life --------------------------------------------------------------------


def test_approvals_and_versions_are_append_only_in_the_database(db: Database, nl: Party, be: Party) -> None:
    memorandum = draft(db, nl, be)
    approval = approve(db, be, memorandum.id)
    statements = [
        ("UPDATE mou_approvals SET decision = 'rejected' WHERE id = :id", approval.id),
        ("DELETE FROM mou_approvals WHERE id = :id", approval.id),
        ("UPDATE mou_versions SET content_hash = 'forged' WHERE mou_id = :id", memorandum.id),
        ("DELETE FROM mou_versions WHERE mou_id = :id", memorandum.id),
    ]
    for sql, key in statements:
        with pytest.raises(DBAPIError, match="append-only"), db.transaction() as s:
            s.execute(text(sql), {"id": key})
    with db.transaction(write=False) as s:
        kept = s.get_one(MouApproval, approval.id)
        assert kept.decision == Decision.APPROVED
        assert kept.content_hash == current_hash(db, memorandum.id)


def test_every_change_is_audited(db: Database, nl: Party, be: Party) -> None:
    memorandum = draft(db, nl, be)
    approve(db, nl, memorandum.id)
    approve(db, be, memorandum.id)
    with db.transaction() as s:
        mou.expire(s, actor=nl.actor, mou_id=memorandum.id)
    with db.transaction(write=False) as s:
        events = [(e.action, e.actor_id) for e in s.scalars(select(AuditEvent).order_by(AuditEvent.id))
                  if e.detail.get("mou_id") == memorandum.id]
    assert events == [
        ("mou.created", nl.user_id), ("mou.submitted", nl.user_id), ("mou.approved", nl.user_id),
        ("mou.approved", be.user_id), ("mou.status_changed", be.user_id), ("mou.status_changed", nl.user_id),
    ]


def test_an_expired_mou_can_no_longer_change(db: Database, nl: Party, be: Party) -> None:
    memorandum = draft(db, nl, be)
    with db.transaction() as s:
        assert mou.expire(s, mou_id=memorandum.id).status == MouStatus.EXPIRED
    assert state(db, memorandum.id) == (MouStatus.EXPIRED, False)
    with pytest.raises(Conflict):
        approve(db, be, memorandum.id)
    with pytest.raises(Conflict), db.transaction() as s:
        mou.revise(s, actor=nl.actor, mou_id=memorandum.id, content=mou_content(nl, be, file_code="late"))
    with pytest.raises(Conflict), db.transaction() as s:
        mou.expire(s, mou_id=memorandum.id)


# --- validity and the table the MoU is decided with -----------------------------------------------


def test_the_version_in_force_and_when_it_expires(db: Database, nl: Party, be: Party) -> None:
    memorandum = draft(db, nl, be, valid_until="2028-06-30")
    with db.transaction(write=False) as s:
        current = s.get_one(Mou, memorandum.id)
        assert mou.in_force_version(current) is None, "not approved by everyone yet"
        assert mou.expires_at(mou.current_version(current)) == datetime(2028, 7, 1, tzinfo=UTC)
    approve(db, nl, memorandum.id)
    approve(db, be, memorandum.id)
    with db.transaction() as s:
        mou.revise(s, actor=nl.actor, mou_id=memorandum.id, content=mou_content(nl, be, valid_until="2030-06-30"))
    with db.transaction(write=False) as s:
        current = s.get_one(Mou, memorandum.id)
        in_force = mou.in_force_version(current)
        assert in_force is not None, "the amendment is not in force before approval"
        assert in_force.number == 1, "the amendment is not in force before approval"
        assert mou.expires_at(in_force) == datetime(2028, 7, 1, tzinfo=UTC)
    with db.transaction() as s:
        mou.expire(s, mou_id=memorandum.id)
    with db.transaction(write=False) as s:
        assert mou.in_force_version(s.get_one(Mou, memorandum.id)) is None


def test_a_pinned_table_decides_whatever_is_deployed_later(db: Database, de: Party, be: Party,
                                                           chamber: Party) -> None:
    """With the shipped table DE needs its chamber; pinned to a table where DE needs nobody, it does not."""
    lenient = (ROOT / "processes" / "national_models.dmn").read_text().replace(
        '<text>"explicit"</text>', '<text>"none"</text>').encode()
    digest = hashlib.sha256(lenient).hexdigest()
    memorandum = draft(db, de, be, submit=False)
    with db.transaction() as s:
        with pytest.raises(Invalid):
            approvers.pin_national_models(s, mou=s.get_one(Mou, memorandum.id), table_sha256=digest, actor_id=None)
        s.add(FileBlob(sha256=digest, content=lenient, size=len(lenient)))
        s.flush()
        approvers.pin_national_models(s, mou=s.get_one(Mou, memorandum.id), table_sha256=digest, actor_id=de.user_id)
    with db.transaction(write=False) as s:
        current = s.get_one(Mou, memorandum.id)
        assert [r.role for r in mou.required_approvals(current)] == [ApprovalRole.PARTNER, ApprovalRole.PARTNER]
        assert views.mou(s, actor=de.actor, mou_id=memorandum.id)["national_models_table"] == digest
        unpinned = approvers.plan_for(s, mou.current_version(current).content)
        assert (chamber.org_id, ApprovalRole.COMPETENT_INSTITUTION) in unpinned.requirements
        # the MoU document lists the approvals of the pinned table too, not those of the newest one

        document = service.build(s, actor=de.actor, kind="mou", record_id=memorandum.id)
        (needed,) = [sec for sec in document.sections if sec.heading == "Approvals this version needs"]
        assert needed.table is not None
        assert [row[1] for row in needed.table.rows] == ["Partner", "Partner"], needed.table.rows
