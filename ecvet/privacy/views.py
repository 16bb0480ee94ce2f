"""What a reader sees of an erasure request: its state, its deadline and the answer."""
from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, TypedDict

from sqlalchemy.orm import Session

from ecvet.mobility.models import Learner
from ecvet.privacy import answer, service
from ecvet.privacy.models import ErasureRequest


class ErasureRequestView(TypedDict):
    id: int
    learner_id: int
    learner_name: Annotated[str, "as held now: a pseudonym once the request is carried out"]
    status: Annotated[str, "received, carried_out or refused"]
    requested_at: datetime
    due_at: Annotated[datetime, "GDPR Art. 12(3): one month after the request"]
    on_behalf: Annotated[bool, "recorded by someone else than the learner (guardian, sending organisation)"]
    handled_at: datetime | None
    refusal_reason: Annotated[str | None, "running_mobility or by_coordinator"]
    refusal_note: str | None
    kept: Annotated[list[dict[str, Any]], "[{what (table), count, reason (evidence, audit, request), until}]"]
    erased: Annotated[list[dict[str, Any]], "[{what (table), count, how (deleted, pseudonymised)}]"]
    language: str
    answer: Annotated[list[str], "the answer to the learner, paragraph by paragraph, in their language"]


def erasure_request(session: Session, row: ErasureRequest) -> ErasureRequestView:
    return {"id": row.id, "learner_id": row.learner_id, "learner_name": session.get_one(Learner, row.learner_id).name,
            "status": row.status, "requested_at": row.requested_at, "due_at": service.due_at(row),
            "on_behalf": row.on_behalf, "handled_at": row.handled_at, "refusal_reason": row.refusal_reason,
            "refusal_note": row.refusal_note, "kept": row.kept, "erased": row.erased, "language": row.language,
            "answer": answer.lines(row)}
