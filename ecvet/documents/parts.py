"""What the document builders share: fields and labels as people read them, organisations by name,
the learner and mobility block every mobility document starts with."""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ecvet.documents.model import EMPTY, text
from ecvet.mobility.models import Mobility
from ecvet.national_models import codes
from engine.models import Organisation


def fields(*pairs: tuple[str, Any]) -> list[tuple[str, str]]:
    return [(label, text(value)) for label, value in pairs]


def sector_label(code: str | None) -> str | None:
    """A sector as people read it (``hospitality`` -> "Hotel, restaurants and catering", a msgid of the
    document catalogue); a code not in the list stays as it is."""
    return next((c.label for c in codes.sectors() if c.code == code), code)


def organisations(session: Session, ids: Iterable[int | None]) -> dict[int, Organisation]:
    wanted = {i for i in ids if isinstance(i, int)}
    if not wanted:
        return {}
    return {o.id: o for o in session.scalars(select(Organisation).where(Organisation.id.in_(wanted)))}


def organisation_label(orgs: Mapping[int, Organisation], org_id: int | None) -> str:
    org = orgs.get(org_id) if org_id is not None else None
    if org is None:
        return EMPTY if org_id is None else f"Organisation {org_id}"
    return f"{org.name} ({org.country})"


_OUTCOME_KINDS = {"knowledge": "Knowledge", "skills": "Skills", "competence": "Competence"}


def outcome_line(outcome: Any) -> str:
    """A learning outcome as printed: its kind (knowledge, skills, competence) first when it has one."""
    if isinstance(outcome, Mapping):
        kind = _OUTCOME_KINDS.get(str(outcome.get("kind")))
        line = f"{kind}: {outcome.get('text')}" if kind else text(outcome.get("text"))
        return f"{line} (ESCO {outcome['esco_skill']})" if outcome.get("esco_skill") else line
    return text(outcome)


def points(value: Any) -> float | int:
    return value if isinstance(value, int | float) and not isinstance(value, bool) else 0


# --------------------------------------------------------------------------------------------------
# Mobility records: assessment sheet, Learner's Personal Transcript, validation and recognition record
# --------------------------------------------------------------------------------------------------

METHODS = {
    "observation": "observation", "practical_task": "practical task", "portfolio": "portfolio",
    "interview": "interview", "test": "test",
}
RESULTS = {"achieved": "achieved", "not_achieved": "not achieved"}
VALIDATION = {"validated": "validated", "partly_validated": "partly validated", "not_validated": "not validated"}
IMPLICATIONS = {
    "exempted_activity": "exempted from a learning activity", "no_retake": "no retake of the exam",
    "extra_credits": "extra credits", "other": "other",
}


def learner_fields(mobility: Mobility, orgs: Mapping[int, Organisation]) -> list[tuple[str, str]]:
    """Who and which mobility a document is about: name and student identifier, never the date of birth,
    which only the Learning Agreement's template asks for (minimisation, issue 16)."""
    learner = mobility.learner
    return fields(
        ("Learner", learner.name),
        ("European Student Identifier", learner.european_student_identifier),
        ("Sending organisation", organisation_label(orgs, mobility.sending_organisation_id)),
        ("Hosting organisation", organisation_label(orgs, mobility.hosting_organisation_id)),
        ("Qualification", f"{mobility.qualification_title}"
                          + (f" (EQF {mobility.qualification_eqf_level})" if mobility.qualification_eqf_level else "")),
        ("Mobility period", f"{mobility.start_date.isoformat()} to {mobility.end_date.isoformat()}"),
    )


def mobility_organisations(session: Session, mobility: Mobility, *more: int | None) -> dict[int, Organisation]:
    return organisations(session, [mobility.sending_organisation_id, mobility.hosting_organisation_id,
                                    mobility.competent_institution_home_id, mobility.competent_institution_host_id,
                                    *more])


