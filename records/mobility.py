"""Mobilities: one learner's stay abroad under an active MoU, from nomination to recognition.

A mobility is created by the sending organisation (:func:`nominate`), which also starts the Mobility
process (``processes/mobility.bpmn``) with every lane bound to its party: the sending and hosting
organisations, the learner's own account, the parent or guardian (their account, or the sending
organisation recording a paper signature), and the competent institutions of the home and host
countries (where the national model names none, the sending and hosting organisations stand in, since
they then hold the function themselves).

The national model is evaluated once, from the table deployed with the process version the mobility
runs on, and kept on the mobility (``national_model``): the Learning Agreement's signatures, the
recogniser and the process gates all read that one answer, so redeploying the table changes new
mobilities and never the ones under way.

Status: ``nomination`` → ``live`` (the start date came with the Learning Agreement in force) →
``recognized``; or ``cancelled``. Every change is a :class:`~records.models.MobilityStatusChange` row
and an audit event. Who may see a mobility, its learner and its documents is decided here too
(:func:`is_party`, :func:`home_side`, :func:`host_side`); everyone else gets 404.
"""
from __future__ import annotations

import math
from dataclasses import replace
from datetime import UTC, date, datetime, time
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from engine import audit, deployments, instances
from engine.errors import Conflict, Forbidden, Invalid, NotFound
from engine.models import Organisation, User, utcnow
from engine.pagination import Page, paginate
from engine.parties import EMAIL_RE, Actor

from . import learning_agreement as las
from . import national_models
from .models import (
    CompetenceFunction,
    LaStatus,
    Learner,
    LearningAgreement,
    Mobility,
    MobilityStatus,
    MobilityStatusChange,
    Mou,
    MouVersion,
    OrganisationCompetence,
)

PROCESS_KEY = "mobility"
#: How often a mobility may be postponed: each postponement re-enters the "before" phase of the
#: process, and SpiffWorkflow's task tree must stay far below its depth limit (hazard 7).
MAX_POSTPONEMENTS = 10
POSTPONED = "postponed"
START_MISSED = "start date reached without a Learning Agreement in force"

_TRANSITIONS = {
    MobilityStatus.NOMINATION: {MobilityStatus.LIVE, MobilityStatus.CANCELLED},
    MobilityStatus.LIVE: {MobilityStatus.RECOGNIZED, MobilityStatus.CANCELLED},
    MobilityStatus.RECOGNIZED: set(),
    MobilityStatus.CANCELLED: set(),
}

# --------------------------------------------------------------------------------------------------
# Who takes part, who sees what
# --------------------------------------------------------------------------------------------------


def home_organisation_ids(mobility: Mobility) -> set[int]:
    """The home side: the sending organisation and the competent institution (home)."""
    return {i for i in (mobility.sending_organisation_id, mobility.competent_institution_home_id) if i}


def host_organisation_ids(mobility: Mobility) -> set[int]:
    """The host side: the hosting organisation and the competent institution (host)."""
    return {i for i in (mobility.hosting_organisation_id, mobility.competent_institution_host_id) if i}


def party_organisation_ids(mobility: Mobility) -> set[int]:
    ids = home_organisation_ids(mobility) | host_organisation_ids(mobility)
    if mobility.intermediary_organisation_id:
        ids.add(mobility.intermediary_organisation_id)
    return ids


def is_learner(actor: Actor, mobility: Mobility) -> bool:
    """The learner or their parent or guardian, signed in with their own account."""
    learner = mobility.learner
    return actor.user_id in {u for u in (learner.user_id, learner.guardian_user_id) if u is not None}


def is_party(actor: Actor, mobility: Mobility) -> bool:
    """Admins, the learner (and guardian), and members of every organisation taking part."""
    if actor.is_admin or is_learner(actor, mobility):
        return True
    return bool(party_organisation_ids(mobility) & actor.organisation_ids)


def home_side(actor: Actor, mobility: Mobility) -> bool:
    return bool(home_organisation_ids(mobility) & actor.organisation_ids)


def host_side(actor: Actor, mobility: Mobility) -> bool:
    return bool(host_organisation_ids(mobility) & actor.organisation_ids)


def is_sender(actor: Actor, mobility: Mobility) -> bool:
    return mobility.sending_organisation_id in actor.organisation_ids


def is_host(actor: Actor, mobility: Mobility) -> bool:
    return mobility.hosting_organisation_id in actor.organisation_ids


def get(session: Session, *, actor: Actor, mobility_id: int) -> Mobility:
    """The mobility, for its parties and admins; to anyone else it does not exist (404)."""
    mobility = session.get(Mobility, mobility_id)
    if mobility is None or not is_party(actor, mobility):
        raise NotFound(f"No mobility {mobility_id}")
    return mobility


def locked(session: Session, mobility_id: int) -> Mobility:
    """The mobility row locked for this unit of work, so concurrent decisions on it serialise."""
    mobility = session.scalars(
        select(Mobility).where(Mobility.id == mobility_id).with_for_update(of=Mobility)
        .execution_options(populate_existing=True)
    ).one_or_none()
    if mobility is None:
        raise NotFound(f"No mobility {mobility_id}")
    return mobility


def list_for(
    session: Session,
    *,
    actor: Actor,
    status: str | None = None,
    mou_id: int | None = None,
    learner_id: int | None = None,
    cursor: str | None = None,
    limit: int = 50,
) -> Page[Mobility]:
    """The mobilities the caller takes part in (all of them for admins), oldest first."""
    stmt = select(Mobility)
    if not actor.is_admin:
        orgs = actor.organisation_ids or {-1}
        learner_ids = select(Learner.id).where(
            or_(Learner.user_id == actor.user_id, Learner.guardian_user_id == actor.user_id))
        stmt = stmt.where(or_(
            Mobility.sending_organisation_id.in_(orgs),
            Mobility.hosting_organisation_id.in_(orgs),
            Mobility.competent_institution_home_id.in_(orgs),
            Mobility.competent_institution_host_id.in_(orgs),
            Mobility.intermediary_organisation_id.in_(orgs),
            Mobility.learner_id.in_(learner_ids),
        ))
    if status:
        if status not in MobilityStatus.ALL:
            raise Invalid("Unknown status", errors={"status": [f"One of {', '.join(MobilityStatus.ALL)}"]})
        stmt = stmt.where(Mobility.status == status)
    if mou_id is not None:
        stmt = stmt.where(Mobility.mou_id == mou_id)
    if learner_id is not None:
        stmt = stmt.where(Mobility.learner_id == learner_id)
    return paginate(session, stmt, [Mobility.id], cursor=cursor, limit=limit)


# --------------------------------------------------------------------------------------------------
# The MoU a mobility runs under
# --------------------------------------------------------------------------------------------------


def _active_content(session: Session, mou: Mou) -> dict[str, Any] | None:
    if mou.active_version_id is None:
        return None
    version = session.get(MouVersion, mou.active_version_id)
    return version.content if version is not None else None


def _same_title(a: Any, b: Any) -> bool:
    return isinstance(a, str) and isinstance(b, str) and a.strip().casefold() == b.strip().casefold()


def mou_qualification(session: Session, mobility: Mobility) -> dict[str, Any] | None:
    """The qualification of the MoU's version in force that the mobility is for, if there is one."""
    mou = session.get(Mou, mobility.mou_id)
    content = _active_content(session, mou) if mou is not None else None
    for qualification in (content or {}).get("qualifications") or []:
        if _same_title(qualification.get("title"), mobility.qualification_title):
            return qualification
    return None


def mou_units(session: Session, mobility: Mobility) -> dict[str, dict[str, Any]]:
    """Units the MoU in force covers for the mobility's qualification, by code: what an LA may contain."""
    qualification = mou_qualification(session, mobility) or {}
    return {u["code"]: u for u in qualification.get("units") or [] if isinstance(u.get("code"), str)}


def national_model(session: Session, mobility: Mobility) -> national_models.NationalModel:
    """The national model the mobility was nominated under (evaluated now for rows made without one)."""
    if mobility.national_model:
        return national_models.NationalModel(**mobility.national_model)
    country = session.scalar(select(Organisation.country).where(Organisation.id == mobility.sending_organisation_id))
    return national_models.decide(country or "", mobility.sector, mobility.qualification_eqf_level, session=session)


# --------------------------------------------------------------------------------------------------
# Nomination
# --------------------------------------------------------------------------------------------------

_LEARNER_FIELDS = ("name", "date_of_birth", "email", "guardian_name", "guardian_email", "european_student_identifier")


def _text(value: Any, limit: int) -> str | None:
    text = str(value).strip() if value is not None else ""
    return text[:limit] if text else None


def _date(value: Any, name: str, errors: dict[str, list[str]]) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except (TypeError, ValueError):
        errors.setdefault(name, []).append("Not an ISO date (YYYY-MM-DD)")
        return None


def _user_by_email(session: Session, email: str | None) -> int | None:
    if not email:
        return None
    return session.scalar(select(User.id).where(User.email == email.strip().lower(), User.is_active.is_(True)))


def _new_learner(session: Session, actor: Actor, data: dict[str, Any], start: date | None) -> Learner:
    """A new learner from the nomination's details, or the one already known by the same European
    Student Identifier and e-mail address."""
    errors: dict[str, list[str]] = {}
    unknown = sorted(set(data) - set(_LEARNER_FIELDS))
    for name in unknown:
        errors[f"learner.{name}"] = ["Not a learner field"]
    name = _text(data.get("name"), 200)
    email = (_text(data.get("email"), 254) or "").lower()
    born = _date(data.get("date_of_birth"), "learner.date_of_birth", errors)
    guardian_name = _text(data.get("guardian_name"), 200)
    guardian_email = (_text(data.get("guardian_email"), 254) or "").lower() or None
    esi = _text(data.get("european_student_identifier"), 200)
    if not name:
        errors["learner.name"] = ["Required"]
    if not EMAIL_RE.match(email):
        errors["learner.email"] = ["A valid e-mail address: the learner signs with the account of this address"]
    if guardian_email and not EMAIL_RE.match(guardian_email):
        errors["learner.guardian_email"] = ["Not a valid e-mail address"]
    if born is not None and born >= utcnow().date():
        errors["learner.date_of_birth"] = ["In the future"]
    learner = Learner(name=name or "", date_of_birth=born or date.min, email=email, guardian_name=guardian_name,
                      guardian_email=guardian_email, european_student_identifier=esi)
    if born is not None and start is not None and learner.is_minor(start) and not (guardian_name and guardian_email):
        errors["learner.guardian_name"] = ["The learner is a minor on the first day of the mobility: a parent or "
                                           "guardian (name and e-mail) signs the Learning Agreement too"]
    known = session.scalar(select(Learner).where(Learner.european_student_identifier == esi)) if esi else None
    if known is not None:
        # The same person, already known from another mobility: the European Student Identifier and the
        # e-mail address together say so, and their record (and achievements) is reused.
        if known.email.lower() == email and not errors:
            return known
        errors["learner.european_student_identifier"] = ["This identifier belongs to a learner with another "
                                                         "e-mail address"]
    learner.user_id = _user_by_email(session, email) if email else None
    if email and EMAIL_RE.match(email) and learner.user_id is None:
        errors["learner.email"] = [f"No account for {email}: the learner signs with their own account; ask an "
                                   "administrator to create it first"]
    learner.guardian_user_id = _user_by_email(session, guardian_email)
    if errors:
        raise Invalid("The learner is not valid", errors=errors)
    learner.created_at = utcnow()
    session.add(learner)
    session.flush()
    audit.record(session, actor_id=actor.user_id, action="learner.created", learner_id=learner.id)
    return learner


def _existing_learner(session: Session, actor: Actor, learner_id: int) -> Learner:
    learner = session.get(Learner, learner_id)
    if learner is None:
        raise Invalid("Unknown learner", errors={"learner_id": [f"No learner {learner_id}"]})
    if not actor.is_admin:
        known = session.scalar(select(Mobility.id).where(
            Mobility.learner_id == learner_id, Mobility.sending_organisation_id.in_(actor.organisation_ids or {-1}),
        ).limit(1))
        if known is None:
            raise Invalid("Unknown learner", errors={"learner_id": [f"No learner {learner_id}"]})
    return learner


def _registered(session: Session, country: str, function: str | None = None) -> set[int]:
    stmt = select(OrganisationCompetence.organisation_id).where(OrganisationCompetence.country == country)
    if function:
        stmt = stmt.where(OrganisationCompetence.function == function)
    return set(session.scalars(stmt))


def _home_institution(
    session: Session, model: national_models.NationalModel, country: str, chosen: int | None
) -> int | None:
    """The competent institution (home) the national model needs (LA approval, recognition), if any."""
    needed = []
    if model.la_approval != "none":
        needed.append(CompetenceFunction.LA_APPROVAL)
    if model.recognition_by == "competent_institution":
        needed.append(CompetenceFunction.RECOGNITION)
    candidates: set[int] | None = None
    for function in needed:
        ids = _registered(session, country, function)
        candidates = ids if candidates is None else candidates & ids
    if chosen is not None:
        if needed and chosen not in (candidates or set()):
            raise Invalid("The competent institution is not registered for what the national model requires", errors={
                "competent_institution_home_id": [f"Not registered in {country} for {', '.join(needed)}"]})
        if not needed and chosen not in _registered(session, country):
            raise Invalid("Not a competent institution of the home country",
                          errors={"competent_institution_home_id": [f"Not registered in {country}"]})
        return chosen
    if not needed:
        return None
    if not candidates:
        raise Invalid(f"The national model of {country} ({model.model}) needs a competent institution for "
                      f"{', '.join(needed)}, but none is registered for all of it", errors={
                          "competent_institution_home_id": ["Register the competent institution first"]})
    if len(candidates) > 1:
        raise Invalid("Several competent institutions could act: say which", errors={
            "competent_institution_home_id": [f"One of {sorted(candidates)}"]})
    return next(iter(candidates))


def _host_institution(session: Session, country: str, chosen: int | None) -> int | None:
    if chosen is None:
        return None
    if chosen not in _registered(session, country):
        raise Invalid("Not a competent institution of the host country",
                      errors={"competent_institution_host_id": [f"Not registered in {country}"]})
    return chosen


def _model_for_process(session: Session, country: str, sector: str | None, eqf_level: int | None) -> tuple[
        national_models.NationalModel, Any]:
    """The national model from the table deployed with the latest Mobility process version."""
    try:
        definition = deployments.get_definition(session, key=PROCESS_KEY)
    except NotFound as exc:
        raise Conflict("The Mobility process is not deployed; an administrator deploys processes/mobility.bpmn") \
            from exc
    table = deployments.definition_file(session, definition, national_models.FILENAME)
    model = national_models.decide(country, sector, eqf_level, dmn_bytes=table, session=session)
    return replace(model, source=f"deployed: {definition.key} v{definition.version}"), definition


def start_deadline(start: date) -> str:
    """The moment the mobility starts, as the process timers read it: midnight UTC of the start date."""
    return datetime.combine(start, time(0, 0), tzinfo=UTC).isoformat()


def _check_dates(session: Session, mou: Mou, start: date | None, end: date | None,
                 errors: dict[str, list[str]]) -> None:
    if start is None or end is None:
        return
    if start <= utcnow().date():
        errors.setdefault("start_date", []).append("The mobility must start after today")
    if end < start:
        errors.setdefault("end_date", []).append("Before the start date")
        return
    content = _active_content(session, mou) or {}
    weeks = math.ceil(((end - start).days + 1) / 7)
    duration = content.get("mobility_duration_weeks") or {}
    if isinstance(duration.get("min"), int) and weeks < duration["min"]:
        errors.setdefault("end_date", []).append(f"{weeks} week(s): the MoU plans at least {duration['min']}")
    if isinstance(duration.get("max"), int) and weeks > duration["max"]:
        errors.setdefault("end_date", []).append(f"{weeks} week(s): the MoU plans at most {duration['max']}")
    valid_until = content.get("valid_until")
    if isinstance(valid_until, str):
        try:
            if end > date.fromisoformat(valid_until):
                errors.setdefault("end_date", []).append(f"After the MoU's validity date ({valid_until})")
        except ValueError:
            pass


def nominate(
    session: Session,
    *,
    actor: Actor,
    mou_id: int,
    hosting_organisation_id: int,
    qualification_title: str,
    start_date: date | str,
    end_date: date | str,
    learner: dict[str, Any] | None = None,
    learner_id: int | None = None,
    sector: str | None = None,
    qualification_eqf_level: int | None = None,
    intermediary_organisation_id: int | None = None,
    competent_institution_home_id: int | None = None,
    competent_institution_host_id: int | None = None,
    business_key: str | None = None,
) -> Mobility:
    """The sending organisation nominates a learner for a mobility under its active MoU and starts the
    Mobility process, in one unit of work.

    Refused: 404 for a MoU the caller cannot see; 403 unless the caller is a member of the MoU's
    sending organisation (or an admin); 409 when the MoU is not in force or the process is not
    deployed; 422 when the hosting organisation did not sign the MoU, the MoU does not cover the
    qualification, the dates do not fit the MoU, or the learner's data is incomplete."""
    from . import mou as mous

    mou = mous.get(session, actor=actor, mou_id=mou_id)
    if not (actor.is_admin or mou.sending_organisation_id in actor.organisation_ids):
        raise Forbidden("Only members of the MoU's sending organisation nominate learners under it")
    # In force = a version approved by everyone and not closed; an amendment in approval keeps the
    # approved version in force, so nominations go on meanwhile.
    if mous.in_force_version(mou) is None:
        raise Conflict(f"The MoU is {mou.status} and has no version in force: a mobility runs under a MoU in force")
    content = _active_content(session, mou) or {}
    errors: dict[str, list[str]] = {}
    start = _date(start_date, "start_date", errors)
    end = _date(end_date, "end_date", errors)
    _check_dates(session, mou, start, end, errors)
    signing = {o.get("organisation_id") for o in content.get("signing_organisations") or []}
    if hosting_organisation_id == mou.sending_organisation_id or hosting_organisation_id not in signing:
        errors["hosting_organisation_id"] = ["The hosting organisation must be a signing partner of the MoU"]
    qualification = next((q for q in content.get("qualifications") or []
                          if _same_title(q.get("title"), qualification_title)), None)
    if qualification is None:
        covered = [q.get("title") for q in content.get("qualifications") or []]
        errors["qualification_title"] = [f"The MoU does not cover this qualification; it covers {covered}"]
    eqf = qualification.get("eqf_level") if qualification else None
    if qualification_eqf_level is not None and eqf is not None and qualification_eqf_level != eqf:
        errors["qualification_eqf_level"] = [f"The MoU gives EQF level {eqf} for this qualification"]
    eqf = eqf if eqf is not None else qualification_eqf_level
    for name, org_id in (("intermediary_organisation_id", intermediary_organisation_id),
                         ("competent_institution_home_id", competent_institution_home_id),
                         ("competent_institution_host_id", competent_institution_host_id)):
        if org_id is not None and session.get(Organisation, org_id) is None:
            errors[name] = [f"No organisation {org_id}"]
    if (learner is None) == (learner_id is None):
        errors["learner"] = ["Give either the learner's details (learner) or an existing learner_id"]
    if errors:
        raise Invalid("The mobility is not valid", errors=errors)
    assert start is not None and end is not None and qualification is not None
    person = _existing_learner(session, actor, learner_id) if learner_id is not None else \
        _new_learner(session, actor, learner or {}, start)
    if person.user_id is None:
        raise Invalid("The learner has no account to sign with", errors={"learner_id": ["No linked account"]})
    if person.is_minor(start) and not (person.guardian_name and person.guardian_email):
        raise Invalid("A minor needs a parent or guardian", errors={"learner.guardian_name": ["Required"]})

    sending = session.get(Organisation, mou.sending_organisation_id)
    hosting = session.get(Organisation, hosting_organisation_id)
    assert sending is not None and hosting is not None
    sector = (sector or content.get("sector") or "").strip().lower() or None
    model, definition = _model_for_process(session, sending.country, sector, eqf)
    ci_home = _home_institution(session, model, sending.country, competent_institution_home_id)
    ci_host = _host_institution(session, hosting.country, competent_institution_host_id)

    now = utcnow()
    mobility = Mobility(
        learner_id=person.id, mou_id=mou.id, sending_organisation_id=sending.id, hosting_organisation_id=hosting.id,
        qualification_title=qualification["title"], qualification_eqf_level=eqf, sector=sector,
        start_date=start, end_date=end, status=MobilityStatus.NOMINATION, created_at=now, updated_at=now,
        competent_institution_home_id=ci_home, competent_institution_host_id=ci_host,
        intermediary_organisation_id=intermediary_organisation_id, national_model=model.as_dict(),
        created_by=actor.user_id,
    )
    session.add(mobility)
    session.flush()
    session.add(MobilityStatusChange(mobility_id=mobility.id, old_status=None, new_status=MobilityStatus.NOMINATION,
                                     reason="nominated", changed_at=now, changed_by=actor.user_id))
    audit.record(session, actor_id=actor.user_id, action="mobility.nominated", mobility_id=mobility.id,
                 learner_id=person.id, mou_id=mou.id, hosting_organisation_id=hosting.id,
                 national_model=model.model, table_sha256=model.table_sha256)
    instance = instances.start(
        session, actor=actor, process_key=PROCESS_KEY, version=definition.version,
        business_key=business_key or f"mobility-{mobility.id}",
        variables=process_variables(session, mobility),
        parties=_bindings(mobility),
    )
    mobility.process_instance_id = instance.id
    session.flush()
    return mobility


def _bindings(mobility: Mobility) -> dict[str, Any]:
    """Lane roles of processes/mobility.bpmn → parties. Where the national model names no competent
    institution, the sending (home) or hosting (host) organisation holds the function itself."""
    learner = mobility.learner
    guardian: Any = {"user_id": learner.guardian_user_id} if learner.guardian_user_id else \
        mobility.sending_organisation_id
    return {
        "sending": mobility.sending_organisation_id,
        "hosting": mobility.hosting_organisation_id,
        "learner": {"user_id": learner.user_id},
        "guardian": guardian,
        "competent-institution-home": mobility.competent_institution_home_id or mobility.sending_organisation_id,
        "competent-institution-host": mobility.competent_institution_host_id or mobility.hosting_organisation_id,
    }


@instances.start_check("mobility.nominated")
def _nominated(session: Session, request: instances.StartRequest) -> None:
    """Every start of the Mobility process (``startCheck`` in processes/mobility.bpmn) is a nomination:
    :func:`nominate` records the mobility and starts its one instance in the same unit of work, binding
    exactly the mobility's parties. So an instance naming a mobility that already has its process, or
    that does not exist, or binding other organisations or another learner, is refused: nobody steers
    someone else's mobility from a process they started themselves."""
    mobility_id = request.variables.get("mobility_id")
    mobility = session.get(Mobility, mobility_id) \
        if isinstance(mobility_id, int) and not isinstance(mobility_id, bool) else None
    if mobility is None or mobility.process_instance_id is not None:
        raise Invalid("A Mobility process starts with the nomination of its learner (POST /api/mobilities)",
                      errors={"variables.mobility_id": ["Not a mobility being nominated"]})
    expected = {role: instances.binding(value) for role, value in _bindings(mobility).items()}
    errors = {f"parties.{role}": [f"Must be the mobility's {role}"]
              for role, bound in expected.items() if request.parties.get(role) != bound}
    if errors:
        raise Invalid("The parties are not the mobility's", errors=errors)


def process_variables(session: Session, mobility: Mobility) -> dict[str, Any]:
    """What the process starts with: references, dates, the national model's inputs and the units
    the MoU offers (small JSON only; the documents stay in their tables)."""
    country = session.scalar(select(Organisation.country).where(Organisation.id == mobility.sending_organisation_id))
    return {
        "mobility_id": mobility.id,
        "mou_id": mobility.mou_id,  # the agreement it runs under: listed among the instance's documents
        "qualification_title": mobility.qualification_title,
        "start_date": mobility.start_date.isoformat(),
        "end_date": mobility.end_date.isoformat(),
        "start_deadline": start_deadline(mobility.start_date),
        "learner_is_minor": mobility.learner.is_minor(mobility.start_date),
        "country": country,
        "sector": mobility.sector,
        "eqf_level": mobility.qualification_eqf_level or 0,
        "mou_units": [
            {"code": u["code"], "title": u.get("title"), "ecvet_points": u.get("ecvet_points")}
            for u in mou_units(session, mobility).values()
        ],
        # The gateways read these before the Learning Agreement exists.
        "la_id": None,
        "la_status": None,
        "la_next_party": None,
        "la_refused": False,
        "la_refusal": None,
    }


# --------------------------------------------------------------------------------------------------
# Status
# --------------------------------------------------------------------------------------------------


def transition(session: Session, mobility: Mobility, new: str, *, actor_id: int | None, reason: str) -> None:
    """Move the mobility to `new` (409 when the current status does not allow it), with its history row."""
    old = mobility.status
    if new not in _TRANSITIONS.get(old, set()):
        raise Conflict(f"The mobility is {old}; it cannot become {new}")
    now = utcnow()
    mobility.status = new
    mobility.updated_at = now
    session.add(MobilityStatusChange(mobility_id=mobility.id, old_status=old, new_status=new, reason=reason,
                                     changed_at=now, changed_by=actor_id))
    session.flush()
    audit.record(session, actor_id=actor_id, action="mobility.status_changed", mobility_id=mobility.id, old=old,
                 new=new, reason=reason)


def current_agreement(session: Session, mobility: Mobility) -> LearningAgreement | None:
    """The mobility's Learning Agreement (the one not deleted), if it has one."""
    return session.scalar(select(LearningAgreement).where(
        LearningAgreement.mobility_id == mobility.id, LearningAgreement.status != LaStatus.DELETED))


def go_live(session: Session, *, mobility_id: int, actor: Actor | None = None) -> Mobility:
    """The start date has come and the Learning Agreement is in force: the mobility is live.

    Run by the process (worker) at the start date; refused (409) before the start date or when the
    Learning Agreement lacks a signature or approval."""
    if actor is not None and not actor.is_admin:
        raise Forbidden("The mobility goes live by the process, at its start date")
    mobility = locked(session, mobility_id)
    if utcnow().date() < mobility.start_date:
        raise Conflict(f"The mobility starts on {mobility.start_date.isoformat()}")
    la = current_agreement(session, mobility)
    if la is None or not las.in_force(session, la):
        raise Conflict("The Learning Agreement is not signed (and approved where required): the mobility cannot "
                       "start")
    transition(session, mobility, MobilityStatus.LIVE, actor_id=actor.user_id if actor else None,
               reason=f"started on {mobility.start_date.isoformat()} with Learning Agreement version "
                      f"{las.current_version(session, la).number} in force")
    return mobility


def start_missed(session: Session, *, mobility_id: int) -> dict[str, Any]:
    """Record that the start date came without the Learning Agreement in force (run by the process's
    timer through the worker), and say where the signing stood."""
    mobility = locked(session, mobility_id)
    if mobility.status != MobilityStatus.NOMINATION:
        raise Conflict(f"The mobility is {mobility.status}")
    la = current_agreement(session, mobility)
    state: dict[str, Any] = {"la_id": None, "la_status": None, "la_version": None, "la_next_party": None}
    if la is not None:
        state = {"la_id": la.id, "la_status": la.status, "la_version": las.current_version(session, la).number,
                 "la_next_party": las.next_party(session, la)}
    if la is not None and las.in_force(session, la):
        raise Conflict("The Learning Agreement is in force: the mobility can start")
    reason = f"{START_MISSED}: the Learning Agreement was " + (
        "not prepared" if la is None else f"{la.status} (version {state['la_version']}, "
                                          f"{state['la_next_party']} to sign next)")
    session.add(MobilityStatusChange(mobility_id=mobility.id, old_status=mobility.status, new_status=mobility.status,
                                     reason=reason, changed_at=utcnow(), changed_by=None))
    session.flush()
    audit.record(session, actor_id=None, action="mobility.start_missed", mobility_id=mobility.id,
                 start_date=mobility.start_date.isoformat(), **state)
    return state


def postpone(
    session: Session, *, actor: Actor, mobility_id: int, start_date: date | str, end_date: date | str, reason: str
) -> Mobility:
    """Move a mobility that could not start (its Learning Agreement was not in force) to new dates.

    The sending organisation decides; only a nominated mobility moves, within the MoU's limits, at
    most :data:`MAX_POSTPONEMENTS` times. Signatures already given keep counting."""
    mobility = get(session, actor=actor, mobility_id=mobility_id)
    mobility = locked(session, mobility.id)
    if not (actor.is_admin or is_sender(actor, mobility)):
        raise Forbidden("Only the sending organisation postpones a mobility")
    if mobility.status != MobilityStatus.NOMINATION:
        raise Conflict(f"The mobility is {mobility.status}; only a mobility that has not started is postponed")
    errors: dict[str, list[str]] = {}
    if not (reason or "").strip():
        errors["reason"] = ["Say why the mobility is postponed"]
    start = _date(start_date, "start_date", errors)
    end = _date(end_date, "end_date", errors)
    mou = session.get(Mou, mobility.mou_id)
    assert mou is not None
    _check_dates(session, mou, start, end, errors)
    if start is not None and start <= mobility.start_date:
        errors.setdefault("start_date", []).append("A postponement moves the start later")
    postponed = _postponements(session, mobility)
    if postponed >= MAX_POSTPONEMENTS:
        raise Conflict(f"The mobility was postponed {postponed} times already: cancel it and nominate again")
    if errors:
        raise Invalid("The postponement is not valid", errors=errors)
    assert start is not None and end is not None
    learner = mobility.learner
    if learner.is_minor(start) and not (learner.guardian_name and learner.guardian_email):
        raise Invalid("On the new start date the learner is a minor: record a parent or guardian first",
                      errors={"start_date": ["The learner would be a minor without a guardian on record"]})
    old = (mobility.start_date, mobility.end_date)
    now = utcnow()
    mobility.start_date, mobility.end_date = start, end
    mobility.updated_at = now
    # Kept in the status history too (the status stays "nomination"): the dates moved, and why.
    session.add(MobilityStatusChange(
        mobility_id=mobility.id, old_status=mobility.status, new_status=mobility.status, changed_at=now,
        changed_by=actor.user_id, reason=f"{POSTPONED} from {old[0].isoformat()} to {start.isoformat()}: "
                                         f"{reason.strip()}"))
    session.flush()
    audit.record(session, actor_id=actor.user_id, action="mobility.postponed", mobility_id=mobility.id,
                 old_start=old[0].isoformat(), old_end=old[1].isoformat(), start=start.isoformat(),
                 end=end.isoformat(), reason=reason.strip(), postponement=postponed + 1)
    return mobility


def _postponements(session: Session, mobility: Mobility) -> int:
    return session.scalar(select(func.count(MobilityStatusChange.id)).where(
        MobilityStatusChange.mobility_id == mobility.id, MobilityStatusChange.reason.like(f"{POSTPONED} %"))) or 0


def cancel(session: Session, *, actor: Actor, mobility_id: int, reason: str) -> Mobility:
    """Cancel a mobility that is not recognised yet (the sending organisation, with a reason)."""
    mobility = get(session, actor=actor, mobility_id=mobility_id)
    mobility = locked(session, mobility.id)
    if not (actor.is_admin or is_sender(actor, mobility)):
        raise Forbidden("Only the sending organisation cancels a mobility")
    if not (reason or "").strip():
        raise Invalid("Say why the mobility is cancelled", errors={"reason": ["Required"]})
    transition(session, mobility, MobilityStatus.CANCELLED, actor_id=actor.user_id, reason=reason.strip())
    mobility.cancel_reason = reason.strip()
    session.flush()
    return mobility


def withdraw(session: Session, *, actor: Actor, mobility_id: int, reason: str) -> Mobility:
    """The sending organisation cancels a mobility at any time before recognition (the learner drops
    out, the host closes...): the mobility is cancelled and its process instance ends, its open tasks
    withdrawn. The instance is terminated by the platform on the sender's behalf; the audit trail
    names the person who withdrew the mobility."""
    from engine import messages, operations
    from engine.models import InstanceStatus, ProcessInstance

    mobility = cancel(session, actor=actor, mobility_id=mobility_id, reason=reason)
    instance = session.get(ProcessInstance, mobility.process_instance_id) if mobility.process_instance_id else None
    if instance is not None and instance.status not in (InstanceStatus.COMPLETED, InstanceStatus.TERMINATED):
        operations.terminate(session, actor=messages.SYSTEM, instance_id=instance.id,
                             reason=f"mobility {mobility.id} withdrawn by user {actor.user_id}: {reason.strip()}")
    audit.record(session, actor_id=actor.user_id, action="mobility.withdrawn", mobility_id=mobility.id,
                 instance_id=instance.id if instance is not None else None, reason=reason.strip())
    return mobility


def status_history(session: Session, mobility: Mobility) -> list[MobilityStatusChange]:
    return list(session.scalars(select(MobilityStatusChange).where(MobilityStatusChange.mobility_id == mobility.id)
                                .order_by(MobilityStatusChange.id)))


# --------------------------------------------------------------------------------------------------
# Learners
# --------------------------------------------------------------------------------------------------


def learner_view(learner: Learner, on: date | None = None) -> dict[str, Any]:
    """A learner's personal data, for the parties of their mobility and admins only."""
    return {
        "id": learner.id, "name": learner.name, "date_of_birth": learner.date_of_birth, "email": learner.email,
        "guardian_name": learner.guardian_name, "guardian_email": learner.guardian_email,
        "european_student_identifier": learner.european_student_identifier,
        "is_minor": learner.is_minor(on) if on else None,
        "has_account": learner.user_id is not None, "guardian_has_account": learner.guardian_user_id is not None,
    }


def visible_mobility_ids(session: Session, actor: Actor, learner_id: int) -> list[int]:
    """The learner's mobilities the caller is a party of (all for admins, the learner and guardian)."""
    mobilities = list(session.scalars(select(Mobility).where(Mobility.learner_id == learner_id)
                                      .order_by(Mobility.id)))
    return [m.id for m in mobilities if is_party(actor, m)]


def get_learner(session: Session, *, actor: Actor, learner_id: int) -> Learner:
    """The learner, for the parties of one of their mobilities and admins; 404 for anyone else."""
    learner = session.get(Learner, learner_id)
    if learner is None or not (actor.is_admin or visible_mobility_ids(session, actor, learner_id)):
        raise NotFound(f"No learner {learner_id}")
    return learner
