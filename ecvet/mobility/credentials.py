"""Recognised units as European Learning Model (ELM 3) credentials: JSON-LD a learner takes to Europass.

One credential per unit recognised and awarded (:class:`~ecvet.mobility.models.CreditAward`), shaped as
an ELM ``EuropeanDigitalCredential`` (a W3C Verifiable Credential): the learner as ``credentialSubject``
with one ``hasClaim`` → ``LearningAchievement`` whose ``specifiedBy`` is the unit as a
``LearningAchievementSpecification`` (ECVET points as ``creditPoint``, the EQF level, the learning
outcomes), ``awardedBy`` the recognising organisation, ``wasDerivedFrom`` the host's assessment and
``wasInfluencedBy`` the learning activity abroad. Every credential is checked against
:data:`CREDENTIAL_SCHEMA` (the ELM fields used here) before it leaves the platform.

A qualification awarded whole (:mod:`ecvet.mobility.qualification_award`) gets one more credential beside
its units': ``specifiedBy`` a ``Qualification``, ``hasPart`` the unit achievements it rests on. Learning
outcomes carry their ESCO skill (``relatedESCOSkill``) where the qualification or the MoU names one.

The issuer's seal (a Verifiable Credential proof) is added by :mod:`ecvet.mobility.seal`.
"""
from __future__ import annotations

from typing import Any

from jsonschema.validators import Draft202012Validator
from sqlalchemy import select
from sqlalchemy.orm import Session

from ecvet.mobility import qualification_award, service
from ecvet.mobility.models import CreditAward, Learner, Mobility, PersonalTranscript, RecognitionDecision
from ecvet.qualification.models import ESCO_SKILL_PATTERN, Qualification, QualificationAward
from engine.errors import NotFound
from engine.models import Organisation
from engine.parties import Actor

CONTEXT = ["https://www.w3.org/2018/credentials/v1", "http://data.europa.eu/snb/model/context/edc-ap"]
EQF = "http://data.europa.eu/snb/eqf/"
ECVET_FRAMEWORK = "http://data.europa.eu/snb/education-credit/6fcec5c5af"
URN = "urn:ecvet-flow:"
ESCO_SKILLS = {"id": "http://data.europa.eu/esco/concept-scheme/skills", "type": "ConceptScheme"}

_LANG_MAP = {"type": "object", "minProperties": 1, "additionalProperties": {"type": "string", "minLength": 1}}
_ORGANISATION = {
    "type": "object", "required": ["id", "type", "legalName"],
    "properties": {"id": {"type": "string"}, "type": {"const": "Organisation"}, "legalName": _LANG_MAP,
                   "location": {"type": "object"}, "identifier": {"type": "array"}},
}
_ESCO = {"type": "object", "required": ["id", "type"],
         "properties": {"id": {"type": "string", "pattern": ESCO_SKILL_PATTERN}, "type": {"const": "Concept"}}}
#: The ELM 3 fields this platform writes, as JSON Schema (draft 2020-12).
CREDENTIAL_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "European Learning Model v3 credential of a recognised ECVET unit (fields used by ECVET Flow)",
    "type": "object",
    "required": ["@context", "id", "type", "issuer", "issuanceDate", "credentialSubject"],
    "properties": {
        "@context": {"type": "array", "prefixItems": [{"const": CONTEXT[0]}], "minItems": 2},
        "id": {"type": "string", "pattern": "^urn:"},
        "type": {"type": "array", "contains": {"const": "VerifiableCredential"}},
        "issuer": _ORGANISATION,
        "issuanceDate": {"type": "string", "format": "date-time"},
        "credentialSubject": {
            "type": "object", "required": ["id", "type", "fullName", "hasClaim"],
            "properties": {
                "id": {"type": "string"}, "type": {"const": "Person"}, "fullName": _LANG_MAP,
                "dateOfBirth": {"type": "string", "format": "date"},
                "hasClaim": {"type": "array", "minItems": 1, "items": {
                    "type": "object",
                    "required": ["id", "type", "title", "specifiedBy", "awardedBy", "wasInfluencedBy"],
                    "properties": {
                        "type": {"const": "LearningAchievement"}, "title": _LANG_MAP,
                        "specifiedBy": {
                            "type": "object", "required": ["type", "title", "creditPoint", "learningOutcome"],
                            "properties": {
                                "type": {"enum": ["LearningAchievementSpecification", "Qualification"]},
                                "title": _LANG_MAP,
                                "eqfLevel": {"type": "string", "pattern": "^http://data.europa.eu/snb/eqf/[1-8]$"},
                                "creditPoint": {"type": "array", "minItems": 1, "items": {
                                    "type": "object", "required": ["type", "framework", "point"],
                                    "properties": {"type": {"const": "CreditPoint"}, "framework": {"type": "string"},
                                                   "point": {"type": "string", "pattern": "^[0-9]+(\\.[0-9]+)?$"}}}},
                                "learningOutcome": {"type": "array", "items": {
                                    "type": "object", "required": ["type", "title"],
                                    "properties": {"type": {"const": "LearningOutcome"}, "title": _LANG_MAP,
                                                   "learningOutcomeType": {"type": "string"},
                                                   "relatedESCOSkill": {"type": "array", "items": _ESCO}}}},
                            },
                        },
                        "awardedBy": {"type": "object", "required": ["type", "awardingBody", "awardingDate"],
                                      "properties": {"type": {"const": "AwardingProcess"},
                                                     "awardingBody": {"type": "array", "items": _ORGANISATION},
                                                     "awardingDate": {"type": "string", "format": "date-time"}}},
                        "wasDerivedFrom": {"type": "array", "items": {"type": "object", "required": ["type"],
                                                                      "properties": {"type": {"const": "Assessment"}}}},
                        "wasInfluencedBy": {"type": "array", "minItems": 1, "items": {
                            "type": "object", "required": ["type", "title", "location", "temporal"],
                            "properties": {"type": {"const": "LearningActivity"}}}},
                    },
                }},
            },
        },
    },
}
_VALIDATOR = Draft202012Validator(CREDENTIAL_SCHEMA, format_checker=Draft202012Validator.FORMAT_CHECKER)


def problems(credential: dict[str, Any]) -> list[str]:
    """Where a credential departs from :data:`CREDENTIAL_SCHEMA` (empty when it follows it)."""
    return [f"{'.'.join(str(p) for p in e.absolute_path) or '(root)'}: {e.message}"
            for e in _VALIDATOR.iter_errors(credential)]


def _organisation(org: Organisation) -> dict[str, Any]:
    ids = [{"type": "Identifier", "notation": value, "schemeName": scheme}
           for scheme, value in (("Erasmus+ OID", org.erasmus_oid), ("PIC", org.pic)) if value]
    return {"id": f"{URN}organisation:{org.id}", "type": "Organisation", "legalName": {"en": org.name},
            "location": {"type": "Location", "address": {"type": "Address", "countryCode": org.country}},
            **({"identifier": ids} if ids else {})}


def _outcome(outcome: Any) -> dict[str, Any]:
    if isinstance(outcome, dict):
        kind, esco = outcome.get("kind"), outcome.get("esco_skill")
        return {"type": "LearningOutcome", "title": {"en": str(outcome.get("text"))},
                **({"learningOutcomeType": kind} if kind else {}),
                **({"relatedESCOSkill": [{"id": esco, "type": "Concept", "inScheme": ESCO_SKILLS}]} if esco else {})}
    return {"type": "LearningOutcome", "title": {"en": str(outcome)}}


def _unit_of(transcript: PersonalTranscript | None, code: str) -> dict[str, Any]:
    units = (transcript.content.get("units") if transcript else None) or []
    return next((u for u in units if u.get("code") == code), {})


def _activity(mobility: Mobility, host: Organisation, transcript: PersonalTranscript | None) -> dict[str, Any]:
    """The learning activity abroad: the mobility at its host, with its actual dates where recorded."""
    period = (transcript.content.get("period") if transcript else None) or {}
    return {
        "id": f"{URN}mobility:{mobility.id}", "type": "LearningActivity",
        "title": {"en": f"Learning mobility abroad: {mobility.qualification_title}"},
        "location": [_organisation(host)["location"]], "directedBy": [_organisation(host)],
        "temporal": {"type": "PeriodOfTime", "startDate": period.get("actual_start") or mobility.start_date.isoformat(),
                     "endDate": period.get("actual_end") or mobility.end_date.isoformat()},
    }


def build(session: Session, award: CreditAward) -> dict[str, Any]:
    """The ELM credential of one recognised unit (no visibility check: see :func:`for_learner`)."""
    mobility = session.get(Mobility, award.mobility_id)
    decision = session.get(RecognitionDecision, award.recognition_id)
    assert mobility is not None
    assert decision is not None
    transcript = session.get(PersonalTranscript, decision.transcript_id)
    awarding = session.get(Organisation, award.awarded_by_organisation_id)
    host = session.get(Organisation, mobility.hosting_organisation_id)
    assert awarding is not None
    assert host is not None
    unit = _unit_of(transcript, award.unit_code)
    title = {"en": f"{award.unit_code} {award.unit_title or ''}".strip()}
    awarded = award.awarded_at.isoformat()
    specification = {
        "id": f"{URN}unit:{mobility.id}:{award.unit_code}", "type": "LearningAchievementSpecification",
        "title": title, "creditPoint": [{"type": "CreditPoint", "framework": ECVET_FRAMEWORK,
                                         "point": f"{award.ecvet_points:g}"}],
        "learningOutcome": [_outcome(o) for o in unit.get("learning_outcomes") or []],
        **({"eqfLevel": f"{EQF}{award.eqf_level}"} if award.eqf_level else {}),
    }
    activity = _activity(mobility, host, transcript)
    learner = mobility.learner
    return {
        "@context": CONTEXT,
        "id": f"{URN}credential:{award.id}",
        "type": ["VerifiableCredential", "EuropeanDigitalCredential"],
        "issuer": _organisation(awarding),
        "issuanceDate": awarded,
        "credentialSubject": {
            "id": f"{URN}learner:{learner.id}", "type": "Person", "fullName": {"en": learner.name},
            "hasClaim": [{
                "id": f"{URN}achievement:{award.id}", "type": "LearningAchievement", "title": title,
                "specifiedBy": specification,
                "awardedBy": {"type": "AwardingProcess", "awardingBody": [_organisation(awarding)],
                              "awardingDate": awarded},
                "wasDerivedFrom": [{"type": "Assessment", "title": {"en": f"Assessment of {award.unit_code}"},
                                    **({"grade": {"en": unit["grade"]}} if unit.get("grade") else {})}],
                "wasInfluencedBy": [activity],
            }],
        },
    }


def build_qualification(session: Session, awarded: QualificationAward) -> dict[str, Any]:
    """The ELM credential of a whole qualification awarded (:mod:`ecvet.mobility.qualification_award`): its
    ``specifiedBy`` is a ``Qualification`` with its points and EQF level, ``hasPart`` the unit achievements
    it rests on, ``wasInfluencedBy`` the mobilities abroad."""
    qualification = session.get(Qualification, awarded.qualification_id)
    awarding = session.get(Organisation, awarded.organisation_id)
    assert qualification is not None
    assert awarding is not None
    learner = session.get(Learner, awarded.learner_id)
    assert learner is not None
    activities = []
    for mobility_id in awarded.mobility_ids:
        mobility = session.get(Mobility, mobility_id)
        host = session.get(Organisation, mobility.hosting_organisation_id) if mobility else None
        if mobility is not None and host is not None:
            issued = session.scalar(select(PersonalTranscript).where(PersonalTranscript.mobility_id == mobility.id))
            activities.append(_activity(mobility, host, issued))
    title = {"en": awarded.qualification_title}
    when = awarded.awarded_at.isoformat()
    outcomes = [_outcome({"kind": o.kind, "text": o.text, "esco_skill": o.esco_skill})
                for unit in qualification.units for o in unit.outcomes]
    return {
        "@context": CONTEXT,
        "id": f"{URN}qualification-credential:{awarded.id}",
        "type": ["VerifiableCredential", "EuropeanDigitalCredential"],
        "issuer": _organisation(awarding),
        "issuanceDate": when,
        "credentialSubject": {
            "id": f"{URN}learner:{learner.id}", "type": "Person", "fullName": {"en": learner.name},
            "hasClaim": [{
                "id": f"{URN}qualification-achievement:{awarded.id}", "type": "LearningAchievement", "title": title,
                "specifiedBy": {
                    "id": f"{URN}qualification:{qualification.id}", "type": "Qualification", "title": title,
                    "creditPoint": [{"type": "CreditPoint", "framework": ECVET_FRAMEWORK,
                                     "point": f"{awarded.ecvet_points:g}"}],
                    "learningOutcome": outcomes,
                    **({"eqfLevel": f"{EQF}{awarded.eqf_level}"} if awarded.eqf_level else {}),
                },
                "awardedBy": {"type": "AwardingProcess", "awardingBody": [_organisation(awarding)],
                              "awardingDate": when},
                "hasPart": [{"id": f"{URN}achievement:{credit_id}", "type": "LearningAchievement"}
                            for credit_id in awarded.credit_award_ids],
                "wasInfluencedBy": activities,
            }],
        },
    }


def for_learner(session: Session, *, actor: Actor, learner_id: int) -> list[dict[str, Any]]:
    """The learner's credentials, one per unit recognised in a mobility the caller takes part in (the
    learner, the guardian and admins: all of them); 404 for anyone else."""
    person = service.get_learner(session, actor=actor, learner_id=learner_id)
    visible = service.visible_mobility_ids(session, actor, learner_id)
    if not visible:
        raise NotFound(f"No learner {learner_id}")
    awards = session.scalars(select(CreditAward).where(CreditAward.learner_id == person.id,
                                                       CreditAward.mobility_id.in_(visible)).order_by(CreditAward.id))
    credentials = [build(session, award) for award in awards]
    credentials += [build_qualification(session, q) for q in qualification_award.visible(session, actor, person.id)]
    for credential in credentials:
        found = problems(credential)
        assert not found, found  # a credential that breaks the ELM schema is a bug here, never sent
    return credentials
