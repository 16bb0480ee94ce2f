"""The review's documents: an evaluation sheet, the action plan with its items, and the partnership review
across the mobilities of one MoU (its conclusions with the summary the partners read)."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.orm import Session

from ecvet.documents.model import KIND_TITLES, Document, Reference, Section, Signature, Table, data_hash, text
from ecvet.documents.parts import fields, learner_fields, mobility_organisations, organisation_label
from ecvet.mobility.models import Mobility
from ecvet.partnership.models import Mou
from ecvet.partnership.mou import current_version
from ecvet.review import partnership, service, views
from ecvet.review.models import Review
from engine.models import Organisation, User
from engine.parties import Actor

# --------------------------------------------------------------------------------------------------
# Review: evaluation sheets and action plan
# --------------------------------------------------------------------------------------------------

_REVIEW_PARTIES = {"sending": "Sending organisation", "hosting": "Hosting organisation", "learner": "Learner"}
_ACTION_STATUS = {"open": "open", "in_progress": "in progress", "done": "done", "dropped": "dropped"}


def _review_party_label(party: str, review: Review, orgs: Mapping[int, Organisation]) -> str:
    label = _REVIEW_PARTIES.get(party, party)
    organisation_id = {"sending": review.sending_organisation_id, "hosting": review.hosting_organisation_id}.get(party)
    return f"{label}: {organisation_label(orgs, organisation_id)}" if organisation_id else label


def _review_section(review: Review, mobility: Mobility, orgs: Mapping[int, Organisation],
                    mou_code: str | None) -> Section:
    return Section("Mobility reviewed", learner_fields(mobility, orgs) + fields(
        ("Under the MoU", mou_code or (f"MoU {review.mou_id}" if review.mou_id else None)),
        ("Review", f"Review {review.id}: {review.status.replace('_', ' ')}")))


def _review_context(session: Session, review: Review) -> tuple[Mobility, dict[int, Organisation], str | None]:
    mobility = session.get(Mobility, review.mobility_id)
    assert mobility is not None
    orgs = mobility_organisations(session, mobility)
    mou = session.get(Mou, review.mou_id) if review.mou_id is not None else None
    code = None
    if mou is not None and mou.current_version_id is not None:
        code = current_version(mou).content.get("file_code") or mou.business_key
    return mobility, orgs, code


def _author(session: Session, user_id: int | None) -> tuple[str | None, str | None]:
    user = session.get(User, user_id) if user_id is not None else None
    return (user.name, user.email) if user is not None else (None, None)


def build_evaluation(session: Session, actor: Actor, record_id: int) -> Document:
    evaluation = service.get_evaluation(session, actor=actor, evaluation_id=record_id)
    review = service.get(session, actor=actor, review_id=evaluation.review_id)
    mobility, orgs, mou_code = _review_context(session, review)
    party = _review_party_label(evaluation.party, review, orgs)
    name, email = _author(session, evaluation.author_id)
    if evaluation.party == "learner":
        name = mobility.learner.name
    sections = [
        _review_section(review, mobility, orgs, mou_code),
        Section("Were the agreed learning outcomes appropriate?", fields(
            ("Answer", evaluation.outcomes_appropriate), ("Why", evaluation.outcomes_comment))),
        Section("Was the documentation of the assessment sufficient evidence for recognition?", fields(
            ("Answer", evaluation.evidence_sufficient), ("Why", evaluation.evidence_comment))),
        Section("What worked", text=text(evaluation.strengths)),
        Section("What should change", text=text(evaluation.changes_proposed)),
    ]
    if evaluation.unit_remarks:
        sections.append(Section("Remarks per unit", table=Table(
            ["Unit", "Remark"], [[text(r.get("unit")), text(r.get("remark"))] for r in evaluation.unit_remarks])))
    data = {**views.evaluation(evaluation), "mobility_id": mobility.id,
            "learner": {"name": mobility.learner.name}}
    return Document(
        kind="evaluation", record_id=evaluation.id, title=KIND_TITLES["evaluation"],
        subtitle=" · ".join([party, mobility.learner.name, mobility.qualification_title]),
        reference=Reference(f"EV-{evaluation.id}", None, data_hash(data), "document"),
        issued_at=evaluation.created_at, sections=sections,
        signatures=[Signature(party=party, name=name, position=None, email=email, signed_at=evaluation.created_at,
                              mode="explicit", content_hash=None, counts=True)],
        data=data, status="handed in",
    )


def build_action_plan(session: Session, actor: Actor, record_id: int) -> Document:
    action_plan = service.get_action_plan(session, actor=actor, action_plan_id=record_id)
    review = service.get(session, actor=actor, review_id=action_plan.review_id)
    mobility, orgs, mou_code = _review_context(session, review)
    described = views.action_plan(session, action_plan)
    evaluations = service.evaluations_of(session, review)
    # The table shows the sheets the reader may read (the MoU's policy); the data names every sheet, so
    # the document's hash is the same for every reader.
    readable = service.readable_parties(session, actor, review)

    def owner(item: Mapping[str, Any]) -> str:
        who = _review_party_label(item["owner"], review, orgs)
        return f"{who} ({item['owner_name']})" if item.get("owner_name") else who

    items = described["items"]
    progress = _ACTION_STATUS[described["status"]]
    sections = [
        _review_section(review, mobility, orgs, mou_code),
        Section("Evaluation sheets", table=Table(
            ["Party", "Learning outcomes appropriate", "Evidence sufficient", "Sheet"],
            [[_review_party_label(e.party, review, orgs), text(e.outcomes_appropriate), text(e.evidence_sufficient),
              f"EV-{e.id}"] for e in evaluations if e.party in readable])),
        Section("Summary", text=text(action_plan.summary)),
        Section("Actions", fields(
            ("Status", progress),
            ("Done", f"{described['actions_done']} of {described['actions_total']} done")), table=Table(
            ["#", "Action", "Owner", "Due", "Status", "Note"],
            [[text(i["position"]), text(i["action"]), owner(i), text(i["due_date"]),
              text(_ACTION_STATUS.get(i["status"], i["status"])), text(i["status_note"])] for i in items])),
        Section("Revision of the MoU", fields(
            ("Revision asked for", action_plan.revise_mou), ("What should change", action_plan.mou_changes),
            ("Version reviewed", review.mou_version_reviewed),
            ("Version that came of it", review.mou_version_revised))),
    ]
    name, email = _author(session, action_plan.created_by)
    data = {**described, "review_status": review.status, "mobility_id": mobility.id,
            "mou_id": review.mou_id, "mou_version_reviewed": review.mou_version_reviewed,
            "mou_version_revised": review.mou_version_revised,
            "evaluation_ids": [e.id for e in evaluations]}
    return Document(
        kind="action-plan", record_id=action_plan.id, title=KIND_TITLES["action-plan"],
        subtitle=" · ".join([mobility.learner.name, mobility.qualification_title,
                             f"{organisation_label(orgs, review.sending_organisation_id)} – "
                             f"{organisation_label(orgs, review.hosting_organisation_id)}"]),
        reference=Reference(f"AP-{action_plan.id}", None, data_hash(data), "document"),
        issued_at=action_plan.created_at, sections=sections,
        signatures=[Signature(party=_review_party_label("sending", review, orgs), name=name, position=None,
                              email=email, signed_at=action_plan.created_at, mode="explicit", content_hash=None,
                              counts=True)],
        # The plan's own status, from its items: the review may be completed while actions are still open.
        data=data, status=progress,
    )


# --------------------------------------------------------------------------------------------------
# Partnership review: across the mobilities of one MoU
# --------------------------------------------------------------------------------------------------

_QUESTIONS = {"outcomes_appropriate": "Were the agreed learning outcomes appropriate?",
              "evidence_sufficient": "Was the documentation of the assessment sufficient evidence for recognition?"}
_PROPOSAL_KINDS = {"changes_proposed": "Change proposed", "outcomes_comment": "On the learning outcomes",
                   "evidence_comment": "On the evidence", "strengths": "What worked", "unit_remark": "Remark on a unit"}


def build_partnership_review(session: Session, actor: Actor, record_id: int) -> Document:
    """The partners' conclusions with the summary exactly as they read it when concluding (kept as JSON)."""
    row = partnership.get_conclusion(session, actor=actor, partnership_review_id=record_id)
    summary: dict[str, Any] = row.summary or {}
    mou = session.get(Mou, row.mou_id)
    code = current_version(mou).content.get("file_code") if mou is not None else None
    organisation = session.get(Organisation, row.organisation_id)
    who = {"all": "Everyone", **_REVIEW_PARTIES}
    answers = [[text(_QUESTIONS.get(q.get("question"), q.get("question"))), text(who.get(party, party)),
                text(counts.get("yes")), text(counts.get("partly")), text(counts.get("no"))]
               for q in summary.get("questions") or []
               for party, counts in [("all", q.get("overall") or {}), *sorted((q.get("by_party") or {}).items())]
               if any(counts.get(answer) for answer in ("yes", "partly", "no"))]  # sheets no partner may read: none
    sections = [
        Section("Partnership under review", fields(
            ("MoU", code or f"MoU {row.mou_id}"), ("Version reviewed", row.mou_version_reviewed),
            ("Mobilities under the MoU", summary.get("mobilities")), ("Mobilities reviewed", summary.get("reviews")),
            ("Evaluation sheets", summary.get("evaluations")),
            ("Actions", f"{summary.get('actions_done', 0)} of {summary.get('actions_total', 0)} done"))),
        Section("What the evaluation sheets say", table=Table(["Question", "Who", "Yes", "Partly", "No"], answers)),
        Section("Proposals and remarks", table=Table(
            ["Mobility", "Who", "Kind", "Unit", "Text"],
            [[text(p.get("mobility_id")), text(who.get(p.get("party"), p.get("party"))),
              text(_PROPOSAL_KINDS.get(p.get("kind"), p.get("kind"))), text(p.get("unit")), text(p.get("text"))]
             for p in summary.get("proposals") or []])),
        Section("Action plans", table=Table(
            ["Mobility", "Status", "Done", "Summary", "MoU changes asked for"],
            [[text(a.get("mobility_id")), text(_ACTION_STATUS.get(a.get("status"), a.get("status"))),
              f"{a.get('actions_done')} of {a.get('actions_total')} done", text(a.get("summary")),
              text(a.get("mou_changes"))] for a in summary.get("action_plans") or []])),
        Section("Conclusions", fields(("MoU revision started", row.revision_requested)), text=row.conclusions),
    ]
    name, email = _author(session, row.created_by)
    data = {**partnership.conclusion_view(row), "summary": summary}
    label = f"{organisation.name} ({organisation.country})" if organisation is not None else None
    return Document(
        kind="partnership-review", record_id=row.id, title=KIND_TITLES["partnership-review"],
        subtitle=" · ".join(x for x in (code or f"MoU {row.mou_id}", label) if x),
        reference=Reference(f"PR-{row.id}", None, data_hash(data), "document"), issued_at=row.created_at,
        sections=sections,
        signatures=[Signature(party=f"Partner: {label}" if label else "Partner", name=name, position=None,
                              email=email, signed_at=row.created_at, mode="explicit", content_hash=None,
                              counts=True)],
        data=data, status="revision started" if row.revision_requested else "concluded",
    )
