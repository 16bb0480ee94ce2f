"""Deadlines of a MoU's approvals that people can see: when each competent institution's response or
objection period ends, and the escalation of an explicit approval that is overdue.

* An implicit approval (approval by silence) ends at ``submitted_at + days``: the institution has a
  task "Object within the objection period" due then, and the worker records the approval when the
  period is over without objection (:func:`ecvet.partnership.approvals.implicit_approval`).
* An explicit approval is due at the same point; when it passes undecided, :func:`escalate` e-mails
  every member of the institution and of the sending organisation and audits it. The task stays open.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from ecvet.mail import MAIL
from ecvet.partnership.approvers import Plan, Requirement, latest_decisions, plan_for
from ecvet.partnership.models import ApprovalMode, ApprovalRole, Mou, MouStatus
from ecvet.partnership.mou import current_version
from engine import audit
from engine.mailer import DeliveryFailed, Mail, Mailer, configured_mailer
from engine.models import Membership, Organisation, User

ESCALATION_KIND = "escalated"
IF_SILENT = {ApprovalMode.IMPLICIT: "approved_by_silence", ApprovalMode.EXPLICIT: "escalated"}


def due_at(mou: Mou, plan: Plan, requirement: Requirement) -> datetime | None:
    """When the competent institution's period ends (None for partners or before submission)."""
    if requirement.role != ApprovalRole.COMPETENT_INSTITUTION or mou.submitted_at is None:
        return None
    mode, days = plan.modes[requirement]
    if mode == ApprovalMode.EXPLICIT:
        days = max(1, days)  # as the escalation timer in processes/partnership.bpmn: never due at submission
    return mou.submitted_at + timedelta(days=days)


def if_silent(plan: Plan, requirement: Requirement) -> str | None:
    """What happens when the institution says nothing by its deadline."""
    if requirement.role != ApprovalRole.COMPETENT_INSTITUTION:
        return None
    return IF_SILENT.get(plan.modes[requirement][0])


def _members(session: Session, organisation_id: int) -> list[User]:
    return list(session.scalars(
        select(User).join(Membership, Membership.user_id == User.id)
        .where(Membership.organisation_id == organisation_id, User.is_active.is_(True)).order_by(User.id)
    ))


def _mail(user: User, mou: Mou, institution: Organisation, due: datetime | None, version: int) -> Mail:
    _ = MAIL.writer(user.language)
    names = {"mou": mou.business_key or mou.id, "institution": institution.name, "version": version,
             "due": due.strftime("%Y-%m-%d %H:%M UTC") if due else "-"}
    body = "\n".join([
        _("Hello {name},", name=user.name),
        "",
        _("{institution} had to approve or reject version {version} of MoU {mou} by {due}, as its national "
          "model requires, and has not decided yet.", **names),
        _("The approval task stays open. Please decide now, or agree on a new date with the other parties."),
        "",
        _("This message was sent automatically by ECVET Flow; you receive it as a member of the competent "
          "institution or of the sending organisation of this MoU."),
    ])
    subject = _("[ECVET] ESCALATED: approval of MoU {mou} by {institution} is overdue", **names)
    return Mail(to=user.email, subject=subject, body=body, kind=ESCALATION_KIND)


def escalate(session: Session, *, mou_id: int, country: str, mailer: Mailer | None = None) -> list[str]:
    """E-mail the members of the competent institution of `country` and of the sending organisation
    that the institution's explicit approval is overdue; audited. Returns who was written to (nobody
    when the MoU left approval or the institution decided meanwhile)."""
    mou = session.get(Mou, mou_id)
    if mou is None or mou.status != MouStatus.IN_APPROVAL:
        return []
    version = current_version(mou)
    plan = plan_for(session, version.content, mou=mou)
    decided = latest_decisions(session, version)
    pending = [r for r in plan.requirements if r.role == ApprovalRole.COMPETENT_INSTITUTION
               and plan.countries.get(r) == country and r not in decided]
    if not pending:
        return []
    requirement = pending[0]
    institution = session.get(Organisation, requirement.organisation_id)
    assert institution is not None
    due = due_at(mou, plan, requirement)
    people: dict[str, User] = {}
    for org_id in (requirement.organisation_id, mou.sending_organisation_id):
        for user in _members(session, org_id):
            people.setdefault(user.email, user)
    mailer = mailer or configured_mailer()
    sent: list[str] = []
    failed: list[str] = []
    for user in people.values():
        try:
            mailer.send(session, _mail(user, mou, institution, due, version.number))
        except DeliveryFailed:
            failed.append(user.email)  # the outbox row keeps the error; a retry would resend to the others
            continue
        sent.append(user.email)
    audit.record(session, actor_id=None, action="mou.approval_escalated", mou_id=mou.id, version=version.number,
                 organisation_id=requirement.organisation_id, country=country,
                 due_at=due.isoformat() if due else None, to=sent, failed=failed)
    return sent
