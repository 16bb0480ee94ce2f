"""Task actions of the Mobility process (``processes/mobility.bpmn``): each user task's form becomes records.

Like :mod:`ecvet.partnership.workflow` for MoUs, every action writes through a service module in the task's unit
of work (a refusal raises and nothing of the completion is kept) and returns small references that
land in the process data for the gateways: ids, versions, hashes, who signs next, whether a party
refused. ``mobility_id`` and ``la_id`` come from the process data, never from the form, and the
party a signature is given as comes from the lane the task is in, never from the form either. Who
signs is the signed-in person (:mod:`ecvet.signing`): a form's ``signer`` gives only position and
place, and every signing form starts with the reader's own name, e-mail and profile (a prefill).

Importing this module registers the actions (see :mod:`ecvet.wiring`).
"""
from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from ecvet import signing
from ecvet.mobility import (
    assessment,
    departure,
    evidence_files,
    learning_agreement,
    nomination,
    periods,
    recognition,
    service,
    signatures,
    transcript,
)
from ecvet.mobility.models import LaParty, LearningAgreement
from ecvet.partnership.models import Mou
from engine import services
from engine.actions import ActionContext, action, prefill
from engine.errors import Conflict, EngineError, Invalid

#: Lane role → the party a signature in that lane is given as.
ROLE_PARTY = {
    "learner": LaParty.LEARNER,
    "guardian": LaParty.GUARDIAN,
    "sending": LaParty.SENDING,
    "hosting": LaParty.HOSTING,
    "intermediary": LaParty.INTERMEDIARY,
    "hosting-period-2": LaParty.HOSTING_PERIOD_2,
    "hosting-period-3": LaParty.HOSTING_PERIOD_3,
    "competent-institution-home": LaParty.COMPETENT_INSTITUTION,
}
#: Form fields a task consumes: cleared once used, so a later task's form is not prefilled with
#: another party's answer (forms prefill their fields from the process data).
SIGNING_FIELDS = {"decision": None, "comment": None, "signer": None}
CHANGE_FIELDS = {"added": None, "removed": None, "reason": None,
                 **{name: None for name in learning_agreement.SECTIONS if name != "duration"}}
SIGN = ("sign", "approved")
REFUSE = ("request_changes", "rejected")
ASSESSMENT_AGREED = "Assessment arrangements agreed by the hosting organisation"


def _process_id(context: ActionContext, name: str) -> int:
    value = context.task_data.get(name)
    if isinstance(value, bool) or not isinstance(value, int):
        raise Invalid(f"The process has no {name}: this task belongs to a Mobility process instance",
                      errors={name: ["Missing in the process data"]})
    return value


def _mobility_id(context: ActionContext) -> int:
    return _process_id(context, "mobility_id")


def la_references(context: ActionContext, la_id: int) -> dict[str, Any]:
    """What the process keeps of the Learning Agreement: id, version, hash, status, who signs next, units."""
    la = learning_agreement.get(context.session, actor=context.actor, la_id=la_id)
    version = learning_agreement.current_version(context.session, la)
    return {"la_id": la.id, "la_version": version.number, "la_hash": version.content_hash, "la_status": la.status,
            "la_next_party": learning_agreement.next_party(context.session, la),
            "la_in_force": learning_agreement.in_force(context.session, la),
            "la_changes": version.changes,
            "la_units": [{"code": u["code"], "title": u.get("title"), "ecvet_points": u.get("ecvet_points")}
                         for u in version.content.get("units") or []],
            # The forms' pickers (dynamic enums): units of this LA, and the assessors it names.
            "la_unit_choices": service.unit_choices(version.content.get("units")),
            "la_assessor_choices": service.assessor_choices(version.content)}


def _quoted_hash(data: dict[str, Any]) -> str:
    digest = data.get("la_hash")
    if not isinstance(digest, str) or not digest:
        raise Invalid("Say which text you read: la_hash is required", errors={"la_hash": ["Required"]})
    return digest


def _check_current(context: ActionContext, la_id: int, digest: str) -> None:
    """A change made on a text other than the current one would silently overwrite someone's edit."""
    la = learning_agreement.get(context.session, actor=context.actor, la_id=la_id)
    version = learning_agreement.current_version(context.session, la)
    if digest != version.content_hash:
        raise Conflict(learning_agreement.STALE_MESSAGE, errors={"la_hash": [
            f"You read {digest!r}; the current text is version {version.number} ({version.content_hash})"]})


# --------------------------------------------------------------------------------------------------
# Before the mobility: the Learning Agreement
# --------------------------------------------------------------------------------------------------


@action("mobility.prepare_la")
def prepare_la(context: ActionContext, data: dict[str, Any]) -> dict[str, Any]:
    """The sending organisation writes version 1: units from the MoU with their learning outcomes and
    activities, the proposed assessment and how the units will be validated and recognised. The
    duration is the mobility's own."""
    session = context.session
    mobility = service.get(session, actor=context.actor, mobility_id=_mobility_id(context))
    content: dict[str, Any] = {name: data[name] for name in ("units", *learning_agreement.SECTIONS)
                               if name in data and name != "duration"}
    weeks = max(1, -(-((mobility.end_date - mobility.start_date).days + 1) // 7))
    content["duration"] = {"start": mobility.start_date.isoformat(), "end": mobility.end_date.isoformat(),
                           "weeks": weeks}
    la = learning_agreement.prepare(session, actor=context.actor, mobility_id=mobility.id, content=content)
    return {**la_references(context, la.id), "la_refused": False, "la_refusal": None}


@prefill("mobility.prepare_la")
def prepare_la_values(context: ActionContext) -> dict[str, Any]:
    """The contact persons and the NQF level as the MoU in force states them, until the form has its own."""
    session = context.session
    mobility = service.get(session, actor=context.actor, mobility_id=_mobility_id(context))
    mou = session.get(Mou, mobility.mou_id)
    content = (service.active_content(session, mou) if mou is not None else None) or {}
    contacts = {o.get("organisation_id"): o.get("contact_person") or {}
                for o in content.get("signing_organisations") or []}
    values: dict[str, Any] = {}
    if not context.task_data.get("contact_persons"):
        values["contact_persons"] = {
            party: {k: v for k, v in contacts.get(org_id, {}).items() if k in ("name", "position", "phone", "email")}
            for party, org_id in (("sending", mobility.sending_organisation_id),
                                  ("hosting", mobility.hosting_organisation_id))}
    nqf = (service.mou_qualification(session, mobility) or {}).get("nqf_level")
    if nqf and not context.task_data.get("qualification_details"):
        values["qualification_details"] = {"nqf_level": nqf}
    return values


@action("mobility.agree_assessment")
def agree_assessment(context: ActionContext, data: dict[str, Any]) -> dict[str, Any]:
    """The hosting organisation completes the assessment arrangements (who assesses, how, when and
    where); before anyone signs, so every party signs what the host agreed to."""
    la_id = _process_id(context, "la_id")
    _check_current(context, la_id, _quoted_hash(data))
    assessment_ = data.get("assessment")
    if not isinstance(assessment_, dict):
        raise Invalid("Give the assessment arrangements", errors={"assessment": ["Required"]})
    learning_agreement.change(context.session, actor=context.actor, la_id=la_id, sections={"assessment": assessment_},
               reason=ASSESSMENT_AGREED)
    return la_references(context, la_id)


@action("mobility.sign_la")
def sign_la(context: ActionContext, data: dict[str, Any]) -> dict[str, Any]:
    """Sign the text read (its hash) as the party of the task's lane, or refuse with a comment: then the
    text goes back to be revised (``la_refused``)."""
    la_id = _process_id(context, "la_id")
    party = ROLE_PARTY.get(context.task.role or "")
    if party is None:
        raise Invalid("This task's lane signs no Learning Agreement", errors={"_": [str(context.task.role)]})
    decision = data.get("decision", "sign")
    digest = _quoted_hash(data)
    if decision in REFUSE:
        refusal = signatures.refuse(context.session, actor=context.actor, la_id=la_id, party=party, content_hash=digest,
                             comment=data.get("comment") or "")
        return {**la_references(context, la_id), **SIGNING_FIELDS, "la_refused": True, "la_refusal": refusal}
    if decision not in SIGN:
        raise Invalid("Sign or refuse", errors={"decision": [f"One of {', '.join(SIGN + REFUSE)}"]})
    signature = signatures.sign(context.session, actor=context.actor, la_id=la_id, party=party, content_hash=digest,
                         signer=data.get("signer"))
    return {**la_references(context, la_id), **SIGNING_FIELDS, "la_refused": False,
            "la_signature_id": signature.id}


@prefill("mobility.sign_la")
def sign_la_values(context: ActionContext) -> dict[str, Any]:
    """The reader as signer; in the guardian's lane bound to the school (the parent has no account and
    signed on paper), the parent on the learner's record, whose signature the school records."""
    if context.task.role == "guardian" and context.task.user_id is None:
        try:
            learner = service.get(context.session, actor=context.actor,
                                     mobility_id=_mobility_id(context)).learner
        except EngineError:
            return {"signer": {}}
        return {"signer": signing.form_values(context.session, context.actor,
                                              organisation_id=context.task.organisation_id,
                                              on_record=(learner.guardian_name, learner.guardian_email))}
    return signing.prefill(context)


def _change(context: ActionContext, data: dict[str, Any]) -> dict[str, Any]:
    la_id = _process_id(context, "la_id")
    _check_current(context, la_id, _quoted_hash(data))
    added, removed = data.get("added") or [], data.get("removed") or []
    if not isinstance(added, list) or not isinstance(removed, list):
        raise Invalid("added and removed are lists of {unit, reason}",
                      errors={"added": ["A list"], "removed": ["A list"]})
    sections = {name: data[name] for name in learning_agreement.SECTIONS if name in data}
    learning_agreement.change(context.session, actor=context.actor, la_id=la_id, added=added, removed=removed,
               sections=sections, reason=data.get("reason"))
    return {**la_references(context, la_id), **CHANGE_FIELDS, "la_refused": False, "la_refusal": None}


@action("mobility.revise_la")
def revise_la(context: ActionContext, data: dict[str, Any]) -> dict[str, Any]:
    """After a refusal before the mobility: the sending organisation revises the text (a new version,
    every change with its reason); everyone signs again from the learner on."""
    return _change(context, data)


@action("mobility.resolve_missed_start")
def resolve_missed_start(context: ActionContext, data: dict[str, Any]) -> dict[str, Any]:
    """The start date came without a Learning Agreement in force: postpone to new dates or cancel."""
    session, actor = context.session, context.actor
    mobility_id = _mobility_id(context)
    decision = data.get("decision")
    if decision == "postpone":
        mobility = departure.postpone(session, actor=actor, mobility_id=mobility_id,
                                       start_date=data.get("new_start_date"), end_date=data.get("new_end_date"),
                                       reason=data.get("reason") or "")
        out = {"start_decision": decision, "mobility_status": mobility.status,
               "start_date": mobility.start_date.isoformat(), "end_date": mobility.end_date.isoformat(),
               "start_deadline": nomination.start_deadline(mobility.start_date),
               "learner_is_minor": mobility.learner.is_minor(mobility.start_date)}
    elif decision == "cancel":
        mobility = service.cancel(session, actor=actor, mobility_id=mobility_id, reason=data.get("reason") or "")
        out = {"start_decision": decision, "mobility_status": mobility.status}
    else:
        raise Invalid("Postpone or cancel", errors={"decision": ["One of postpone, cancel"]})
    # The interrupted "before" phase kept its references to itself: the signing resumes from these.
    la = service.current_agreement(session, mobility)
    if la is not None:
        out.update(la_references(context, la.id), la_refused=False, la_refusal=None)
    return {**out, "decision": None, "reason": None, "new_start_date": None, "new_end_date": None}


# --------------------------------------------------------------------------------------------------
# During the mobility
# --------------------------------------------------------------------------------------------------


@action("mobility.checkpoint")
def checkpoint(context: ActionContext, data: dict[str, Any]) -> dict[str, Any]:
    """The host either proposes a change of the Learning Agreement (units added or removed, each with
    its reason; everyone signs the new version) or, with the text in force, goes on to assessment."""
    decision = data.get("decision")
    if decision == "change_la":
        return {**_change(context, data), "checkpoint_decision": decision, "decision": None}
    if decision == "assess":
        la_id = _process_id(context, "la_id")
        references = la_references(context, la_id)
        if not references["la_in_force"]:
            raise Conflict("The current Learning Agreement is not signed by everyone: propose a change the parties "
                           "accept before assessing")
        return {**references, **CHANGE_FIELDS, "checkpoint_decision": decision, "decision": None}
    raise Invalid("Change the agreement or go on to assessment", errors={"decision": ["One of assess, change_la"]})


@action("mobility.record_assessment")
def record_assessment(context: ActionContext, data: dict[str, Any]) -> dict[str, Any]:
    """The host's assessment sheets, one per unit of the agreement in force."""
    rows = assessment.record(context.session, actor=context.actor, mobility_id=_mobility_id(context),
                             assessments=data.get("assessments") or [], signer=data.get("signer"),
                             period=periods.ROLE_PERIOD.get(context.task.role or "", 1))
    files = evidence_files.from_assessment_form(context.session, actor=context.actor,
                                                mobility_id=_mobility_id(context), assessments=data.get("assessments"))
    return {"assessment_ids": [r.id for r in rows], "evidence_file_ids": [f.id for f in files], "signer": None}


@action("mobility.acknowledge_assessment")
def acknowledge_assessment(context: ActionContext, data: dict[str, Any]) -> dict[str, Any]:
    rows = assessment.acknowledge(context.session, actor=context.actor, mobility_id=_mobility_id(context),
                                  agrees=data.get("agrees"), comment=data.get("comment"),
                                  unit_comments=data.get("unit_comments"))
    return {"assessment_acknowledged": True, "learner_agrees": all(r.agrees for r in rows), "unit_comments": None}


@action("mobility.issue_transcript")
def issue_transcript(context: ActionContext, data: dict[str, Any]) -> dict[str, Any]:
    issued = transcript.issue(context.session, actor=context.actor, mobility_id=_mobility_id(context),
                              signer=data.get("signer"), period=data.get("period"), hours=data.get("hours"))
    return {"transcript_id": issued.id, "transcript_hash": issued.content_hash, "signer": None, "period": None,
            "hours": None}


@action("mobility.release_transcript")
def release_transcript(context: ActionContext, data: dict[str, Any]) -> dict[str, Any]:
    """Mark the transcript ready for recognition; the home side's forms then list its units."""
    if data.get("ready_for_recognition") is not True:
        raise Invalid("Confirm that the transcript is ready for recognition",
                      errors={"ready_for_recognition": ["Required"]})
    released = transcript.mark_ready(context.session, actor=context.actor, mobility_id=_mobility_id(context))
    units = [{"unit": u["code"], "title": u.get("title"), "result": u["result"], "ecvet_points": u["ecvet_points"]}
             for u in released.content["units"]]
    return {"transcript_ready": True, "transcript_hash": released.content_hash, "transcript_units": units,
            "transcript_unit_choices": service.unit_choices(units, key="unit")}


# --------------------------------------------------------------------------------------------------
# After the mobility
# --------------------------------------------------------------------------------------------------


def _transcript_hash(data: dict[str, Any]) -> str:
    digest = data.get("transcript_hash")
    if not isinstance(digest, str) or not digest:
        raise Invalid("Say which transcript you read: transcript_hash is required",
                      errors={"transcript_hash": ["Required"]})
    return digest


@action("mobility.validate")
def validate(context: ActionContext, data: dict[str, Any]) -> dict[str, Any]:
    rows = recognition.validate(context.session, actor=context.actor, mobility_id=_mobility_id(context),
                                transcript_hash=_transcript_hash(data), units=data.get("unit_outcomes") or [],
                                signer=data.get("signer"))
    return {"validation": {r.unit_code: r.outcome for r in rows}, "signer": None}


def _recognised(context: ActionContext, decision: Any) -> dict[str, Any]:
    mobility = service.get(context.session, actor=context.actor, mobility_id=_mobility_id(context))
    return {"recognition_id": decision.id, "mobility_status": mobility.status, "signer": None, "comment": None,
            "certificate_learner_id": mobility.learner_id,
            "recognised_units": [u["unit"] for u in decision.units if u["recognised"]],
            "ecvet_points_awarded": sum(u["ecvet_points"] or 0 for u in decision.units if u["recognised"])}


@action("mobility.recognise")
def recognise(context: ActionContext, data: dict[str, Any]) -> dict[str, Any]:
    decision = recognition.recognise(context.session, actor=context.actor, mobility_id=_mobility_id(context),
                                     transcript_hash=_transcript_hash(data),
                                     units=data.get("unit_recognition") or [], signer=data.get("signer"),
                                     comment=data.get("comment"))
    return _recognised(context, decision)


@action("mobility.validate_and_recognise")
def validate_and_recognise(context: ActionContext, data: dict[str, Any]) -> dict[str, Any]:
    decision = recognition.validate_and_recognise(
        context.session, actor=context.actor, mobility_id=_mobility_id(context),
        transcript_hash=_transcript_hash(data), units=data.get("unit_decisions") or [],
        signer=data.get("signer"), comment=data.get("comment"))
    return _recognised(context, decision)


for _name in ("mobility.issue_transcript", "mobility.validate", "mobility.recognise",
              "mobility.validate_and_recognise"):
    prefill(_name)(signing.prefill)


@prefill("mobility.record_assessment")
def record_assessment_values(context: ActionContext) -> dict[str, Any]:
    """The reader as signer, and only the units the host of this task's period assesses (every unit of
    the agreement when the mobility has one host)."""
    values = signing.prefill(context)
    mobility = service.get(context.session, actor=context.actor, mobility_id=_mobility_id(context))
    if mobility.periods:
        period = periods.ROLE_PERIOD.get(context.task.role or "", 1)
        units = context.task_data.get("la_units") or []
        values["la_units"] = [u for u in units if periods.may_assess(mobility, period, u.get("code") or "")]
    return values


@action("mobility.record_implications")
def record_implications(context: ActionContext, data: dict[str, Any]) -> dict[str, Any]:
    implications = data.get("implications") or []
    if data.get("none") is True and implications:
        raise Invalid("Either list the implications or say there are none", errors={"none": ["Contradicts the list"]})
    if not implications and data.get("none") is not True:
        raise Invalid("List the practical implications, or say there are none", errors={"implications": ["Required"]})
    rows = recognition.record_implications(context.session, actor=context.actor, mobility_id=_mobility_id(context),
                                           implications=implications)
    return {"implication_ids": [r.id for r in rows]}



# --------------------------------------------------------------------------------------------------
# Connectors, run by the worker: the mobility goes live at its start date, and the competent
# institution's silence becomes an implicit approval of the Learning Agreement. They get only their
# parameters; the unit of work is the worker job's (:func:`engine.services.current_session`).
# --------------------------------------------------------------------------------------------------


def _job_session() -> Session:
    return services.current_session()


@services.connector("mobility.go_live")
def go_live(mobility_id: int) -> str:
    """The start date has come with the Learning Agreement in force: the mobility is live."""
    return departure.go_live(_job_session(), mobility_id=mobility_id).status


@services.connector("mobility.start_missed")
def start_missed(mobility_id: int) -> dict[str, Any]:
    """The start date came without the agreement in force: record it and return where the signing stood
    (the sending coordinator's alert shows it)."""
    return departure.start_missed(_job_session(), mobility_id=mobility_id)


@services.connector("mobility.la_implicit_approval")
def la_implicit_approval(la_id: int) -> str:
    """The competent institution raised no objection within its period: record the implicit approval and
    return the agreement's status (``approved``)."""
    session = _job_session()
    signatures.implicit_approval(session, la_id=la_id)
    la = session.get(LearningAgreement, la_id)
    assert la is not None
    return la.status
