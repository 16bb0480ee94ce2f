"""The Learner's Personal Transcript: what the learner achieved abroad, issued by the hosting organisation.

Built from the current assessment sheets and the Learning Agreement in force (its id, version and
hash are part of the transcript): per unit the method, date, assessor, result (and grade), ECVET
points and evidence. Its content is hashed like every signed document; the row is immutable once
issued (database triggers), except that the host marks it ready for recognition, once.

Visibility follows EWP practice: the host side, the learner and admins read it as soon as it is
issued; the home side (sending organisation, competent institution at home) and an intermediary only
once it is ready for recognition. To them it does not exist before (404).
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ecvet import signing
from ecvet.evidence import content_hash
from ecvet.mobility import assessment, learning_agreement, service
from ecvet.mobility.models import AssessmentResult, Mobility, MobilityStatus, PersonalTranscript
from engine import audit
from engine.errors import Conflict, Forbidden, NotFound
from engine.models import Organisation, utcnow
from engine.parties import Actor


def issued_for(session: Session, mobility: Mobility) -> PersonalTranscript | None:
    """The mobility's transcript, if issued (no visibility check: callers decide what to show)."""
    return session.scalar(select(PersonalTranscript).where(PersonalTranscript.mobility_id == mobility.id))


def readable(actor: Actor, mobility: Mobility, transcript: PersonalTranscript) -> bool:
    """Host side, learner and admins from issue; everyone else of the mobility once it is ready."""
    if actor.is_admin or service.host_side(actor, mobility) or service.is_learner(actor, mobility):
        return True
    return transcript.ready_for_recognition_at is not None and service.is_party(actor, mobility)


def _organisation(session: Session, org_id: int) -> dict[str, Any]:
    org = session.get(Organisation, org_id)
    assert org is not None
    return {"organisation_id": org.id, "name": org.name, "country": org.country, "erasmus_oid": org.erasmus_oid}


def issue(session: Session, *, actor: Actor, mobility_id: int, signer: dict[str, Any] | None = None
          ) -> PersonalTranscript:
    """The host issues the transcript from the current assessment sheets, once every unit of the
    Learning Agreement in force is assessed and the learner acknowledged the sheets (409 otherwise).
    A member of the hosting organisation issues and signs it (403 for anyone else, administrators
    included: :mod:`ecvet.signing`); a second issue is refused (409)."""
    mobility = service.get(session, actor=actor, mobility_id=mobility_id)
    if not (actor.is_admin or service.is_host(actor, mobility)):
        raise Forbidden("Only the hosting organisation issues the Learner's Personal Transcript")
    mobility = service.locked(session, mobility.id)
    signed_by = signing.for_organisation(session, actor=actor, organisation_id=mobility.hosting_organisation_id,
                                         submitted=signer)
    if mobility.status != MobilityStatus.LIVE:
        raise Conflict(f"The mobility is {mobility.status}: the transcript is issued for a live mobility")
    if issued_for(session, mobility) is not None:
        raise Conflict("The transcript is already issued")
    la = service.current_agreement(session, mobility)
    if la is None or not learning_agreement.in_force(session, la):
        raise Conflict("The Learning Agreement is not in force")
    version = learning_agreement.current_version(session, la)
    missing = assessment.missing_units(session, mobility)
    if missing:
        raise Conflict(f"Not every unit is assessed: {', '.join(missing)}")
    sheets = {r.unit_code: r for r in assessment.current(session, mobility)}
    acknowledged = assessment.acknowledgements(session, mobility)
    if any(r.id not in acknowledged for r in sheets.values()):
        raise Conflict("The learner has not acknowledged every assessment sheet yet")
    units = []
    for unit in version.content.get("units") or []:
        sheet = sheets[unit["code"]]
        ack = acknowledged[sheet.id]
        units.append({
            "code": unit["code"], "title": unit.get("title"), "ecvet_points": unit.get("ecvet_points"),
            "learning_outcome": sheet.learning_outcome, "method": sheet.method,
            "date": sheet.assessed_on.isoformat(),
            "assessor": {"name": sheet.assessor_name, "organisation": sheet.assessor_organisation,
                         "role": sheet.assessor_role},
            "result": sheet.result, "grade": sheet.grade, "evidence": sheet.evidence, "comments": sheet.comments,
            "assessment_id": sheet.id,
            "learner_agrees": ack.agrees, "learner_comment": ack.comment,
        })
    learner = mobility.learner
    now = signed_by.signed_at
    content = {
        "learner": {"name": learner.name, "date_of_birth": learner.date_of_birth.isoformat(),
                    "european_student_identifier": learner.european_student_identifier},
        "home": _organisation(session, mobility.sending_organisation_id),
        "host": _organisation(session, mobility.hosting_organisation_id),
        "qualification": {"title": mobility.qualification_title, "eqf_level": mobility.qualification_eqf_level},
        "period": {"start": mobility.start_date.isoformat(), "end": mobility.end_date.isoformat()},
        "learning_agreement": {"id": la.id, "version": version.number, "hash": version.content_hash},
        "units": units,
        "ecvet_points_achieved": sum(float(u["ecvet_points"] or 0) for u in units
                                     if u["result"] == AssessmentResult.ACHIEVED),
        "issued_on": now.date().isoformat(),
    }
    transcript = PersonalTranscript(
        mobility_id=mobility.id, learner_id=learner.id, sending_organisation_id=mobility.sending_organisation_id,
        hosting_organisation_id=mobility.hosting_organisation_id, la_id=la.id, la_version_id=version.id,
        la_version_number=version.number, la_hash=version.content_hash, content=content,
        content_hash=content_hash(content), issued_by=actor.user_id, issued_at=now, **signed_by.columns(),
    )
    session.add(transcript)
    session.flush()
    audit.record(session, actor_id=actor.user_id, action="transcript.issued", mobility_id=mobility.id,
                 transcript_id=transcript.id, content_hash=transcript.content_hash, la_id=la.id,
                 la_version=version.number, la_hash=version.content_hash)
    return transcript


def mark_ready(session: Session, *, actor: Actor, mobility_id: int) -> PersonalTranscript:
    """The host releases the issued transcript for recognition: from now on the home side reads it."""
    mobility = service.get(session, actor=actor, mobility_id=mobility_id)
    if not (actor.is_admin or service.is_host(actor, mobility)):
        raise Forbidden("Only the hosting organisation marks its transcript ready for recognition")
    mobility = service.locked(session, mobility.id)
    transcript = issued_for(session, mobility)
    if transcript is None:
        raise Conflict("No transcript is issued yet")
    if transcript.ready_for_recognition_at is not None:
        raise Conflict("The transcript is already ready for recognition")
    transcript.ready_for_recognition_at = utcnow()
    transcript.ready_marked_by = actor.user_id
    session.flush()
    audit.record(session, actor_id=actor.user_id, action="transcript.ready_for_recognition",
                 mobility_id=mobility.id, transcript_id=transcript.id, content_hash=transcript.content_hash)
    return transcript


def get(session: Session, *, actor: Actor, mobility_id: int) -> PersonalTranscript:
    """The transcript, for who may read it now; 404 for anyone else and before it is issued."""
    mobility = service.get(session, actor=actor, mobility_id=mobility_id)
    transcript = issued_for(session, mobility)
    if transcript is None or not readable(actor, mobility, transcript):
        raise NotFound(f"No transcript of mobility {mobility_id} you can read")
    return transcript
