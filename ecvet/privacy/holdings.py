"""The catalogue of personal data: for every table, how its rows about one learner are found, which
columns carry personal data, what kind of record it is and what becomes of a row when it must go.

Export (``ecvet.subject_access``), the retention purge and register (``ecvet.retention``) and erasure
(``ecvet.privacy.erasure``) all read this one catalogue; ``tests/ecvet/privacy/test_holdings.py`` fails
as soon as a table of ``engine.models.Base.metadata`` is not in it, so a new table is classified here
before it ships. The API, kept small on purpose:

- :data:`HOLDINGS`: ``{table name: Holding}``, one per table of the metadata, in metadata order.
- :class:`Holding`: ``table``, ``kind`` (:class:`Kind`), ``purpose`` (one line: why the platform holds
  it, or, when ``rows`` is None, why it holds nothing about learners), ``rows`` (``rows(session,
  learner_id) -> Select`` over the table's columns, or None), ``personal`` (column names that carry
  personal data, of the learner or of anyone, JSON and free text included), ``treatment``
  (:class:`Treatment`), ``append_only`` (the database refuses UPDATE and DELETE: migration triggers).
- :func:`holding` (one table), :func:`about_learners` (holdings whose ``rows`` is set),
  :func:`rows_about` (every such table's rows about a learner, as column mappings).

``rows`` returns ``select(table)`` (plain columns, no ORM entity): ``session.execute(stmt).mappings()``
gives each row as ``{column: value}``. The session is passed for finders that need it; today every
finder is one statement of subqueries on the learner's id.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, cast

from sqlalchemy import ColumnElement, Select, Table, func, or_, select
from sqlalchemy.engine import RowMapping
from sqlalchemy.orm import Session

from ecvet.consent.models import GuardianHandOver, PrivacyAcknowledgement
from ecvet.europass.models import EuropassMobility, EuropassSignature
from ecvet.mobility.models import (
    AssessmentAcknowledgement,
    AssessmentRecord,
    AssessmentSignature,
    CreditAward,
    EvidenceFile,
    LaSignature,
    LaVersion,
    Learner,
    LearningAgreement,
    Mobility,
    MobilityPeriod,
    MobilityStatusChange,
    PersonalTranscript,
    PracticalImplication,
    RecognitionDecision,
    ValidationDecision,
)
from ecvet.models import register_tables
from ecvet.partnership.models import Attachment, AttachmentBlob
from ecvet.privacy.models import ErasureRequest
from ecvet.qualification.models import QualificationAward
from ecvet.review.models import ActionPlan, ActionPlanItem, Evaluation, Review
from ecvet.subject_access.models import PersonalDataRead
from engine.models import (
    ApiToken,
    AuditEvent,
    Base,
    HumanTask,
    Incident,
    InstanceParty,
    Job,
    MessageSubscription,
    OutboxMessage,
    PendingMessage,
    ProcessInstance,
    SignInThrottle,
    TaskComment,
    TaskOwner,
    User,
)


class Kind(StrEnum):
    """What a record is, which decides how long it is kept (``ecvet.retention``)."""

    EVIDENCE = "evidence"  # signed or decided records kept under a legal obligation (Art. 17(3)(b), (e))
    WORKING = "working"  # personal data needed while the work runs: profile, process data, mails, tokens
    OPERATIONAL = "operational"  # holds no personal data of learners (organisations, definitions, ...)


class Treatment(StrEnum):
    """What becomes of a row about a learner when it must go (erasure, or its retention period ended)."""

    DELETE = "delete"  # the row is deleted
    PSEUDONYMISE = "pseudonymise"  # the row stays; the learner's identifying values in `personal` are replaced
    KEEP = "keep"  # the row stays as it is: it holds no identifying value, or it is the audit trail


RowsFinder = Callable[[Session, int], Select[Any]]


@dataclass(frozen=True)
class Holding:
    table: str
    kind: Kind
    purpose: str
    rows: RowsFinder | None = None
    personal: tuple[str, ...] = ()
    treatment: Treatment = Treatment.KEEP
    append_only: bool = False


def _t(model: type[Base]) -> Table:
    return cast(Table, model.__table__)


# The learner's identities: accounts, e-mail addresses, mobilities, process instances ------------------


def _learner_user_ids(learner_id: int) -> Select[Any]:
    return select(Learner.user_id).where(Learner.id == learner_id, Learner.user_id.is_not(None))


def _guardian_user_ids(learner_id: int) -> Select[Any]:
    return select(Learner.guardian_user_id).where(Learner.id == learner_id, Learner.guardian_user_id.is_not(None))


def _is_learners_user(column: Any, learner_id: int) -> ColumnElement[bool]:
    """The column names the learner's or the guardian's account."""
    return or_(column.in_(_learner_user_ids(learner_id)), column.in_(_guardian_user_ids(learner_id)))


def _is_learners_email(column: Any, learner_id: int) -> ColumnElement[bool]:
    """The column holds an address of the learner or of the guardian (profile or account, any case)."""
    lowered = func.lower(column)
    return or_(
        lowered.in_(select(func.lower(Learner.email)).where(Learner.id == learner_id)),
        lowered.in_(select(func.lower(Learner.guardian_email)).where(Learner.id == learner_id,
                                                                    Learner.guardian_email.is_not(None))),
        lowered.in_(select(func.lower(User.email)).where(_is_learners_user(User.id, learner_id))),
    )


def _name(learner_id: int) -> Any:
    return select(Learner.name).where(Learner.id == learner_id).scalar_subquery()


def _mobility_ids(learner_id: int) -> Select[Any]:
    return select(Mobility.id).where(Mobility.learner_id == learner_id)


def _la_ids(learner_id: int) -> Select[Any]:
    return select(LearningAgreement.id).where(LearningAgreement.mobility_id.in_(_mobility_ids(learner_id)))


def _review_ids(learner_id: int) -> Select[Any]:
    return select(Review.id).where(Review.mobility_id.in_(_mobility_ids(learner_id)))


def _is_learners_instance(column: Any, learner_id: int) -> ColumnElement[bool]:
    """The column names a process instance of the learner: a mobility's, its review's, or one in which
    the learner's or the guardian's account plays a role or which it started."""
    return or_(
        column.in_(select(Mobility.process_instance_id).where(Mobility.learner_id == learner_id,
                                                              Mobility.process_instance_id.is_not(None))),
        column.in_(select(Review.instance_id).where(Review.mobility_id.in_(_mobility_ids(learner_id)),
                                                    Review.instance_id.is_not(None))),
        column.in_(select(InstanceParty.instance_id).where(_is_learners_user(InstanceParty.user_id, learner_id))),
        column.in_(select(ProcessInstance.id).where(_is_learners_user(ProcessInstance.started_by, learner_id))),
    )


def _task_ids(learner_id: int) -> Select[Any]:
    return select(HumanTask.id).where(or_(_is_learners_instance(HumanTask.instance_id, learner_id),
                                          _is_learners_user(HumanTask.user_id, learner_id)))


def _attachment_ids(learner_id: int) -> Select[Any]:
    return select(Attachment.id).where(or_(
        Attachment.id.in_(select(EvidenceFile.attachment_id).where(EvidenceFile.mobility_id.in_(
            _mobility_ids(learner_id)))),
        _is_learners_user(Attachment.uploaded_by, learner_id)))


def _where(model: type[Base], condition: Callable[[int], ColumnElement[bool]]) -> RowsFinder:
    def rows(_session: Session, learner_id: int) -> Select[Any]:
        return select(_t(model)).where(condition(learner_id))
    return rows


def _of_mobilities(model: Any) -> RowsFinder:
    return _where(model, lambda lid: model.mobility_id.in_(_mobility_ids(lid)))


def _of_learner(model: Any) -> RowsFinder:
    return _where(model, lambda lid: model.learner_id == lid)


SIGNER = ("signer_name", "signer_position", "signer_email", "signer_place")
E, W, OP = Kind.EVIDENCE, Kind.WORKING, Kind.OPERATIONAL
D, P, K = Treatment.DELETE, Treatment.PSEUDONYMISE, Treatment.KEEP


def _none(table: str, why: str, *, append_only: bool = False) -> Holding:
    return Holding(table, OP, why, append_only=append_only)


_CATALOGUE: tuple[Holding, ...] = (
    # Engine --------------------------------------------------------------------------------------------
    _none("organisations", "Organisations' names and countries: no learner's data."),
    Holding("users", W, "The learner's and the guardian's accounts: sign-in, language, signatures.",
            _where(User, lambda lid: _is_learners_user(User.id, lid)),
            ("email", "name", "password_hash", "position", "place", "language"), P),
    _none("memberships", "Staff belong to organisations; learners and guardians have no membership."),
    Holding("api_tokens", W, "Sign-in tokens of the learner's and the guardian's accounts (hashes only).",
            _where(ApiToken, lambda lid: _is_learners_user(ApiToken.user_id, lid)), ("token_hash", "prefix"), D),
    _none("file_blobs", "Deployed process, form and decision files: no learner's data."),
    _none("deployments", "Who deployed process files when: staff only."),
    _none("process_definitions", "Process models: no learner's data."),
    _none("decision_definitions", "Decision tables (DMN): no learner's data."),
    _none("definition_files", "Files of a process model: no learner's data."),
    Holding("process_instances", W, "The learner's mobility and review processes: their data and title.",
            _where(ProcessInstance, lambda lid: _is_learners_instance(ProcessInstance.id, lid)),
            ("business_key", "state"), P),
    Holding("instance_parties", W, "The roles the learner's and the guardian's accounts play in processes.",
            _where(InstanceParty, lambda lid: _is_learners_user(InstanceParty.user_id, lid)), (), K),
    Holding("tasks", W, "The steps of the learner's processes: titles and instructions may name the learner.",
            _where(HumanTask, lambda lid: or_(_is_learners_instance(HumanTask.instance_id, lid),
                                              _is_learners_user(HumanTask.user_id, lid),
                                              _is_learners_user(HumanTask.completed_by, lid))),
            ("name", "instructions"), P),
    Holding("task_owners", W, "People named owners of a step of the learner's processes.",
            _where(TaskOwner, lambda lid: or_(TaskOwner.task_id.in_(_task_ids(lid)),
                                              _is_learners_user(TaskOwner.user_id, lid))), (), K),
    Holding("task_comments", W, "Colleagues' notes on the steps of the learner's processes.",
            _where(TaskComment, lambda lid: or_(TaskComment.task_id.in_(_task_ids(lid)),
                                                _is_learners_user(TaskComment.author_id, lid))),
            ("body",), P, append_only=True),
    Holding("audit_events", E, "The audit trail (Art. 5(2) accountability): who did or read what, when.",
            _where(AuditEvent, lambda lid: or_(
                _is_learners_user(AuditEvent.actor_id, lid),
                _is_learners_instance(AuditEvent.instance_id, lid),
                AuditEvent.detail["learner_id"].as_integer() == lid,
                AuditEvent.detail["mobility_id"].as_integer().in_(_mobility_ids(lid)))),
            ("detail",), K, append_only=True),
    Holding("incidents", W, "Errors of the learner's processes; messages may quote process data.",
            _where(Incident, lambda lid: _is_learners_instance(Incident.instance_id, lid)), ("message",), P),
    Holding("jobs", W, "Due work of the learner's processes (timers, service tasks, mails).",
            _where(Job, lambda lid: _is_learners_instance(Job.instance_id, lid)), ("payload", "last_error"), P),
    Holding("message_subscriptions", W, "Messages the learner's processes wait for, with their correlations.",
            _where(MessageSubscription, lambda lid: _is_learners_instance(MessageSubscription.instance_id, lid)),
            ("correlations",), P),
    _none("signal_subscriptions", "Signal names an instance waits for: nothing personal."),
    _none("data_store_items", "BPMN data stores keyed per process, not per learner; no process of processes/ "
                              "uses one."),
    Holding("pending_messages", W, "Messages the learner's processes sent that nobody awaited yet.",
            _where(PendingMessage, lambda lid: or_(_is_learners_instance(PendingMessage.source_instance_id, lid),
                                                   _is_learners_user(PendingMessage.sender_id, lid))),
            ("correlation_keys", "payload"), D),
    Holding("outbox", W, "E-mails to the learner or the guardian, and mails about the learner or their processes.",
            _where(OutboxMessage, lambda lid: or_(_is_learners_email(OutboxMessage.to_email, lid),
                                                  _is_learners_instance(OutboxMessage.instance_id, lid),
                                                  OutboxMessage.subject.contains(_name(lid)),
                                                  OutboxMessage.body.contains(_name(lid)))),
            ("to_email", "subject", "body"), D),
    Holding("sign_in_throttle", W, "Failed sign-ins with the learner's or the guardian's address.",
            _where(SignInThrottle, lambda lid: _is_learners_email(SignInThrottle.email, lid)), ("email",), D),
    _none("dashboard_summaries", "Administrators' dashboard counts: aggregates, no person."),
    # National models, qualifications, partnerships ------------------------------------------------------
    _none("organisation_competences", "Which organisation holds which ECVET function: no learner's data."),
    _none("qualifications", "Qualifications offered: no learner's data."),
    _none("units", "Units of learning outcomes: no learner's data."),
    _none("learning_outcomes", "Learning outcomes of units: no learner's data."),
    Holding("qualification_awards", E, "A whole qualification awarded to the learner, signed.",
            _of_learner(QualificationAward), ("comment", *SIGNER), P, append_only=True),
    _none("mous", "Memoranda of Understanding between organisations: no learner's data."),
    _none("mou_versions", "Texts of MoUs: organisations, qualifications, contact staff.", append_only=True),
    _none("mou_approvals", "Organisations' approvals of MoUs, signed by staff.", append_only=True),
    _none("partnerships", "Partnerships between organisations."),
    Holding("attachment_blobs", W, "Bytes of files uploaded as evidence of the learner's learning outcomes.",
            _where(AttachmentBlob, lambda lid: AttachmentBlob.sha256.in_(
                select(Attachment.sha256).where(Attachment.id.in_(_attachment_ids(lid))))), ("content",), D),
    Holding("attachments", W, "Names and types of files uploaded for the learner's mobilities or by the learner.",
            _where(Attachment, lambda lid: Attachment.id.in_(_attachment_ids(lid))), ("filename",), D),
    _none("attachment_references", "Partnership records (profiles, MoUs) citing organisations' files."),
    _none("partner_profiles", "What an organisation tells its partners about itself.", append_only=True),
    _none("role_maps", "Who holds which ECVET function in a partnership."),
    _none("role_map_confirmations", "Organisations' confirmations of a role map, signed by staff.", append_only=True),
    _none("role_map_entries", "Functions and the organisations holding them."),
    _none("letterheads", "Organisations' addresses and logos."),
    # Mobilities ------------------------------------------------------------------------------------------
    Holding("learners", W, "The learner's profile: name, date of birth, e-mail, guardian, student identifier.",
            _where(Learner, lambda lid: Learner.id == lid),
            ("name", "date_of_birth", "email", "guardian_name", "guardian_email", "european_student_identifier"), P),
    _none("mobility_groups", "A group's programme and accompanying staff; each learner's part is a mobility."),
    Holding("mobilities", E, "The learner's stays abroad: dates, organisations, qualification, status.",
            _of_learner(Mobility), ("cancel_reason",), P),
    Holding("mobility_periods", E, "The hosts and dates of each part of the learner's mobility.",
            _of_mobilities(MobilityPeriod), (), K),
    Holding("mobility_status_changes", W, "Status history of the learner's mobilities, with reasons.",
            _of_mobilities(MobilityStatusChange), ("reason",), P, append_only=True),
    Holding("learning_agreements", E, "The learner's Learning Agreements: identity and status.",
            _of_mobilities(LearningAgreement), (), K),
    Holding("la_versions", E, "Texts of the learner's Learning Agreements (name, birth date, units), hashed.",
            _where(LaVersion, lambda lid: LaVersion.la_id.in_(_la_ids(lid))), ("content",), P, append_only=True),
    Holding("la_signatures", E, "Signatures of the learner's Learning Agreements (learner, guardian, staff).",
            _where(LaSignature, lambda lid: LaSignature.la_id.in_(_la_ids(lid))), SIGNER, P, append_only=True),
    Holding("assessment_records", E, "Assessment sheets of the learner's units: results, grades, comments.",
            _of_mobilities(AssessmentRecord),
            ("learning_outcome", "outcome_results", "context", "assessor_name", "grade", "comments", "evidence",
             *SIGNER), P, append_only=True),
    Holding("evidence_files", W, "Files (photos, work samples) evidencing the learner's learning outcomes.",
            _of_mobilities(EvidenceFile), ("learning_outcome", "description"), D, append_only=True),
    Holding("assessment_signatures", E, "Assessors' signatures on the learner's assessment sheets.",
            _where(AssessmentSignature, lambda lid: AssessmentSignature.assessment_id.in_(
                select(AssessmentRecord.id).where(AssessmentRecord.mobility_id.in_(_mobility_ids(lid))))),
            SIGNER, P, append_only=True),
    Holding("assessment_acknowledgements", E, "The learner's acknowledgement of each assessment, with comments.",
            _of_mobilities(AssessmentAcknowledgement), ("comment", "overall_comment"), P, append_only=True),
    Holding("personal_transcripts", E, "The learner's Personal Transcripts (name, birth date, results), hashed.",
            _of_learner(PersonalTranscript), ("content", *SIGNER), P, append_only=True),
    Holding("validation_decisions", E, "Validation of the learner's units by the sending organisation.",
            _of_mobilities(ValidationDecision), ("comment", *SIGNER), P, append_only=True),
    Holding("recognition_decisions", E, "Recognition of the learner's units and the points given.",
            _of_mobilities(RecognitionDecision), ("units", "comment", *SIGNER), P, append_only=True),
    Holding("credit_awards", E, "ECVET points awarded to the learner per unit.",
            _of_learner(CreditAward), (), K, append_only=True),
    Holding("practical_implications", E, "What recognition changes in the learner's programme at home.",
            _of_learner(PracticalImplication), ("description",), P, append_only=True),
    _none("organisation_keys", "Organisations' credential signing keys."),
    # Reviews and Europass --------------------------------------------------------------------------------
    Holding("reviews", W, "The review of the learner's mobility (quality assurance).",
            _of_mobilities(Review), (), K),
    Holding("evaluations", W, "Evaluation sheets of the learner's mobility (the learner's own among them).",
            _where(Evaluation, lambda lid: Evaluation.review_id.in_(_review_ids(lid))),
            ("outcomes_comment", "evidence_comment", "strengths", "changes_proposed", "unit_remarks"), P,
            append_only=True),
    Holding("action_plans", W, "What the partners change after reviewing the learner's mobility.",
            _where(ActionPlan, lambda lid: ActionPlan.review_id.in_(_review_ids(lid))),
            ("summary", "mou_changes"), P),
    Holding("action_plan_items", W, "Actions after the review of the learner's mobility, some the learner's.",
            _where(ActionPlanItem, lambda lid: ActionPlanItem.action_plan_id.in_(
                select(ActionPlan.id).where(ActionPlan.review_id.in_(_review_ids(lid))))),
            ("action", "owner_name", "status_note"), P),
    _none("partnership_reviews", "The partners' look across all mobilities of a MoU: counts and conclusions.",
          append_only=True),
    Holding("europass_mobilities", E, "The learner's Europass Mobility (name, birth date, skills), hashed.",
            _of_learner(EuropassMobility), ("content",), P, append_only=True),
    Holding("europass_signatures", E, "Organisations' sign-offs of the learner's Europass Mobility.",
            _where(EuropassSignature, lambda lid: EuropassSignature.europass_id.in_(
                select(EuropassMobility.id).where(EuropassMobility.learner_id == lid))), SIGNER, P,
            append_only=True),
    # Subject access (issue 16) -----------------------------------------------------------------------------
    Holding("personal_data_reads", E, "Who read the learner's personal data, when (Art. 15(1)(c), Art. 5(2)).",
            _of_learner(PersonalDataRead), (), K),
    # Consent and information (migration 1804) -------------------------------------------------------------
    Holding("privacy_acknowledgements", E, "That the learner and the guardian were shown the privacy notice "
                                           "(Art. 5(2), 13): which version, in which language, when.",
            _where(PrivacyAcknowledgement, lambda lid: _is_learners_user(PrivacyAcknowledgement.user_id, lid)),
            (), K),
    Holding("guardian_hand_overs", E, "When the guardian's access ended at the learner's 18th birthday.",
            _of_learner(GuardianHandOver), ("came_of_age_on",), K),
    _none("evaluation_visibility_policies", "The partners' choice of who reads evaluation sheets under a MoU."),
    # Retention (ecvet.retention, migration 1805) ----------------------------------------------------------
    _none("retention_policies", "Organisations' retention periods per record kind: no learner's data."),
    _none("evidence_purges", "Hashes and dates of evidence purged under the retention policy, so signed copies "
                             "still verify: no link to a person (no learner id, by design).", append_only=True),
    # Data protection -----------------------------------------------------------------------------------
    Holding("erasure_requests", E, "The learner's erasure requests and their answers (Art. 5(2), 12, 17).",
            _of_learner(ErasureRequest), ("refusal_note",), K),
    _none("append_only_unlocks", "A marker that lives inside an erasing transaction only."),
)

HOLDINGS: dict[str, Holding] = {h.table: h for h in _CATALOGUE}


def holding(table: str) -> Holding:
    """The catalogue entry of one table (KeyError: the table is not classified yet)."""
    return HOLDINGS[table]


def about_learners() -> list[Holding]:
    """The holdings whose rows can be about a learner, in metadata order (parents before children)."""
    register_tables()
    return [HOLDINGS[t.name] for t in Base.metadata.sorted_tables if t.name in HOLDINGS and HOLDINGS[t.name].rows]


def rows_about(session: Session, learner_id: int) -> dict[str, list[RowMapping]]:
    """Every table's rows about the learner (tables with none included, as empty lists)."""
    out: dict[str, list[RowMapping]] = {}
    for entry in about_learners():
        assert entry.rows is not None
        out[entry.table] = list(session.execute(entry.rows(session, learner_id)).mappings())
    return out

