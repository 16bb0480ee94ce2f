"""What a party reads about a mobility: one place that assembles the records and applies who-sees-what.

The mobility itself, its learner, status history, Learning Agreement versions and signatures, and
the validation and recognition decisions and credits are for every party of the mobility (and
admins; everyone else gets 404 from :func:`records.mobility.get`). The assessment sheets and the
transcript are held back from the home side until the host marks the transcript ready for
recognition: until then they come back as ``None`` with ``transcript_status`` saying why.
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.parties import Actor

from . import assessment, recognition, transcript
from . import learning_agreement as las
from . import mobility as mobilities
from .models import LaVersion, Mobility


def summary(mobility: Mobility) -> dict[str, Any]:
    """The mobility's own fields (no personal data beyond the learner's id)."""
    model = mobility.national_model or {}
    return {
        "id": mobility.id, "status": mobility.status, "mou_id": mobility.mou_id, "learner_id": mobility.learner_id,
        "process_instance_id": mobility.process_instance_id,
        "sending_organisation_id": mobility.sending_organisation_id,
        "hosting_organisation_id": mobility.hosting_organisation_id,
        "competent_institution_home_id": mobility.competent_institution_home_id,
        "competent_institution_host_id": mobility.competent_institution_host_id,
        "intermediary_organisation_id": mobility.intermediary_organisation_id,
        "qualification_title": mobility.qualification_title,
        "qualification_eqf_level": mobility.qualification_eqf_level, "sector": mobility.sector,
        "start_date": mobility.start_date, "end_date": mobility.end_date, "cancel_reason": mobility.cancel_reason,
        "national_model": {k: model.get(k) for k in ("model", "la_approval", "la_approval_days", "recognition_by",
                                                     "validation_recognition_merged", "source", "table_sha256")}
        if model else None,
        "created_at": mobility.created_at, "updated_at": mobility.updated_at,
    }


def _agreement(session: Session, actor: Actor, mobility: Mobility) -> dict[str, Any] | None:
    la = mobilities.current_agreement(session, mobility)
    if la is None:
        return None
    detail = las.detail(session, actor=actor, la_id=la.id)
    versions = session.scalars(select(LaVersion).where(LaVersion.la_id == la.id).order_by(LaVersion.number))
    detail["versions"] = [{"number": v.number, "content_hash": v.content_hash, "changes": v.changes,
                           "created_at": v.created_at} for v in versions]
    return detail


def detail(session: Session, *, actor: Actor, mobility_id: int) -> dict[str, Any]:
    """Everything a party of the mobility may read now (404 for anyone else)."""
    mobility = mobilities.get(session, actor=actor, mobility_id=mobility_id)
    issued = transcript.of(session, mobility)
    readable = issued is not None and transcript.readable(actor, mobility, issued)
    status = "not_issued" if issued is None else (
        "ready_for_recognition" if issued.ready_for_recognition_at is not None else "issued")
    return {
        **summary(mobility),
        "learner": mobilities.learner_view(mobility.learner, mobility.start_date),
        "status_history": [
            {"old_status": c.old_status, "new_status": c.new_status, "reason": c.reason, "changed_at": c.changed_at,
             "changed_by": c.changed_by} for c in mobilities.status_history(session, mobility)
        ],
        "learning_agreement": _agreement(session, actor, mobility),
        "assessments": assessment.sheets(session, actor=actor, mobility_id=mobility.id)
        if assessment.readable(session, actor, mobility) else None,
        "transcript_status": status,
        "transcript": transcript.view(issued) if readable and issued is not None else None,
        **recognition.decisions(session, mobility),
    }
