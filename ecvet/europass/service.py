"""The Europass Mobility of a completed mobility: issued by the sending organisation, signed off by the host
and by the sending organisation, then the learner's.

Chosen mechanics (actions, not process tasks, so a mobility recognised before this existed gets one too):

1. **Issue** (``POST /api/europass-mobilities``, a member of the sending organisation): once the mobility is
   ``recognized``, its content is built from the records (learner, both organisations with their contact
   persons and the host's mentor, the period actually spent, the Learning Agreement's Mobility ID and project
   code, per unit the learning outcomes, activities, hours, how and by whom it was assessed and what was
   recognised) plus what the issuer adds in words (objective, skills). The content and its SHA-256 never
   change; one per mobility (409 for a second). Issuing e-mails the members of both organisations, and their
   inboxes list it until their organisation has signed it off (:mod:`ecvet.europass.sign_off`).
2. **Sign off** (``POST /api/europass-mobilities/{id}/signatures``), in any order: a member of the hosting
   organisation for ``hosting``, a member of the sending organisation for ``sending``, each quoting the hash
   of the text read (409 when stale) through :mod:`ecvet.signing` (the signed-in person, position and place).
3. Signed by both, it is the learner's: it shows on the achievements page and the learner may read it
   (before that, the learner gets 404; the organisations of the mobility and administrators read it
   throughout).
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ecvet import signing
from ecvet.europass import sign_off
from ecvet.europass.models import EuropassMobility, EuropassParty, EuropassSignature
from ecvet.evidence import content_hash
from ecvet.mobility import service as mobilities
from ecvet.mobility import transcript as transcripts
from ecvet.mobility import views as mobility_views
from ecvet.mobility.models import LaVersion, Mobility, MobilityStatus
from ecvet.national_models.models import CompetenceFunction, OrganisationCompetence
from ecvet.partnership import letterhead
from engine import audit
from engine.errors import Conflict, Forbidden, Invalid, NotFound
from engine.models import Organisation
from engine.parties import Actor

#: What the issuer may add in words: the template's description of skills acquired abroad.
SKILLS = ("job_related", "language", "digital", "organisational", "social", "other")
MAX_TEXT = 2000
STALE = "stale: the Europass Mobility you quote is not this one"


def _organisation(session: Session, organisation_id: int) -> dict[str, Any]:
    org = session.get(Organisation, organisation_id)
    assert org is not None
    head = letterhead.current(session, organisation_id)
    return {"organisation_id": org.id, "name": org.name, "country": org.country, "region": org.region,
            "address": head.address if head else None, "erasmus_oid": org.erasmus_oid, "pic": org.pic}


def _europass_centre(session: Session, country: str) -> str | None:
    found = session.scalar(select(Organisation.name).join(
        OrganisationCompetence, OrganisationCompetence.organisation_id == Organisation.id).where(
        OrganisationCompetence.country == country,
        OrganisationCompetence.function == CompetenceFunction.NATIONAL_EUROPASS_CENTRE).order_by(Organisation.id))
    return found


def _words(value: Any, path: str, errors: dict[str, list[str]]) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or len(value.strip()) > MAX_TEXT:
        errors[path] = [f"A text of at most {MAX_TEXT} characters"]
        return None
    return value.strip() or None


def _typed(objective: Any, skills: Any) -> tuple[str | None, dict[str, str]]:
    errors: dict[str, list[str]] = {}
    said = _words(objective, "objective", errors)
    given: dict[str, str] = {}
    if skills is not None and not isinstance(skills, dict):
        errors["skills"] = [f"An object with any of {', '.join(SKILLS)}"]
    for key, value in (skills or {}).items() if isinstance(skills, dict) else ():
        if key not in SKILLS:
            errors[f"skills.{key}"] = [f"Not a kind of skill of the template; kinds: {', '.join(SKILLS)}"]
            continue
        text = _words(value, f"skills.{key}", errors)
        if text:
            given[key] = text
    if errors:
        raise Invalid("The Europass Mobility is not valid", errors=errors)
    return said, given


def _units(issued: dict[str, Any], recognised: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    units = []
    for unit in issued.get("units") or []:
        decided = recognised.get(unit["code"]) or {}
        units.append({
            "code": unit["code"], "title": unit.get("title"), "ecvet_points": unit.get("ecvet_points"),
            "learning_outcomes": unit.get("learning_outcomes") or [],
            "learning_activities": unit.get("learning_activities") or {}, "hours": unit.get("hours"),
            "assessment": {"method": unit.get("method"), "date": unit.get("date"), "assessor": unit.get("assessor"),
                           "result": unit.get("result"), "grade": unit.get("grade")},
            "recognised": bool(decided.get("recognised")),
            "ecvet_points_recognised": decided.get("ecvet_points") if decided.get("recognised") else 0,
        })
    return units


def content_of(session: Session, mobility: Mobility, *, objective: str | None, skills: dict[str, str],
               number: str) -> dict[str, Any]:
    """The Europass Mobility's fields for a recognised mobility (the template's, in its order)."""
    issued = transcripts.issued_for(session, mobility)
    if issued is None:
        raise Conflict("The mobility has no transcript: a Europass Mobility records what the transcript shows")
    version = session.get(LaVersion, issued.la_version_id)
    agreed: dict[str, Any] = version.content if version is not None else {}
    decided = mobility_views.decisions(session, mobility)["recognition"]
    recognised = {u["unit"]: u for u in (decided["units"] if decided else [])}
    period = issued.content.get("period") or {}
    start = period.get("actual_start") or period.get("start")
    end = period.get("actual_end") or period.get("end")
    contacts = agreed.get("contact_persons") or {}
    mentor = contacts.get("hosting") or {"name": issued.signer_name, "position": issued.signer_position,
                                        "email": issued.signer_email}
    learner = mobility.learner
    sending = _organisation(session, mobility.sending_organisation_id)
    units = _units(issued.content, recognised)
    locations = sorted({u["learning_activities"].get("location") for u in units
                        if u["learning_activities"].get("location")})
    return {
        "europass_mobility_number": number,
        "holder": {"name": learner.name,  # no date of birth: the Europass Mobility's template does not ask for it
                   "european_student_identifier": learner.european_student_identifier},
        "issuing_organisation": sending["name"],
        "national_europass_centre": _europass_centre(session, sending["country"]),
        "sending_organisation": {**sending, "contact_person": contacts.get("sending")},
        "host_organisation": {**_organisation(session, mobility.hosting_organisation_id), "mentor": mentor},
        "learning_abroad": {
            "objective": objective, "initiative": "Erasmus+ (ECVET)",
            "mobility_identifier": agreed.get("mobility_identifier"), "project_code": agreed.get("project_code"),
            "qualification": {"title": mobility.qualification_title, "eqf_level": mobility.qualification_eqf_level,
                              "nqf_level": (agreed.get("qualification_details") or {}).get("nqf_level")},
            "start": start, "end": end, "location": "; ".join(locations) or None,
            "learning_agreement": {"id": issued.la_id, "version": issued.la_version_number, "hash": issued.la_hash},
            "transcript": {"id": issued.id, "hash": issued.content_hash},
        },
        "units": units,
        "ecvet_points_recognised": sum(float(u["ecvet_points_recognised"] or 0) for u in units),
        "skills": skills,
    }


def _as_sender(actor: Actor, mobility: Mobility) -> None:
    if mobility.sending_organisation_id not in actor.organisation_ids:
        raise Forbidden("Only members of the sending organisation issue the mobility's Europass Mobility")


def issue(session: Session, *, actor: Actor, mobility_id: int, objective: Any = None,
          skills: Any = None) -> EuropassMobility:
    """Issue the Europass Mobility of a recognised mobility (a member of its sending organisation)."""
    mobility = mobilities.get(session, actor=actor, mobility_id=mobility_id)
    _as_sender(actor, mobility)
    mobility = mobilities.locked(session, mobility.id)
    if mobility.status != MobilityStatus.RECOGNIZED:
        raise Conflict(f"The mobility is {mobility.status}: a Europass Mobility records a completed mobility, "
                       "once its units are recognised")
    if for_mobility(session, mobility) is not None:
        raise Conflict("The mobility has its Europass Mobility already")
    said, given = _typed(objective, skills)
    content = content_of(session, mobility, objective=said, skills=given,
                         number=f"EM-{mobility.id:06d}")
    row = EuropassMobility(mobility_id=mobility.id, learner_id=mobility.learner_id,
                           sending_organisation_id=mobility.sending_organisation_id,
                           hosting_organisation_id=mobility.hosting_organisation_id, content=content,
                           content_hash=content_hash(content), created_by=actor.user_id)
    session.add(row)
    session.flush()
    audit.record(session, actor_id=actor.user_id, action="europass_mobility.issued", mobility_id=mobility.id,
                 europass_id=row.id, content_hash=row.content_hash)
    sign_off.announce(session, row, actor_id=actor.user_id)  # e-mail both organisations' members
    return row


def for_mobility(session: Session, mobility: Mobility) -> EuropassMobility | None:
    """The mobility's Europass Mobility, if issued (no access check: callers decide)."""
    return session.scalar(select(EuropassMobility).where(EuropassMobility.mobility_id == mobility.id))


def signatures(session: Session, row: EuropassMobility) -> list[EuropassSignature]:
    return list(session.scalars(select(EuropassSignature).where(EuropassSignature.europass_id == row.id)
                                .order_by(EuropassSignature.id)))


def signed_by_both(session: Session, row: EuropassMobility) -> bool:
    """Both organisations signed off exactly this text."""
    parties = {s.party for s in signatures(session, row) if s.content_hash == row.content_hash}
    return parties == set(EuropassParty.ALL)


def readable(session: Session, actor: Actor, mobility: Mobility, row: EuropassMobility) -> bool:
    """The mobility's organisations and administrators always; the learner (and guardian) once signed off."""
    if actor.is_admin or mobilities.party_organisation_ids(mobility) & actor.organisation_ids:
        return True
    return mobilities.is_learner(actor, mobility) and signed_by_both(session, row)


def get(session: Session, *, actor: Actor, europass_id: int) -> EuropassMobility:
    """One Europass Mobility, for who may read it (:func:`readable`); 404 for anyone else."""
    row = session.get(EuropassMobility, europass_id)
    mobility = session.get(Mobility, row.mobility_id) if row is not None else None
    if row is None or mobility is None or not mobilities.is_party(actor, mobility) \
            or not readable(session, actor, mobility, row):
        raise NotFound(f"No Europass Mobility {europass_id}")
    return row


def sign(session: Session, *, actor: Actor, europass_id: int, party: Any, content_hash: Any,
         signer: Any = None) -> EuropassSignature:
    """Sign the Europass Mobility off for the host or the sending organisation, quoting its hash."""
    row = get(session, actor=actor, europass_id=europass_id)
    if party not in EuropassParty.ALL:
        raise Invalid("Unknown party", errors={"party": [f"One of {', '.join(EuropassParty.ALL)}"]})
    organisation_id = row.hosting_organisation_id if party == EuropassParty.HOSTING else row.sending_organisation_id
    signed = signing.for_organisation(session, actor=actor, organisation_id=organisation_id, submitted=signer)
    mobilities.locked(session, row.mobility_id)  # serialise two sign-offs of the same party
    if content_hash != row.content_hash:
        raise Conflict(STALE, errors={"content_hash": [f"You quoted {content_hash!r}; the text is {row.content_hash}"]})
    if any(s.party == party for s in signatures(session, row)):
        raise Conflict(f"The {party} organisation has signed this Europass Mobility off already")
    signature = EuropassSignature(europass_id=row.id, party=party, organisation_id=organisation_id,
                                  content_hash=row.content_hash, signed_at=signed.signed_at, **signed.columns())
    session.add(signature)
    session.flush()
    audit.record(session, actor_id=actor.user_id, action="europass_mobility.signed", mobility_id=row.mobility_id,
                 europass_id=row.id, party=party, organisation_id=organisation_id, content_hash=row.content_hash)
    return signature


def of_learner(session: Session, *, actor: Actor, learner_id: int) -> list[EuropassMobility]:
    """The learner's Europass Mobility documents the caller may read (the learner: those signed off)."""
    rows = session.scalars(select(EuropassMobility).where(EuropassMobility.learner_id == learner_id)
                           .order_by(EuropassMobility.id))
    found = []
    for row in rows:
        mobility = session.get(Mobility, row.mobility_id)
        if mobility is not None and mobilities.is_party(actor, mobility) and readable(session, actor, mobility, row):
            found.append(row)
    return found


def of_mobility(session: Session, *, actor: Actor, mobility_id: int) -> EuropassMobility | None:
    """The mobility's Europass Mobility if the caller may read it; None when not issued (or not yet readable
    by the learner); 404 for anyone who is no party of the mobility."""
    mobility = mobilities.get(session, actor=actor, mobility_id=mobility_id)
    row = for_mobility(session, mobility)
    return row if row is not None and readable(session, actor, mobility, row) else None


def may_issue(session: Session, *, actor: Actor, mobility_id: int) -> bool:
    """Whether the caller may issue the mobility's Europass Mobility now (a sending member, recognised, none yet)."""
    mobility = mobilities.get(session, actor=actor, mobility_id=mobility_id)
    return (mobility.sending_organisation_id in actor.organisation_ids
            and mobility.status == MobilityStatus.RECOGNIZED and for_mobility(session, mobility) is None)


def parties_to_sign(session: Session, actor: Actor, row: EuropassMobility) -> list[str]:
    """The parties the caller signs for (a member of that organisation) that have not signed off yet."""
    signed = {s.party for s in signatures(session, row)}
    owners = {EuropassParty.HOSTING: row.hosting_organisation_id, EuropassParty.SENDING: row.sending_organisation_id}
    return [p for p in EuropassParty.ALL if p not in signed and owners[p] in actor.organisation_ids]
