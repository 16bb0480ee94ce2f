"""The records of processing (GDPR Art. 30) of one organisation, generated from the retention policy
and the catalogue of personal data (:mod:`ecvet.privacy.holdings`): per processing activity its purposes,
legal basis, data subjects, categories of personal data (the catalogue's words for each table that holds
some), recipients, transfers, retention (this organisation's periods) and security measures.

Texts are English; the PDF's fixed texts are translated through the documents' catalogue
(``ecvet/locale/*/LC_MESSAGES/documents.po``) like every other document.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from ecvet.documents import i18n, pdf, service
from ecvet.documents.model import Document, Reference, Section, Table, data_hash
from ecvet.privacy.holdings import HOLDINGS
from ecvet.retention import policy
from engine.models import Organisation, utcnow
from engine.parties import Actor

LEARNERS, GUARDIANS, STAFF = "Learners", "Parents or guardians of minor learners", "Staff of the organisations"
SENDING, HOSTING = "Sending organisations", "Hosting organisations (companies, schools)"
INTERMEDIARY, COMPETENT = "Intermediary organisations", "Competent institutions (chambers, ministries)"


@dataclass(frozen=True)
class Activity:
    key: str
    name: str
    purposes: str
    legal_basis: str
    subjects: tuple[str, ...]
    recipients: tuple[str, ...]
    tables: tuple[str, ...]
    kinds: tuple[str, ...]  # retention policy record kinds


ACTIVITIES: tuple[Activity, ...] = (
    Activity("partnership", "Partnership management",
             "Agreeing Memoranda of Understanding between organisations, their partner profiles and who holds "
             "which ECVET function.",
             "Art. 6(1)(e) GDPR: a task in the public interest (vocational education), or Art. 6(1)(f) for "
             "private bodies; Art. 6(1)(c) for the records the Erasmus+ grant agreement requires.",
             (STAFF,), (SENDING, HOSTING, INTERMEDIARY, COMPETENT),
             ("organisations", "memberships", "mous", "mou_versions", "mou_approvals", "partnerships",
              "partner_profiles", "role_maps", "role_map_entries", "role_map_confirmations", "letterheads",
              "attachment_references"), ("mou",)),
    Activity("mobility", "Mobility and Learning Agreement",
             "Nominating learners, agreeing and signing their Learning Agreements, running their mobilities.",
             "Art. 6(1)(e) GDPR (vocational education) and Art. 6(1)(b) where the learner is party; the "
             "guardian signs for a minor (Art. 8).",
             (LEARNERS, GUARDIANS, STAFF), (SENDING, HOSTING, INTERMEDIARY),
             ("learners", "users", "mobility_groups", "mobilities", "mobility_periods", "mobility_status_changes",
              "learning_agreements", "la_versions", "la_signatures", "process_instances", "instance_parties",
              "tasks", "task_owners", "task_comments", "incidents", "jobs", "message_subscriptions",
              "pending_messages", "outbox"),
             ("learning_agreement", "learner_profile", "mobility_free_text")),
    Activity("assessment", "Assessment, validation and recognition",
             "Assessing the learner abroad, issuing the Personal Transcript, validating and recognising the "
             "units and awarding ECVET points and qualifications.",
             "Art. 6(1)(c) and (e) GDPR: recognition and certification are legal tasks of the competent "
             "institutions; records kept under national examination rules.",
             (LEARNERS, STAFF), (SENDING, HOSTING, COMPETENT),
             ("assessment_records", "evidence_files", "attachments", "attachment_blobs", "assessment_signatures",
              "assessment_acknowledgements", "personal_transcripts", "validation_decisions", "recognition_decisions",
              "credit_awards", "practical_implications", "qualification_awards"),
             ("assessment", "transcript", "recognition", "qualification_award")),
    Activity("credentials", "Europass Mobility and credentials",
             "Issuing the Europass Mobility and signed credentials the learner can show to others.",
             "Art. 6(1)(e) GDPR; the learner chooses whom to show a credential to.",
             (LEARNERS, STAFF), (SENDING, HOSTING),
             ("europass_mobilities", "europass_signatures", "organisation_keys"), ("europass",)),
    Activity("review", "Review of mobilities", "Quality assurance: evaluating each mobility and the partnership, "
             "and agreeing an action plan.", "Art. 6(1)(e) and (f) GDPR: quality assurance the grant requires.",
             (LEARNERS, STAFF), (SENDING, HOSTING),
             ("reviews", "evaluations", "action_plans", "action_plan_items", "partnership_reviews"), ("review",)),
    Activity("accounts", "Accounts, security and data subjects' rights", "Signing in, protecting accounts, sending "
             "notifications, keeping an audit trail of who did or read what, and answering erasure requests.",
             "Art. 6(1)(c) and (f) GDPR and Art. 32 (security of processing); Art. 5(2) accountability.",
             (LEARNERS, GUARDIANS, STAFF), (),
             ("users", "api_tokens", "sign_in_throttle", "audit_events", "outbox", "jobs", "evidence_purges",
              "erasure_requests",
              # the access and consent helpers' tables (issue 16): named here before their branches merge
              "personal_data_reads", "privacy_acknowledgements", "guardian_hand_overs"),
             ("audit_trail", "api_tokens", "sign_in_throttle", "outbox", "finished_jobs", "pending_messages")),
)
TRANSFERS = ("Within the EU/EEA only: between the partner organisations of a mobility, in their countries. "
             "No transfer to a third country or international organisation.")
SECURITY = (
    "Access by organisation: each organisation sees only its own work and the learners of its own mobilities; "
    "a learner only themself.",
    "Passwords hashed with Argon2; API tokens kept as SHA-256 only; sign-in throttled.",
    "Signed texts and signatures append-only in the database; every change and every read of personal data "
    "in an append-only audit trail.",
    "Credentials sealed with the issuer's Ed25519 key; private keys encrypted at rest.",
    "Expired data purged daily under this retention policy; purged evidence keeps only its hash.",
)
_SINCE = {
    "retention.since.mobility_end": "after the mobility's end", "retention.since.award": "after the award",
    "retention.since.mou_expiry": "after the MoU's expiry", "retention.since.event": "after the event",
    "retention.since.last_evidence": "after the learner's last evidence is purged",
    "retention.since.last_failure": "after the last failed sign-in", "retention.since.token_end":
        "after the token expired or was revoked", "retention.since.sent": "after sending",
    "retention.since.finished": "after the job finished", "retention.since.message_end":
        "after delivery or expiry",
}
_BASIS = {
    "retention.basis.erasmus_grant": "Erasmus+ grant rules: documents kept 5 years after the final report",
    "retention.basis.de_school_records": "German school and examination records rules (Länder)",
    "retention.basis.fr_archives": "French public archives rules for school records",
    "retention.basis.nl_archives": "Dutch archives rules for education records",
}


#: The record kinds in words (the pages say the same through their catalogue, ``retention.kind.*``).
_KIND_NAMES = {
    "learning_agreement": "Learning Agreements and their signatures",
    "assessment": "Assessment sheets, signatures, acknowledgements and evidence files",
    "transcript": "Personal Transcripts", "recognition": "Validation and recognition decisions, credits",
    "europass": "Europass Mobility and its sign-offs", "qualification_award": "Qualifications awarded",
    "mou": "Memoranda of Understanding and their approvals", "audit_trail": "Audit trail",
    "learner_profile": "Learner's profile", "mobility_free_text": "Free text of mobilities (reasons, status history)",
    "review": "Evaluation sheets and action plans", "sign_in_throttle": "Failed sign-ins",
    "api_tokens": "Expired or revoked sign-in tokens", "outbox": "Notification e-mails sent",
    "finished_jobs": "Finished background jobs", "pending_messages": "Process messages delivered or expired",
}
_SOURCE_NAMES = {"organisation": "Set by the organisation", "national_default": "National default",
                 "platform_default": "Platform default"}


def _period(row: dict[str, Any]) -> str:
    since = _SINCE.get(row["since"], row["since"])
    if row["keep_months"] is not None:
        return f"{row['keep_months']} months {since}"
    return f"{row['keep_days']} days {since}"


def _categories(tables: tuple[str, ...]) -> list[str]:
    """The catalogue's description of each table that holds personal data, in the catalogue's words."""
    found = []
    for table in tables:
        holding = HOLDINGS.get(table)
        if holding is not None and (holding.rows is not None or holding.personal) and holding.purpose not in found:
            found.append(holding.purpose)
    return found


def build(session: Session, *, actor: Actor, organisation_id: int) -> dict[str, Any]:
    """The organisation's register as JSON (members of the organisation and platform administrators)."""
    view = policy.view(session, actor=actor, organisation_id=organisation_id)
    by_kind = {row["kind"]: row for row in view["kinds"]}
    activities = []
    for activity in ACTIVITIES:
        retention = [{"kind": k, "period": _period(by_kind[k]), "source": by_kind[k]["source"],
                      "basis": _BASIS.get(by_kind[k]["basis"] or "")} for k in activity.kinds]
        activities.append({
            "key": activity.key, "name": activity.name, "purposes": activity.purposes,
            "legal_basis": activity.legal_basis, "data_subjects": list(activity.subjects),
            "personal_data": _categories(activity.tables), "recipients": list(activity.recipients),
            "transfers": TRANSFERS, "retention": retention, "security": list(SECURITY), "tables": list(activity.tables),
        })
    return {"organisation_id": organisation_id, "country": view["country"],
            "controller": controller(session, organisation_id),
            "note": view["note"], "activities": activities}


def controller(session: Session, organisation_id: int) -> str:
    """The controller's name (the organisation); callers have checked the reader may see it."""
    return session.get_one(Organisation, organisation_id).name


def document(session: Session, *, actor: Actor, organisation_id: int, at: datetime | None = None) -> Document:
    """The register as a document, for the PDF renderer."""
    register = build(session, actor=actor, organisation_id=organisation_id)
    sections = [Section("Controller", [("Organisation", register["controller"]), ("Country", register["country"])],
                        text=register["note"])]
    for activity in register["activities"]:
        sections.append(Section(activity["name"], [
            ("Purposes", activity["purposes"]), ("Legal basis", activity["legal_basis"]),
            ("Data subjects", "; ".join(activity["data_subjects"])),
            ("Recipients", "; ".join(activity["recipients"]) or "—"), ("Transfers", activity["transfers"])],
            table=Table(["Personal data"], [[c] for c in activity["personal_data"]]) if activity["personal_data"]
            else None))
        sections.append(Section("Retention", table=Table(["Record kind", "Kept", "Source"], [
            [_KIND_NAMES.get(r["kind"], r["kind"]), r["period"], r["basis"] or _SOURCE_NAMES.get(r["source"], "")]
            for r in activity["retention"]])))
    sections.append(Section("Security measures", table=Table(["Measure"], [[m] for m in SECURITY])))
    data = {"register": register}
    return Document(kind="processing-register", record_id=organisation_id, title="Records of processing activities",
                    subtitle=f"GDPR Art. 30 · {register['controller']}",
                    reference=Reference(None, None, data_hash(data), "document"), issued_at=at or utcnow(),
                    sections=sections, signatures=[], data=data, issuer_organisation_id=organisation_id)


def localised(session: Session, *, actor: Actor, organisation_id: int, languages: tuple[str, ...]) -> Document:
    """The register as a document, its fixed texts in ``languages``."""
    return i18n.localise(document(session, actor=actor, organisation_id=organisation_id), languages)


def pdf_bytes(session: Session, *, actor: Actor, organisation_id: int, languages: tuple[str, ...]) -> bytes:
    """The register as a PDF under the organisation's letterhead, its fixed texts in ``languages``."""
    built = localised(session, actor=actor, organisation_id=organisation_id, languages=languages)
    return pdf.render(built, generated_at=utcnow(), letterhead=service.letterhead_of(session, built))
