"""Learning Agreements: one per learner and mobility, versions bound to a content hash, ordered signatures.

The mechanics follow the Erasmus Without Paper network and the Erasmus+ ECVET LA template:

* A signature binds to the SHA-256 of the exact text signed (canonical JSON, as for MoUs); quoting
  another hash than the current one is refused (409) and nothing is stored.
* The parties sign in order: the learner first (and a parent or guardian too when the learner is a
  minor on the first day of the mobility), then the sending organisation, then the hosting one. When
  the mobility's national model (:func:`ecvet.mobility.service.national_model`) requires an LA approval,
  the competent institution (home) approves last: explicitly, or implicitly once its period has passed
  without objection (:func:`ecvet.mobility.signatures.implicit_approval`, run by the process's
  timer through the worker).
* Units come from the MoU in force: only units the MoU covers for the mobility's qualification, with
  the ECVET points the MoU gives them, each with its learning outcomes (:mod:`ecvet.mobility.la_content`).
* A text written before the mobility starts must be signed before it starts. A change during the
  mobility is a new version (every added or removed unit with its reason) that all parties sign
  again; the earlier signatures stay as evidence but stop counting, because they quote another
  version and hash. A party may refuse to sign (with a comment) instead: nothing is signed and the
  text goes back to be revised (:func:`ecvet.mobility.signatures.refuse`).
* An LA can be deleted only before the sending organisation has signed; deletion is a status (the
  versions and signatures are append-only evidence at database level).

Status is derived from the signatures that count for the current version: ``draft`` (none),
``signing`` (some), ``signed`` (every party), ``approved`` (every party and the required competent
institution). Every change is written to the audit trail in the caller's unit of work.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ecvet.evidence import content_hash
from ecvet.mobility import la_content, periods, service
from ecvet.mobility.models import (
    LaParty,
    LaSignature,
    LaStatus,
    LaVersion,
    LearningAgreement,
    Mobility,
    MobilityGroup,
    MobilityStatus,
    PersonalTranscript,
)
from ecvet.mobility.vocabulary import LaChange
from ecvet.national_models.models import CompetenceFunction, OrganisationCompetence
from ecvet.national_models.service import NationalModel
from ecvet.partnership.models import ApprovalMode, Mou
from ecvet.partnership.mou import in_force_version
from engine import audit
from engine.errors import Conflict, Forbidden, Invalid, NotFound
from engine.models import Organisation, utcnow
from engine.parties import Actor

STALE_MESSAGE = "stale: the Learning Agreement changed since you read it"
#: Versions an LA may have: every version is a signing round in the Mobility process, whose task tree
#: must stay far below the workflow library's depth limit (hazard 7 of the engine notes).
MAX_VERSIONS = 30
#: Each signature of each round deepens the tree: with more signers (an intermediary, later hosts) an
#: agreement may have fewer versions (:func:`max_versions`); tests/ecvet/mobility/test_workflow.py checks
#: the worst case of every signer.
SIGNATURE_BUDGET = 180


def max_versions(signers: int) -> int:
    """The most versions an agreement with `signers` required signatures may have."""
    return min(MAX_VERSIONS, SIGNATURE_BUDGET // max(signers, 1))

#: The content's schema and the parts of it a change may replace (:mod:`ecvet.mobility.la_content`).
CONTENT_SCHEMA = la_content.CONTENT_SCHEMA
SECTIONS = la_content.SECTIONS


# --------------------------------------------------------------------------------------------------
# Who signs, in which order
# --------------------------------------------------------------------------------------------------


def mobility_of(session: Session, la: LearningAgreement) -> Mobility:
    mobility = session.get(Mobility, la.mobility_id)
    assert mobility is not None
    return mobility


def national_model(session: Session, mobility: Mobility) -> NationalModel:
    return service.national_model(session, mobility)


def _needs_guardian(mobility: Mobility) -> bool:
    return mobility.learner.is_minor(mobility.start_date)


def _party_order(mobility: Mobility) -> list[str]:
    order = [LaParty.LEARNER]
    if _needs_guardian(mobility):
        order.append(LaParty.GUARDIAN)
    order.append(LaParty.SENDING)
    if mobility.intermediary_organisation_id is not None:
        order.append(LaParty.INTERMEDIARY)
    later_hosts = {2: LaParty.HOSTING_PERIOD_2, 3: LaParty.HOSTING_PERIOD_3}
    return order + [LaParty.HOSTING] + [later_hosts[p.position] for p in mobility.periods if p.position in later_hosts]


def _needs_competent_institution(session: Session, mobility: Mobility) -> bool:
    return national_model(session, mobility).la_approval in (ApprovalMode.EXPLICIT, ApprovalMode.IMPLICIT)


def required_signatures(session: Session, la: LearningAgreement) -> list[str]:
    """The parties whose signatures put the current version in force, in signing order.

    The guardian signs when the learner is a minor on the mobility's first day; the competent
    institution approves last when the mobility's national model requires an LA approval, explicit
    or implicit (then recorded as such when its period passed without objection)."""
    mobility = mobility_of(session, la)
    order = _party_order(mobility)
    if _needs_competent_institution(session, mobility):
        order.append(LaParty.COMPETENT_INSTITUTION)
    return order


def current_version(session: Session, la: LearningAgreement) -> LaVersion:
    version = session.get(LaVersion, la.current_version_id)
    assert version is not None
    return version


def signatures_counting(session: Session, la: LearningAgreement) -> dict[str, LaSignature]:
    """Per party, the signature given for exactly the current version and hash."""
    version = current_version(session, la)
    rows = session.scalars(
        select(LaSignature)
        .where(LaSignature.la_version_id == version.id, LaSignature.content_hash == version.content_hash)
        .order_by(LaSignature.id)
    )
    return {s.party: s for s in rows}


def next_party(session: Session, la: LearningAgreement) -> str | None:
    """Who must sign next (None when every required signature holds)."""
    signed = signatures_counting(session, la)
    return next((p for p in required_signatures(session, la) if p not in signed), None)


def _status_for(session: Session, la: LearningAgreement) -> str:
    signed = signatures_counting(session, la)
    required = required_signatures(session, la)
    parties = [p for p in required if p != LaParty.COMPETENT_INSTITUTION]
    if not signed:
        return LaStatus.DRAFT
    if not all(p in signed for p in parties):
        return LaStatus.SIGNING
    if LaParty.COMPETENT_INSTITUTION in signed:
        return LaStatus.APPROVED
    return LaStatus.SIGNED


def in_force(session: Session, la: LearningAgreement) -> bool:
    """Every required signature (and approval) holds for the current version."""
    return la.status != LaStatus.DELETED and next_party(session, la) is None


def competent_institution_ids(session: Session, mobility: Mobility) -> set[int]:
    """The competent institution (home) named at nomination; for mobilities recorded without one, any
    organisation registered for LA approval in the sending country."""
    if mobility.competent_institution_home_id is not None:
        return {mobility.competent_institution_home_id}
    country = session.scalar(select(Organisation.country).where(Organisation.id == mobility.sending_organisation_id))
    return set(session.scalars(select(OrganisationCompetence.organisation_id).where(
        OrganisationCompetence.country == country,
        OrganisationCompetence.function == CompetenceFunction.LA_APPROVAL,
    )))


# --------------------------------------------------------------------------------------------------
# Access
# --------------------------------------------------------------------------------------------------


def is_sender(actor: Actor, mobility: Mobility) -> bool:
    """Admins and members of the sending organisation: they prepare and withdraw the agreement."""
    return actor.is_admin or mobility.sending_organisation_id in actor.organisation_ids


def _visible(session: Session, actor: Actor, mobility: Mobility) -> bool:
    if service.is_party(actor, mobility):
        return True
    return bool(actor.organisation_ids & competent_institution_ids(session, mobility))


def get(session: Session, *, actor: Actor, la_id: int) -> LearningAgreement:
    """The LA, for its learner, guardian, sending and hosting organisations, competent institutions and
    admins; to anyone else it does not exist (404)."""
    la = session.get(LearningAgreement, la_id)
    if la is None or not _visible(session, actor, mobility_of(session, la)):
        raise NotFound(f"No Learning Agreement {la_id}")
    return la


def locked(session: Session, actor: Actor | None, la_id: int) -> LearningAgreement:
    """Lock the LA row so concurrent signatures serialise and each sees the ones before it
    (``actor=None``: the platform itself, e.g. a deadline timer)."""
    la = session.scalars(
        select(LearningAgreement).where(LearningAgreement.id == la_id).with_for_update()
        .execution_options(populate_existing=True)
    ).one_or_none()
    if la is None or (actor is not None and not _visible(session, actor, mobility_of(session, la))):
        raise NotFound(f"No Learning Agreement {la_id}")
    if la.status == LaStatus.DELETED:
        raise Conflict("The Learning Agreement was deleted")
    mobility = mobility_of(session, la)
    if mobility.status in (MobilityStatus.CANCELLED, MobilityStatus.RECOGNIZED):
        raise Conflict(f"The mobility is {mobility.status}: its Learning Agreement no longer changes")
    return la


# --------------------------------------------------------------------------------------------------
# Services
# --------------------------------------------------------------------------------------------------


def set_status(session: Session, la: LearningAgreement, *, actor_id: int | None, reason: str) -> None:
    new = _status_for(session, la)
    if new != la.status:
        old, la.status = la.status, new
        la.updated_at = utcnow()
        session.flush()
        audit.record(session, actor_id=actor_id, action="la.status_changed", la_id=la.id, old=old, new=new,
                     reason=reason)


def prepare(session: Session, *, actor: Actor, mobility_id: int, content: dict[str, Any]) -> LearningAgreement:
    """Write version 1 of the mobility's LA. The sending organisation prepares it (it answers for the
    learner's programme at home); one live LA per mobility, under a MoU in force."""
    mobility = session.get(Mobility, mobility_id)
    if mobility is None or not _visible(session, actor, mobility):
        raise NotFound(f"No mobility {mobility_id}")
    if not is_sender(actor, mobility):
        raise Forbidden("Only members of the sending organisation prepare the Learning Agreement")
    if mobility.status in (MobilityStatus.CANCELLED, MobilityStatus.RECOGNIZED):
        raise Conflict(f"The mobility is {mobility.status}")
    mou = session.get(Mou, mobility.mou_id)
    if mou is None or in_force_version(mou) is None:
        raise Conflict("The mobility's MoU is not in force: a Learning Agreement is made under an active MoU")
    content = _named_parties(session, mobility, la_content.units_from_mou(session, mobility, la_content.check(content)))
    existing = session.scalar(select(LearningAgreement.id).where(
        LearningAgreement.mobility_id == mobility.id, LearningAgreement.status != LaStatus.DELETED))
    if existing is not None:
        raise Conflict(f"The mobility already has Learning Agreement {existing}; change it instead")
    now = utcnow()
    la = LearningAgreement(mobility_id=mobility.id, status=LaStatus.DRAFT, created_by=actor.user_id,
                           created_at=now, updated_at=now)
    session.add(la)
    session.flush()
    version = LaVersion(la_id=la.id, number=1, content=content, content_hash=content_hash(content), changes=[],
                        created_by=actor.user_id, created_at=now)
    session.add(version)
    session.flush()
    la.current_version_id = version.id
    session.flush()
    audit.record(session, actor_id=actor.user_id, action="la.prepared", la_id=la.id, mobility_id=mobility.id,
                 version=1, content_hash=version.content_hash)
    return la


def _named_parties(session: Session, mobility: Mobility, content: dict[str, Any]) -> dict[str, Any]:
    """The signed text names the intermediary organisation (a party that signs) and the group whose
    programme the learner follows, so a signature binds to them too."""
    content = {k: v for k, v in content.items() if k not in ("intermediary_organisation", "group", "periods")}
    if mobility.periods:
        content = {**content, "periods": periods.described(session, mobility)}
    if mobility.intermediary_organisation_id is not None:
        org = session.get(Organisation, mobility.intermediary_organisation_id)
        assert org is not None
        content = {**content, "intermediary_organisation": {"id": org.id, "name": org.name, "country": org.country}}
    if mobility.group_id is not None:
        group = session.get(MobilityGroup, mobility.group_id)
        assert group is not None
        content = {**content, "group": {"id": group.id, "name": group.name, "programme": group.programme}}
    return content


def _reason(entry: Any, index: int, kind: str, errors: dict[str, list[str]]) -> str:
    reason = str(entry.get("reason") or "").strip() if isinstance(entry, dict) else ""
    if not reason:
        errors[f"{kind}.{index}.reason"] = ["Every added or removed unit needs a reason"]
    return reason


def _unit_code(unit: Any) -> str | None:
    if isinstance(unit, dict):
        unit = unit.get("code")
    return unit.strip() if isinstance(unit, str) and unit.strip() else None


@dataclass
class _Edit:
    """A change being made to a version's text: its units, what changed (with reasons), what is wrong."""

    version: LaVersion
    content: dict[str, Any]
    units: list[dict[str, Any]]
    changes: list[dict[str, Any]] = field(default_factory=list)
    errors: dict[str, list[str]] = field(default_factory=dict)

    @property
    def present(self) -> set[str]:
        return {u["code"] for u in self.units}

    def remove_units(self, removed: list[Any]) -> None:
        for i, entry in enumerate(removed):
            why = _reason(entry, i, "removed", self.errors)
            code = _unit_code(entry.get("unit") if isinstance(entry, dict) else None)
            if code is None or code not in self.present:
                self.errors[f"removed.{i}.unit"] = [f"No unit {code!r} in version {self.version.number}"]
                continue
            self.units = [u for u in self.units if u["code"] != code]
            self.changes.append({"unit": code, "change": LaChange.REMOVED, "reason": why})

    def add_units(self, added: list[Any]) -> None:
        for i, entry in enumerate(added):
            why = _reason(entry, i, "added", self.errors)
            unit = entry.get("unit") if isinstance(entry, dict) else None
            if isinstance(unit, str):
                unit = {"code": unit}
            code = _unit_code(unit)
            if code is None or not isinstance(unit, dict):
                self.errors[f"added.{i}.unit"] = ["A unit with a code"]
                continue
            if code in self.present:
                self.errors[f"added.{i}.unit"] = [f"Unit {code!r} is already in the agreement"]
                continue
            self.units.append(copy.deepcopy(unit))
            self.changes.append({"unit": code, "change": LaChange.ADDED, "reason": why})

    def replace_sections(self, sections: dict[str, Any], reason: str) -> None:
        for name in sorted(set(sections) - set(SECTIONS)):
            self.errors[f"sections.{name}"] = [f"Not a part of the text that can be replaced; one of "
                                               f"{', '.join(SECTIONS)}"]
        if sections and not reason:
            self.errors["reason"] = ["Say why these parts of the text change"]
        for name in sorted(set(sections) & set(SECTIONS)):
            if sections[name] is None:
                self.content.pop(name, None)
            else:
                self.content[name] = copy.deepcopy(sections[name])
            if self.content.get(name) != self.version.content.get(name):
                self.changes.append({"section": name, "change": LaChange.REPLACED, "reason": reason})


def _check_may_change(session: Session, actor: Actor, mobility: Mobility, *, asked: bool) -> None:
    if not (actor.is_admin or {mobility.sending_organisation_id, mobility.hosting_organisation_id}
            & actor.organisation_ids):
        raise Forbidden("Only the sending or hosting organisation changes the Learning Agreement")
    if not asked:
        raise Invalid("A change adds or removes at least one unit, or replaces a part of the text",
                      errors={"added": ["Empty"], "removed": ["Empty"]})
    if _transcript_issued(session, mobility):
        raise Conflict("The transcript was issued for this Learning Agreement: it no longer changes")


def _new_version(session: Session, actor: Actor, la: LearningAgreement, edit: _Edit,
                 content: dict[str, Any]) -> LaVersion:
    """Version n+1 with `content`, current from now on; every party signs again."""
    previous = edit.version
    number = (session.scalar(select(func.max(LaVersion.number)).where(LaVersion.la_id == la.id)) or 0) + 1
    if number > max_versions(len(required_signatures(session, la))):
        raise Conflict(f"The Learning Agreement has {number - 1} versions already, the most one may have; "
                       "agree the remaining changes outside the platform")
    now = utcnow()
    new = LaVersion(la_id=la.id, number=number, content=content, content_hash=content_hash(content),
                    changes=edit.changes, created_by=actor.user_id, created_at=now)
    session.add(new)
    session.flush()
    la.current_version_id = new.id
    la.updated_at = now
    session.flush()
    audit.record(session, actor_id=actor.user_id, action="la.changed", la_id=la.id, version=number,
                 content_hash=new.content_hash, previous_hash=previous.content_hash, changes=edit.changes)
    set_status(session, la, actor_id=actor.user_id, reason="changed: every party signs again")
    return new


def change(
    session: Session,
    *,
    actor: Actor,
    la_id: int,
    added: list[dict[str, Any]] | None = None,
    removed: list[dict[str, Any]] | None = None,
    sections: dict[str, Any] | None = None,
    reason: str | None = None,
) -> LaVersion:
    """Add and remove units as version n+1, each with its reason (422 without). All parties sign the
    new version again; the signatures of earlier versions stay as records but no longer count.

    ``added``: ``[{"unit": {code, title, ecvet_points, ...}, "reason": ...}]``; ``removed``:
    ``[{"unit": code or {code}, "reason": ...}]``; ``sections``: parts of the text replaced as a whole
    (:data:`SECTIONS`, e.g. the assessment arrangements the host agreed), with one ``reason``. Added
    units must be covered by the MoU. The sending or hosting organisation changes it, until the
    transcript is issued; an identical text makes no new version (nothing to sign again)."""
    la = locked(session, actor, la_id)
    mobility = mobility_of(session, la)
    added, removed, sections = list(added or []), list(removed or []), dict(sections or {})
    _check_may_change(session, actor, mobility, asked=bool(added or removed or sections))
    version = current_version(session, la)
    content = copy.deepcopy(version.content)
    edit = _Edit(version, content, content.get("units") or [])
    edit.remove_units(removed)
    edit.add_units(added)
    edit.replace_sections(sections, (reason or "").strip())
    if edit.errors:
        raise Invalid("The change is not valid", errors=edit.errors)
    content["units"] = edit.units
    carried = frozenset(u["code"] for u in version.content.get("units") or [])
    content = la_content.units_from_mou(session, mobility, la_content.check(content), carried)
    if content_hash(content) == version.content_hash:
        return version
    return _new_version(session, actor, la, edit, content)


def _transcript_issued(session: Session, mobility: Mobility) -> bool:
    return session.scalar(select(PersonalTranscript.id).where(PersonalTranscript.mobility_id == mobility.id)) \
        is not None
