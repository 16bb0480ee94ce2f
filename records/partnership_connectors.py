"""Task actions and connectors of the Partnership process (``processes/partnership.bpmn``).

Importing this module registers them, like :mod:`records.actions`; the API app and the worker import
it at start-up.

* ``partnership.submit`` (action): the sending organisation puts its MoU draft up for approval and
  signs it in the same step (every signing partner, the sender included, must approve the same
  hash). Returns the MoU references plus the inputs of the ``national_model`` decision for the home
  country (``country``, ``sector``, ``eqf_level``), so the business rule task that follows decides on
  the sending organisation's registered country, not on what a form said.
* ``partnership.approve`` / ``partnership.approve_as_competent_institution`` (actions):
  ``mou.approve`` as signing partner / as the competent institution the national model requires
  (decision approved or rejected with a comment). Re-approving a text one's organisation already
  approved (resubmitted unchanged after another party's rejection) confirms the earlier approval.
* ``mou.implicit_approval`` (connector, run by the worker after the objection-period timer): records
  the implicit approval of every competent institution whose national model approves by silence
  and whose period has run out; returns the MoU status.

Connectors get only their parameters, no unit of work (see :mod:`engine.services`). The worker runs a
service task inside the job's transaction, so this module wraps the ``service`` job handler to make
that session available to its own connectors (:func:`job_session`); nothing else changes.
"""
from __future__ import annotations

import contextvars
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy.orm import Session

from engine import jobs, services
from engine.actions import ActionContext, action
from engine.errors import Conflict, EngineError, Invalid
from engine.models import Job, Organisation, utcnow

from . import actions as mou_actions
from . import mou as mous
from .models import ApprovalMode, ApprovalRole, Decision, MouStatus

# --------------------------------------------------------------------------------------------------
# The job's session for connectors
# --------------------------------------------------------------------------------------------------

_SESSION: contextvars.ContextVar[Session | None] = contextvars.ContextVar("partnership_job_session", default=None)


@contextmanager
def job_session(session: Session) -> Iterator[Session]:
    """Make `session` the unit of work of connectors run inside this block (tests, the worker)."""
    token = _SESSION.set(session)
    try:
        yield session
    finally:
        _SESSION.reset(token)


def _current_session() -> Session:
    session = _SESSION.get()
    if session is None:
        raise RuntimeError("mou.implicit_approval runs only inside a worker job (no unit of work here)")
    return session


def _install_service_wrapper() -> None:
    original = jobs.HANDLERS.get("service", services.run)
    if getattr(original, "_gives_session", False):
        return

    def run_service(session: Session, job: Job) -> None:
        with job_session(session):
            original(session, job)

    run_service._gives_session = True  # type: ignore[attr-defined]
    jobs.HANDLERS["service"] = run_service


_install_service_wrapper()


# --------------------------------------------------------------------------------------------------
# Actions
# --------------------------------------------------------------------------------------------------


def _decision_inputs(content: dict[str, Any], country: str) -> dict[str, Any]:
    levels = [q["eqf_level"] for q in content.get("qualifications") or [] if isinstance(q.get("eqf_level"), int)]
    return {"country": country, "sector": content.get("sector") or None, "eqf_level": max(levels) if levels else 0}


@action("partnership.submit")
def submit_and_sign(context: ActionContext, data: dict[str, Any]) -> dict[str, Any]:
    """Submit the current draft and sign it for the sending organisation (unless it already signed
    exactly this text, e.g. resubmitted unchanged after a rejection)."""
    if data.get("confirmed") is not True:
        raise Invalid("Confirm that the text is final before you submit it", errors={"confirmed": ["Required"]})
    mou_id = mou_actions._mou_id(context, data)
    session = context.session
    mous.submit(session, actor=context.actor, mou_id=mou_id)
    mou = mous.get(session, actor=context.actor, mou_id=mou_id)
    version = mous.current_version(mou)
    sender = mous.Requirement(mou.sending_organisation_id, ApprovalRole.PARTNER)
    latest = mous._latest_decisions(session, version).get(sender)
    if latest is None or latest.decision != Decision.APPROVED:
        mous.approve(session, actor=context.actor, mou_id=mou_id, content_hash=version.content_hash,
                     signer=data.get("signer") or {}, organisation_id=mou.sending_organisation_id)
    home = session.get(Organisation, mou.sending_organisation_id)
    assert home is not None
    return {**mou_actions._references(context, mou_id), **_decision_inputs(version.content, home.country)}


def _approve(context: ActionContext, data: dict[str, Any], role: str) -> dict[str, Any]:
    """``mou.approve`` in `role`, except that re-approving the very text one's organisation already
    approved (the sender resubmitted it unchanged after another party's rejection) confirms the
    earlier approval instead of failing: that approval still counts for this hash."""
    if data.get("decision") != Decision.REJECTED:
        mou_id = mou_actions._mou_id(context, data)
        mou = mous.get(context.session, actor=context.actor, mou_id=mou_id)
        version = mous.current_version(mou)
        quoted = data.get("content_hash") or data.get("mou_hash")
        organisation_id = context.task.organisation_id
        if quoted == version.content_hash and mou.status == MouStatus.IN_APPROVAL and organisation_id is not None:
            prior = mous._latest_decisions(context.session, version).get(mous.Requirement(organisation_id, role))
            if prior is not None and prior.decision == Decision.APPROVED:
                return {**mou_actions._references(context, mou_id), "mou_approval_id": prior.id,
                        "mou_decision": prior.decision}
    return mou_actions.approve(context, {**data, "as_role": role})


@action("partnership.approve")
def approve_as_partner(context: ActionContext, data: dict[str, Any]) -> dict[str, Any]:
    """A signing partner's decision on the current text (approved, or rejected with a comment)."""
    return _approve(context, data, ApprovalRole.PARTNER)


@action("partnership.approve_as_competent_institution")
def approve_as_competent_institution(context: ActionContext, data: dict[str, Any]) -> dict[str, Any]:
    """The competent institution's decision on the current text (approved, or rejected with a comment)."""
    return _approve(context, data, ApprovalRole.COMPETENT_INSTITUTION)


# --------------------------------------------------------------------------------------------------
# Connectors
# --------------------------------------------------------------------------------------------------


@services.connector("mou.implicit_approval")
def implicit_approval(mou_id: int) -> str:
    """Record every implicit approval that is due (objection period over, no decision yet) and return
    the MoU status; a MoU that is no longer in approval is left alone (someone decided meanwhile)."""
    session = _current_session()
    mou = session.get(mous.Mou, mou_id)
    if mou is None:
        raise Invalid(f"No MoU {mou_id}")
    if mou.status != MouStatus.IN_APPROVAL:
        return mou.status
    version = mous.current_version(mou)
    plan = mous.plan_for(session, version.content)
    decided = mous._latest_decisions(session, version)
    due: list[mous.Requirement] = [
        r for r in plan.requirements
        if plan.modes[r][0] == ApprovalMode.IMPLICIT and r not in decided
    ]
    if not due:
        raise Conflict("No competent institution of this MoU approves implicitly")
    for requirement in due:
        try:
            mous.implicit_approval(session, mou_id=mou_id, organisation_id=requirement.organisation_id)
        except EngineError as exc:
            raise Conflict(f"Implicit approval not recorded at {utcnow().isoformat()}: {exc}") from exc
    session.refresh(mou)
    return mou.status
