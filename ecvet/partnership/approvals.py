"""Approvals of a MoU: put up for approval, approved or rejected by each required party, bound to the
content hash of the exact version, and in force once every required approval holds for one version.

* An approval quoting another hash than the current one is refused (409): the approver read an older
  text. A rejection needs a comment and returns the draft to the sending organisation.
* A competent institution whose national model approves by silence gets an approval recorded for it
  (:func:`implicit_approval`) once its period has run out without objection; the worker does that.
* Who signs is the signed-in member (:mod:`ecvet.signing`).
"""
from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy.orm import Session

from ecvet import signing
from ecvet.partnership.approvers import Plan, Requirement, all_approved, latest_decisions, plan_for
from ecvet.partnership.models import ApprovalMode, ApprovalRole, Decision, Mou, MouApproval, MouStatus, MouVersion
from ecvet.partnership.mou import STALE_MESSAGE, check_complete, current_version, is_sender, locked, visible_locked
from engine import audit
from engine.errors import Conflict, Forbidden, Invalid
from engine.models import utcnow
from engine.parties import Actor


def submit(session: Session, *, actor: Actor, mou_id: int) -> Mou:
    """Put the current draft up for approval by every required party (complete texts only)."""
    mou = visible_locked(session, actor, mou_id)
    if not is_sender(actor, mou):
        raise Forbidden("Only the sending organisation submits its MoU")
    if mou.status != MouStatus.DRAFT:
        raise Conflict(f"The MoU is {mou.status}; only a draft can be submitted")
    version = current_version(mou)
    check_complete(mou, version.content)
    plan = plan_for(session, version.content, mou=mou)
    if plan.problems:
        raise Invalid("The MoU cannot be approved as written", errors={"competent_institutions": plan.problems})
    now = utcnow()
    mou.status = MouStatus.IN_APPROVAL
    mou.submitted_at = now
    mou.updated_at = now
    session.flush()
    audit.record(session, actor_id=actor.user_id, action="mou.submitted", mou_id=mou.id, version=version.number,
                 content_hash=version.content_hash,
                 required=[list(r) for r in plan.requirements])
    _activate_if_complete(session, mou, version, plan, actor_id=actor.user_id)
    return mou


def _choose_organisation(
    plan: Plan, actor: Actor, role: str, organisation_id: int | None
) -> Requirement:
    """The requirement the caller answers for: their organisation in the role they claim."""
    candidates = [r for r in plan.requirements if r.role == role and r.organisation_id in actor.organisation_ids]
    if organisation_id is not None:
        candidates = [r for r in candidates if r.organisation_id == organisation_id]
    if not candidates:
        if role == ApprovalRole.PARTNER:
            raise Forbidden("Only members of a signing organisation approve as partner")
        raise Forbidden("Only members of a competent institution this MoU requires approve in that role")
    if len(candidates) > 1:
        raise Invalid("You belong to several organisations that approve this MoU: say which",
                      errors={"organisation_id": [f"One of {sorted(r.organisation_id for r in candidates)}"]})
    return candidates[0]


def _check_role(as_role: str) -> None:
    if as_role not in ApprovalRole.ALL:
        raise Invalid("Unknown approval role", errors={"as_role": [f"One of {', '.join(ApprovalRole.ALL)}"]})


def _decide_checks(
    session: Session, actor: Actor, mou: Mou, *, given_hash: str, as_role: str, organisation_id: int | None
) -> tuple[MouVersion, Plan, Requirement]:
    """What approving and rejecting share: role, freshness of the text, state."""
    _check_role(as_role)
    version = current_version(mou)
    plan = plan_for(session, version.content, mou=mou)
    requirement = _choose_organisation(plan, actor, as_role, organisation_id)
    if given_hash != version.content_hash:
        raise Conflict(STALE_MESSAGE, errors={"content_hash": [
            f"You quoted {given_hash!r}; the current text is version {version.number} ({version.content_hash})"
        ]})
    if mou.status != MouStatus.IN_APPROVAL:
        raise Conflict(f"The MoU is {mou.status}, not in approval")
    existing = latest_decisions(session, version).get(requirement)
    if existing is not None and existing.decision == Decision.APPROVED:
        raise Conflict("Your organisation has already approved this version")
    return version, plan, requirement


def approve(
    session: Session,
    *,
    actor: Actor,
    mou_id: int,
    content_hash: str,
    signer: dict[str, Any] | None = None,
    as_role: str = ApprovalRole.PARTNER,
    organisation_id: int | None = None,
) -> MouApproval:
    """Sign the current text for the caller's organisation, as the signed-in person (:mod:`ecvet.signing`:
    `signer` may only give position and place; a name or e-mail that is not the caller's is refused, 422).
    The quoted hash must be the current one: an approval of a text the approver did not read would be
    worthless (409, nothing stored)."""
    mou = visible_locked(session, actor, mou_id)
    version, plan, requirement = _decide_checks(session, actor, mou, given_hash=content_hash, as_role=as_role,
                                                organisation_id=organisation_id)
    signed = signing.for_organisation(session, actor=actor, organisation_id=requirement.organisation_id,
                                      submitted=signer)
    approval = _record(session, mou, version, requirement, decision=Decision.APPROVED, mode=ApprovalMode.EXPLICIT,
                       signer=signed, comment=None, actor_id=actor.user_id)
    _activate_if_complete(session, mou, version, plan, actor_id=actor.user_id)
    return approval


def reject(
    session: Session,
    *,
    actor: Actor,
    mou_id: int,
    content_hash: str,
    comment: str,
    as_role: str = ApprovalRole.PARTNER,
    signer: dict[str, Any] | None = None,
    organisation_id: int | None = None,
) -> MouApproval:
    """Refuse the current text with a reason and hand the draft back to the sending organisation.

    The comment is required: the author needs to know what to change."""
    mou = visible_locked(session, actor, mou_id)
    if not (comment or "").strip():
        raise Invalid("A rejection needs a comment", errors={"comment": ["Say what has to change"]})
    version, _plan, requirement = _decide_checks(session, actor, mou, given_hash=content_hash, as_role=as_role,
                                                organisation_id=organisation_id)
    # A rejection is a decision of the organisation too: it says who gave it, the position may be unknown.
    signed = signing.for_organisation(session, actor=actor, organisation_id=requirement.organisation_id,
                                      submitted=signer, position_required=False)
    approval = _record(session, mou, version, requirement, decision=Decision.REJECTED, mode=ApprovalMode.EXPLICIT,
                       signer=signed, comment=comment.strip(), actor_id=actor.user_id)
    old = mou.status
    mou.status = MouStatus.DRAFT
    mou.submitted_at = None
    mou.updated_at = utcnow()
    session.flush()
    audit.record(session, actor_id=actor.user_id, action="mou.status_changed", mou_id=mou.id, old=old,
                 new=mou.status, reason="rejected")
    return approval


def implicit_approval(
    session: Session,
    *,
    mou_id: int,
    organisation_id: int,
    actor: Actor | None = None,
) -> MouApproval:
    """Record that a competent institution approved by raising no objection within its period.

    Called by the lifecycle's deadline timer (no person acts, so ``actor`` is usually None). Refused
    when the national model does not provide implicit approval for that institution, when the period
    has not run out yet, or when the institution already decided on this version.
    """
    mou = locked(session, mou_id)
    if actor is not None and not actor.is_admin:
        raise Forbidden("Implicit approvals are recorded by the platform's deadline timers")
    if mou.status != MouStatus.IN_APPROVAL:
        raise Conflict(f"The MoU is {mou.status}, not in approval")
    version = current_version(mou)
    plan = plan_for(session, version.content, mou=mou)
    requirement = Requirement(organisation_id, ApprovalRole.COMPETENT_INSTITUTION)
    if requirement not in plan.modes:
        raise Invalid("This organisation is not a competent institution the MoU requires",
                      errors={"organisation_id": [str(organisation_id)]})
    mode, days = plan.modes[requirement]
    if mode != ApprovalMode.IMPLICIT:
        raise Conflict(f"The national model of {plan.countries[requirement]} requires an explicit approval")
    assert mou.submitted_at is not None
    deadline = mou.submitted_at + timedelta(days=days)
    if utcnow() < deadline:
        raise Conflict(f"The objection period runs until {deadline.isoformat()}")
    if latest_decisions(session, version).get(requirement) is not None:
        raise Conflict("The competent institution has already decided on this version")
    approval = _record(session, mou, version, requirement, decision=Decision.APPROVED, mode=ApprovalMode.IMPLICIT,
                       signer=None, comment=f"No objection within {days} days",
                       actor_id=actor.user_id if actor else None)
    _activate_if_complete(session, mou, version, plan, actor_id=actor.user_id if actor else None)
    return approval


def _record(
    session: Session,
    mou: Mou,
    version: MouVersion,
    requirement: Requirement,
    *,
    decision: str,
    mode: str,
    signer: signing.Signer | None,
    comment: str | None,
    actor_id: int | None,
) -> MouApproval:
    """One decision row; `signer` None for an approval by silence (no person signed)."""
    approval = MouApproval(
        mou_id=mou.id, mou_version_id=version.id, organisation_id=requirement.organisation_id,
        role=requirement.role, decision=decision, comment=comment,
        signed_at=signer.signed_at if signer else utcnow(), mode=mode, content_hash=version.content_hash,
        recorded_by=actor_id, **(signer.columns() if signer else {}),
    )
    session.add(approval)
    session.flush()
    audit.record(session, actor_id=actor_id, action=f"mou.{decision}", mou_id=mou.id, version=version.number,
                 content_hash=version.content_hash, organisation_id=requirement.organisation_id,
                 role=requirement.role, mode=mode, approval_id=approval.id, comment=comment,
                 signer_user_id=approval.signer_user_id)
    return approval


def _activate_if_complete(
    session: Session, mou: Mou, version: MouVersion, plan: Plan, *, actor_id: int | None
) -> None:
    if mou.status == MouStatus.IN_APPROVAL and all_approved(session, version, plan):
        mou.status = MouStatus.ACTIVE
        mou.active_version_id = version.id
        mou.updated_at = utcnow()
        session.flush()
        audit.record(session, actor_id=actor_id, action="mou.status_changed", mou_id=mou.id,
                     old=MouStatus.IN_APPROVAL, new=MouStatus.ACTIVE, version=version.number,
                     content_hash=version.content_hash)


