"""Nomination: the sending organisation nominates a learner under its MoU in force and starts the
Mobility process in the same unit of work, every lane bound to its party: the sending and hosting
organisations, the learner's own account, the parent or guardian (their account, or the sending
organisation recording a paper signature), and the competent institutions of the home and host
countries (where the national model names none, the sending and hosting organisations stand in).

The national model is evaluated from the table deployed with the process version the mobility runs
on, and kept on the mobility, so redeploying the table changes new mobilities and never the ones under
way. :func:`nomination_terms` says what a nomination under a MoU may choose (the pages' form).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ecvet.mobility import guardians, service
from ecvet.mobility import periods as host_periods
from ecvet.mobility.models import Learner, Mobility, MobilityStatus, MobilityStatusChange
from ecvet.national_models.models import CompetenceFunction, OrganisationCompetence
from ecvet.national_models.service import FILENAME, NationalModel, decide, institutions_for
from ecvet.partnership import multilateral, roles
from ecvet.partnership.approvers import signing_ids
from ecvet.partnership.models import Mou, MouStatus, MouVersion, PartnershipSide
from ecvet.partnership.mou import get, in_force_version, is_sender
from engine import audit, deployments, instances
from engine.errors import Conflict, Forbidden, Invalid, NotFound
from engine.models import Organisation, User, utcnow
from engine.parties import EMAIL_RE, Actor

_LEARNER_FIELDS = ("name", "date_of_birth", "email", "guardian_name", "guardian_email", "european_student_identifier")


def _text(value: Any, limit: int) -> str | None:
    return (str(value).strip() if value is not None else "")[:limit] or None


def parse_date(value: Any, name: str, errors: dict[str, list[str]]) -> date | None:
    """A date given as a date or ISO text; None with an error under `name` otherwise."""
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
    for field_name in unknown:
        errors[f"learner.{field_name}"] = ["Not a learner field"]
    name = _text(data.get("name"), 200)
    email = (_text(data.get("email"), 254) or "").lower()
    born = parse_date(data.get("date_of_birth"), "learner.date_of_birth", errors)
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


def _registered(session: Session, country: str, function: str | None = None, *,
                model: NationalModel | None = None) -> set[int]:
    """Who holds `function` in `country`; for a mobility (`model`), in its region and sector only (the
    most specific scope the registry has: another region's authority never acts)."""
    if function and model is not None:
        return set(institutions_for(session, country=country, function=function, region=model.region,
                                    sector=model.sector))
    stmt = select(OrganisationCompetence.organisation_id).where(OrganisationCompetence.country == country)
    if function:
        stmt = stmt.where(OrganisationCompetence.function == function)
    return set(session.scalars(stmt))


def _home_institution(session: Session, model: NationalModel, country: str, chosen: int | None,
                      mapped: dict[tuple[str, str], int]) -> int | None:
    """The competent institution (home) the national model needs (LA approval, recognition), if any: the
    one named, else the one the confirmed role map gives all of it (when registered), else the one registered."""
    needed = []
    if model.la_approval != "none":
        needed.append(CompetenceFunction.LA_APPROVAL)
    if model.recognition_by == "competent_institution":
        needed.append(CompetenceFunction.RECOGNITION)
    candidates: set[int] | None = None
    for function in needed:
        ids = _registered(session, country, function, model=model)
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
    preferred = {mapped.get((function, PartnershipSide.HOME)) for function in needed}
    if len(preferred) == 1 and (pick := preferred.pop()) in (candidates or set()):
        return pick
    if not candidates:
        raise Invalid(f"The national model of {country} ({model.model}) needs a competent institution for "
                      f"{', '.join(needed)}, but none is registered for all of it", errors={
                          "competent_institution_home_id": ["Register the competent institution first"]})
    if len(candidates) > 1:
        raise Invalid("Several competent institutions could act: say which", errors={
            "competent_institution_home_id": [f"One of {sorted(candidates)}"]})
    return next(iter(candidates))


def _host_institution(session: Session, country: str, chosen: int | None, mapped: int | None) -> int | None:
    """The one named, else the confirmed role map's LA approver of the host country if registered as such."""
    if chosen is None:
        return mapped if mapped in _registered(session, country, CompetenceFunction.LA_APPROVAL) else None
    if chosen not in _registered(session, country):
        raise Invalid("Not a competent institution of the host country",
                      errors={"competent_institution_host_id": [f"Not registered in {country}"]})
    return chosen


def _model_for_process(session: Session, country: str, sector: str | None, eqf_level: int | None, *,
                       region: str | None = None, qualification_system: str | None = None) -> tuple[
        NationalModel, Any]:
    """The national model from the table deployed with the latest Mobility process version."""
    try:
        definition = deployments.get_definition(session, key=service.PROCESS_KEY)
    except NotFound as exc:
        raise Conflict("The Mobility process is not deployed; an administrator deploys processes/mobility.bpmn") \
            from exc
    table = deployments.definition_file(session, definition, FILENAME)
    model = decide(country, sector, eqf_level, region=region, qualification_system=qualification_system,
                   dmn_bytes=table, session=session)
    return replace(model, source=f"deployed: {definition.key} v{definition.version}"), definition


def start_deadline(start: date) -> str:
    """The moment the mobility starts, as the process timers read it: midnight UTC of the start date."""
    return datetime.combine(start, time(0, 0), tzinfo=UTC).isoformat()


def check_dates(session: Session, mou: Mou, start: date | None, end: date | None,
                 errors: dict[str, list[str]]) -> None:
    if start is None or end is None:
        return
    if start <= utcnow().date():
        errors.setdefault("start_date", []).append("The mobility must start after today")
    if end < start:
        errors.setdefault("end_date", []).append("Before the start date")
        return
    content = service.active_content(session, mou) or {}
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


def _qualification_covered(content: dict[str, Any], title: str, eqf_level: int | None,
                           errors: dict[str, list[str]]) -> tuple[dict[str, Any] | None, int | None]:
    """The qualification of the MoU in force with this title, and its EQF level (the MoU's, which a
    level given with the nomination must match)."""
    qualification = next((q for q in content.get("qualifications") or []
                          if service.same_title(q.get("title"), title)), None)
    if qualification is None:
        covered = [q.get("title") for q in content.get("qualifications") or []]
        errors["qualification_title"] = [f"The MoU does not cover this qualification; it covers {covered}"]
    eqf = qualification.get("eqf_level") if qualification else None
    if eqf_level is not None and eqf is not None and eqf_level != eqf:
        errors["qualification_eqf_level"] = [f"The MoU gives EQF level {eqf} for this qualification"]
    return qualification, eqf if eqf is not None else eqf_level


def _organisations_exist(session: Session, errors: dict[str, list[str]], **ids: int | None) -> None:
    errors.update({name: [f"No organisation {i}"] for name, i in ids.items()
                   if i is not None and session.get(Organisation, i) is None})


def _learner_who_signs(session: Session, actor: Actor, details: dict[str, Any] | None, learner_id: int | None,
                       start: date) -> Learner:
    """The learner (known, or new from the details) with an account to sign with, and a parent or
    guardian on record when a minor on the first day."""
    person = _existing_learner(session, actor, learner_id) if learner_id is not None else \
        _new_learner(session, actor, details or {}, start)
    if person.user_id is None:
        raise Invalid("The learner has no account to sign with", errors={"learner_id": ["No linked account"]})
    if person.is_minor(start) and not (person.guardian_name and person.guardian_email):
        raise Invalid("A minor needs a parent or guardian", errors={"learner.guardian_name": ["Required"]})
    return person


#: The length of process_instances.business_key: long names are cut, the dates always kept.
BUSINESS_KEY_MAX = 255


def default_business_key(learner: str, hosting: str, start: date, end: date) -> str:
    """What the inbox and the dashboards call a mobility nobody named: "learner — host — dates"."""
    dates = f" — {start.isoformat()} to {end.isoformat()}"
    return f"{learner} — {hosting}"[:BUSINESS_KEY_MAX - len(dates)] + dates


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
    group_id: int | None = None,
    periods: list[dict[str, Any]] | None = None,
) -> Mobility:
    """The sending organisation nominates a learner for a mobility under its active MoU and starts the
    Mobility process, in one unit of work.

    Refused: 404 for a MoU the caller cannot see; 403 unless the caller is a member of the MoU's
    sending organisation (or an admin); 409 when the MoU is not in force or the process is not
    deployed; 422 when the hosting organisation did not sign the MoU, the MoU does not cover the
    qualification, the dates do not fit the MoU, or the learner's data is incomplete."""
    mou = get(session, actor=actor, mou_id=mou_id)
    if not (actor.is_admin or mou.sending_organisation_id in actor.organisation_ids):
        raise Forbidden("Only members of the MoU's sending organisation nominate learners under it")
    # In force = a version approved by everyone and not closed; an amendment in approval keeps the
    # approved version in force, so nominations go on meanwhile.
    if in_force_version(mou) is None:
        raise Conflict(f"The MoU is {mou.status} and has no version in force: a mobility runs under a MoU in force")
    content = service.active_content(session, mou) or {}
    errors: dict[str, list[str]] = {}
    start = parse_date(start_date, "start_date", errors)
    end = parse_date(end_date, "end_date", errors)
    check_dates(session, mou, start, end, errors)
    signing = {o.get("organisation_id") for o in content.get("signing_organisations") or []}
    if hosting_organisation_id == mou.sending_organisation_id or hosting_organisation_id not in signing:
        errors["hosting_organisation_id"] = ["The hosting organisation must be a signing partner of the MoU"]
    else:  # a multilateral MoU's roles: a "sending" partner never hosts, a "hosting" one never sends
        errors.update(multilateral.nomination_errors(content, sending_id=mou.sending_organisation_id,
                                                     hosting_id=hosting_organisation_id))
    qualification, eqf = _qualification_covered(content, qualification_title, qualification_eqf_level, errors)
    _organisations_exist(session, errors, intermediary_organisation_id=intermediary_organisation_id,
                         competent_institution_home_id=competent_institution_home_id,
                         competent_institution_host_id=competent_institution_host_id)
    if intermediary_organisation_id in (mou.sending_organisation_id, hosting_organisation_id):
        errors["intermediary_organisation_id"] = ["An intermediary is neither the sending nor the hosting organisation"]
    hosts = {i for i in signing if multilateral.may_host(content, i)} - {mou.sending_organisation_id}
    checked_periods = host_periods.check(
        periods, partners=hosts, host=hosting_organisation_id, start=start, end=end,
        units={u.get("code") for u in qualification.get("units") or []}, errors=errors,
    ) if periods is not None and start and end and qualification else []
    if (learner is None) == (learner_id is None):
        errors["learner"] = ["Give either the learner's details (learner) or an existing learner_id"]
    if errors:
        raise Invalid("The mobility is not valid", errors=errors)
    assert start is not None
    assert end is not None
    assert qualification is not None
    person = _learner_who_signs(session, actor, learner, learner_id, start)

    sending = session.get_one(Organisation, mou.sending_organisation_id)
    hosting = session.get_one(Organisation, hosting_organisation_id)
    sector = (sector or content.get("sector") or "").strip().lower() or None
    model, definition = _model_for_process(session, sending.country, sector, eqf, region=sending.region,
                                           qualification_system=content.get("qualification_system") or None)
    mapped = roles.confirmed_holders(session, mou.id)  # who does what, as every party confirmed it
    ci_home = _home_institution(session, model, sending.country, competent_institution_home_id, mapped)
    ci_host = _host_institution(session, hosting.country, competent_institution_host_id,
                                mapped.get((CompetenceFunction.LA_APPROVAL, PartnershipSide.HOST)))

    now = utcnow()
    mobility = Mobility(
        learner_id=person.id, mou_id=mou.id, sending_organisation_id=sending.id, hosting_organisation_id=hosting.id,
        qualification_title=qualification["title"], qualification_eqf_level=eqf, sector=sector,
        start_date=start, end_date=end, status=MobilityStatus.NOMINATION, created_at=now, updated_at=now,
        competent_institution_home_id=ci_home, competent_institution_host_id=ci_host,
        intermediary_organisation_id=intermediary_organisation_id, national_model=model.as_dict(),
        created_by=actor.user_id, group_id=group_id,
    )
    host_periods.attach(mobility, checked_periods)
    session.add(mobility)
    session.flush()
    session.add(MobilityStatusChange(mobility_id=mobility.id, old_status=None, new_status=MobilityStatus.NOMINATION,
                                     reason="nominated", changed_at=now, changed_by=actor.user_id))
    audit.record(session, actor_id=actor.user_id, action="mobility.nominated", mobility_id=mobility.id,
                 learner_id=person.id, mou_id=mou.id, hosting_organisation_id=hosting.id,
                 national_model=model.model, table_sha256=model.table_sha256)
    instance = instances.start(
        session, actor=actor, process_key=service.PROCESS_KEY, version=definition.version,
        business_key=business_key or default_business_key(person.name, hosting.name, start, end),
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
    guardian: Any = {"user_id": learner.guardian_user_id} if guardians.guardian_acts(learner) else \
        mobility.sending_organisation_id
    return {
        "sending": mobility.sending_organisation_id,
        "hosting": mobility.hosting_organisation_id,
        # A mobility without an intermediary never routes to its lane; the school holds it meanwhile.
        "intermediary": mobility.intermediary_organisation_id or mobility.sending_organisation_id,
        "learner": {"user_id": learner.user_id},
        "guardian": guardian,
        "competent-institution-home": mobility.competent_institution_home_id or mobility.sending_organisation_id,
        "competent-institution-host": mobility.competent_institution_host_id or mobility.hosting_organisation_id,
        **host_periods.bindings(mobility),
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
        "group_id": mobility.group_id,
        "host_periods": len(mobility.periods) or 1,  # the gateways give each later period's host its assessment
        "qualification_title": mobility.qualification_title,
        "start_date": mobility.start_date.isoformat(),
        "end_date": mobility.end_date.isoformat(),
        "start_deadline": start_deadline(mobility.start_date),
        "learner_is_minor": mobility.learner.is_minor(mobility.start_date),
        "country": country,
        "region": (mobility.national_model or {}).get("region"),
        "sector": mobility.sector,
        "eqf_level": mobility.qualification_eqf_level or 0,
        "qualification_system": (mobility.national_model or {}).get("qualification_system"),
        "mou_units": [
            {"code": u["code"], "title": u.get("title"), "ecvet_points": u.get("ecvet_points")}
            for u in service.mou_units(session, mobility).values()
        ],
        # The forms' unit pickers (dynamic enums) choose from these.
        "mou_unit_choices": service.unit_choices(service.mou_units(session, mobility).values()),
        # Where an assessor works, suggested from the two organisations of the mobility.
        "party_organisation_choices": [
            {"value": name, "label": name} for name in dict.fromkeys(session.scalars(
                select(Organisation.name).where(Organisation.id.in_(
                    [mobility.hosting_organisation_id, mobility.sending_organisation_id])).order_by(
                    Organisation.name)))],
        # The gateways read these before the Learning Agreement exists.
        "la_id": None,
        "la_status": None,
        "la_next_party": None,
        "la_refused": False,
        "la_refusal": None,
    }


# Nominating learners under a MoU in force: what the form may choose

@dataclass(frozen=True)
class NominationTerms:
    """What a nomination under a MoU may choose, read from the version in force."""
    mou: Mou
    version: MouVersion
    hosting: list[Organisation]
    qualifications: list[dict[str, Any]]
    min_weeks: int | None
    max_weeks: int | None
    valid_until: str | None

    @property
    def file_code(self) -> str:
        return str(self.version.content.get("file_code") or f"MoU {self.mou.id}")


def nominable(session: Session, *, actor: Actor) -> list[Mou]:
    """The MoUs in force that the caller's organisation sends learners under (administrators: every
    MoU in force), newest first: where "Nominate a learner" may start."""
    stmt = select(Mou).where(Mou.active_version_id.is_not(None), Mou.status.not_in(MouStatus.CLOSED))
    if not actor.is_admin:
        stmt = stmt.where(Mou.sending_organisation_id.in_(actor.organisation_ids or {-1}))
    return [mou for mou in session.scalars(stmt.order_by(Mou.id.desc())) if in_force_version(mou) is not None]


def nomination_terms(session: Session, *, actor: Actor, mou_id: int) -> NominationTerms:
    """The choices a nomination under this MoU has (404 to non-parties, 403 to parties that are not its
    sending organisation, 409 when no version is in force), as :func:`nominate` checks them."""
    mou = get(session, actor=actor, mou_id=mou_id)
    if not is_sender(actor, mou):
        raise Forbidden("Only members of the MoU's sending organisation nominate learners under it")
    version = in_force_version(mou)
    if version is None:
        raise Conflict(f"The MoU is {mou.status} and has no version in force")
    content = version.content
    hosting_ids = [i for i in signing_ids(content)
                   if i != mou.sending_organisation_id and multilateral.may_host(content, i)]
    found = {o.id: o for o in session.scalars(select(Organisation).where(Organisation.id.in_(hosting_ids or [-1])))}
    duration = content.get("mobility_duration_weeks") or {}
    return NominationTerms(
        mou=mou, version=version, hosting=[found[i] for i in hosting_ids if i in found],
        qualifications=[q for q in content.get("qualifications") or [] if isinstance(q.get("title"), str)],
        min_weeks=duration.get("min") if isinstance(duration.get("min"), int) else None,
        max_weeks=duration.get("max") if isinstance(duration.get("max"), int) else None,
        valid_until=content.get("valid_until") if isinstance(content.get("valid_until"), str) else None,
    )

