"""Task actions for Learning Agreements: a user task's ``recordAction`` turns its form into LA records.

Like :mod:`records.actions` for MoUs: the action writes through :mod:`records.learning_agreement` in
the task's unit of work and returns references (id, version, hash, status, who signs next) that land
in the process data; a refusal (stale hash, wrong order, missing reason) raises an engine error and
nothing of the completion is kept. Importing this module registers the actions.

Form fields read by the actions:

* ``la.prepare``: ``content`` (the LA template object) or its fields at the top level of the form;
  ``mobility_id`` in the form or the process data.
* ``la.sign``: ``content_hash`` (or ``la_hash``) of the text read, ``party`` (learner, guardian,
  sending, hosting, competent_institution), optional ``signer`` {position, place} (the signer is the
  signed-in person, :mod:`records.signing`); ``la_id`` in the form or the process data. Its form
  starts with the reader as signer.
* ``la.change``: ``added`` [{unit, reason}] and/or ``removed`` [{unit, reason}]; ``la_id``.
"""
from __future__ import annotations

from typing import Any

from engine.actions import ActionContext, action, prefill
from engine.errors import Invalid

from . import learning_agreement as las
from .actions import signer_values


def _id(context: ActionContext, data: dict[str, Any], name: str, what: str) -> int:
    value = data.get(name, context.task_data.get(name))
    if isinstance(value, bool) or not isinstance(value, int):
        raise Invalid(f"The task needs {what}: no {name} in the form or the process data", errors={name: ["Required"]})
    return value


def _references(context: ActionContext, la_id: int) -> dict[str, Any]:
    la = las.get(context.session, actor=context.actor, la_id=la_id)
    version = las.current_version(context.session, la)
    return {"la_id": la.id, "la_version": version.number, "la_hash": version.content_hash, "la_status": la.status,
            "la_next_party": las.next_party(context.session, la)}


def _content(data: dict[str, Any]) -> dict[str, Any]:
    if isinstance(data.get("content"), dict):
        return data["content"]
    return {name: data[name] for name in las.CONTENT_SCHEMA["properties"] if name in data}


@action("la.prepare")
def prepare(context: ActionContext, data: dict[str, Any]) -> dict[str, Any]:
    """Write version 1 of the Learning Agreement of the mobility named in the form or process data."""
    la = las.prepare(context.session, actor=context.actor, mobility_id=_id(context, data, "mobility_id", "a mobility"),
                     content=_content(data))
    return _references(context, la.id)


@action("la.sign")
def sign(context: ActionContext, data: dict[str, Any]) -> dict[str, Any]:
    """Sign the text read (its hash) as the party named in the form."""
    la_id = _id(context, data, "la_id", "a Learning Agreement")
    digest = data.get("content_hash") or data.get("la_hash")
    if not isinstance(digest, str) or not digest:
        raise Invalid("Say which text you sign: content_hash is required", errors={"content_hash": ["Required"]})
    party = data.get("party")
    if not isinstance(party, str) or not party:
        raise Invalid("Say as whom you sign: party is required", errors={"party": ["Required"]})
    signature = las.sign(context.session, actor=context.actor, la_id=la_id, party=party, content_hash=digest,
                         signer=data.get("signer"))
    return {**_references(context, la_id), "la_signature_id": signature.id, "la_party": signature.party,
            "signer": None}


prefill("la.sign")(signer_values)


@action("la.change")
def change(context: ActionContext, data: dict[str, Any]) -> dict[str, Any]:
    """Add or remove units, each with a reason; everyone signs the new version again."""
    la_id = _id(context, data, "la_id", "a Learning Agreement")
    added, removed = data.get("added") or [], data.get("removed") or []
    if not isinstance(added, list) or not isinstance(removed, list):
        raise Invalid("added and removed are lists of {unit, reason}",
                      errors={"added": ["A list"], "removed": ["A list"]})
    las.change(context.session, actor=context.actor, la_id=la_id, added=added, removed=removed)
    return _references(context, la_id)
