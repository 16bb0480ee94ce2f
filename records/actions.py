"""Task actions for MoU work: a user task's ``recordAction`` property turns its form into records.

A lifecycle process puts ``<spiffworkflow:property name="recordAction" value="mou.approve"/>`` on a
user task. When the task completes, the function registered here runs in the same unit of work:
it writes the MoU records through :mod:`records.mou` and returns a few references (id, version,
hash, status, validity date and the moment it expires) that land in the process data, so gateways
and timers can use them while the document itself stays in its own tables. A refusal (stale hash,
missing comment...) raises an engine error and nothing of the completion is kept.

Importing this module registers the actions; the API app and the worker import it at start-up.

Form fields read by the actions:

* ``mou.draft``: the MoU template fields (see :data:`records.mou.CONTENT_FIELDS`) at the top level of
  the form, or one ``content`` object; optional ``business_key``. Creates the MoU for the
  organisation bound to the task, or revises the one named by ``mou_id`` (form or process data).
* ``mou.submit``: nothing but ``mou_id`` in the process data.
* ``mou.approve``: ``content_hash`` (or ``mou_hash``) of the text read, optional ``signer`` {position,
  place} (the signer is the signed-in member, :mod:`records.signing`; a name or e-mail sent along must
  be theirs), optional ``as_role`` (partner by default). With ``decision: "rejected"`` it rejects
  instead. Its form starts with the reader's own name, e-mail, position and place (a prefill), and the
  action clears ``signer`` from the process data so no later form shows it.
* ``mou.reject``: ``comment``, ``content_hash``, optional ``as_role`` and ``signer``.
"""
from __future__ import annotations

from typing import Any

from engine.actions import ActionContext, action, prefill
from engine.errors import Invalid

from . import mou as mous
from . import signing
from .models import ApprovalRole, Decision


def _mou_id(context: ActionContext, data: dict[str, Any]) -> int:
    value = data.get("mou_id", context.task_data.get("mou_id"))
    if isinstance(value, bool) or not isinstance(value, int):
        raise Invalid("The task needs a MoU: no mou_id in the form or the process data",
                      errors={"mou_id": ["Required"]})
    return value


def _hash(data: dict[str, Any]) -> str:
    value = data.get("content_hash") or data.get("mou_hash")
    if not isinstance(value, str) or not value:
        raise Invalid("Say which text you approve: content_hash is required", errors={"content_hash": ["Required"]})
    return value


def _content(data: dict[str, Any]) -> dict[str, Any]:
    if isinstance(data.get("content"), dict):
        return data["content"]
    return {name: data[name] for name in mous.CONTENT_FIELDS if name in data}


def _references(context: ActionContext, mou_id: int) -> dict[str, Any]:
    """What the process keeps of the MoU: ids, the current version and hash, its status and validity
    (``mou_expires_at``, an ISO date-time, is what the lifecycle's expiry timer waits for)."""
    mou = mous.get(context.session, actor=context.actor, mou_id=mou_id)
    version = mous.current_version(mou)
    expiry = mous.expires_at(version)
    return {"mou_id": mou.id, "mou_version": version.number, "mou_hash": version.content_hash,
            "mou_status": mou.status, "mou_valid_until": version.content.get("valid_until"),
            "mou_expires_at": expiry.isoformat() if expiry else None}


@action("mou.draft")
def draft(context: ActionContext, data: dict[str, Any]) -> dict[str, Any]:
    """Create the MoU (first time) or save a new version (later rounds, e.g. after a rejection)."""
    content = _content(data)
    existing = data.get("mou_id", context.task_data.get("mou_id"))
    if existing is None:
        organisation_id = data.get("sending_organisation_id") or context.task.organisation_id
        if not isinstance(organisation_id, int):
            raise Invalid("The task is not bound to an organisation; say which organisation sends",
                          errors={"sending_organisation_id": ["Required"]})
        mou = mous.create_draft(context.session, actor=context.actor, sending_organisation_id=organisation_id,
                                content=content, business_key=data.get("business_key") or None)
        return _references(context, mou.id)
    mou_id = _mou_id(context, data)
    mous.revise(context.session, actor=context.actor, mou_id=mou_id, content=content)
    return _references(context, mou_id)


@action("mou.submit")
def submit(context: ActionContext, data: dict[str, Any]) -> dict[str, Any]:
    mou_id = _mou_id(context, data)
    mous.submit(context.session, actor=context.actor, mou_id=mou_id)
    return _references(context, mou_id)


def _role(data: dict[str, Any]) -> str:
    return data.get("as_role") or ApprovalRole.PARTNER


@action("mou.approve")
def approve(context: ActionContext, data: dict[str, Any]) -> dict[str, Any]:
    """Sign for the organisation the task is bound to; a stale hash refuses the whole completion."""
    if data.get("decision") == Decision.REJECTED:
        return reject(context, data)
    mou_id = _mou_id(context, data)
    approval = mous.approve(context.session, actor=context.actor, mou_id=mou_id, content_hash=_hash(data),
                            signer=data.get("signer"), as_role=_role(data),
                            organisation_id=context.task.organisation_id)
    return {**_references(context, mou_id), "mou_approval_id": approval.id, "mou_decision": approval.decision,
            "signer": None}


@action("mou.reject")
def reject(context: ActionContext, data: dict[str, Any]) -> dict[str, Any]:
    """Refuse with a comment; the MoU is a draft of the sending organisation again."""
    mou_id = _mou_id(context, data)
    approval = mous.reject(context.session, actor=context.actor, mou_id=mou_id, content_hash=_hash(data),
                           comment=data.get("comment") or "", as_role=_role(data), signer=data.get("signer"),
                           organisation_id=context.task.organisation_id)
    return {**_references(context, mou_id), "mou_approval_id": approval.id, "mou_decision": approval.decision,
            "signer": None}


def signer_values(context: ActionContext) -> dict[str, Any]:
    """A signing form starts with who signs: the reader, for the party the task is bound to (nothing
    for someone who cannot sign it; never what the process data holds from another party)."""
    return {"signer": signing.form_values(context.session, context.actor,
                                          organisation_id=context.task.organisation_id, user_id=context.task.user_id)}


prefill("mou.approve")(signer_values)
prefill("mou.reject")(signer_values)
