"""DMN decisions evaluated for the domain, outside any process, exactly as a business rule task would.

The domain keeps rules that belong to process owners in DMN tables (the national models table); it
asks the engine for an answer instead of importing SpiffWorkflow. Tables are parsed once per content
hash (a deployed file never changes) and evaluated with the engine's sandboxed script engine.
"""
from __future__ import annotations

import hashlib
import threading
from collections.abc import Mapping
from typing import Any

from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.dmn.engine.DMNEngine import DMNEngine
from SpiffWorkflow.spiff.parser.process import VALIDATOR, SpiffBpmnParser
from sqlalchemy.orm import Session

from . import audit, deployments, execution
from .bundle import BundleInvalid, safe_parse_xml
from .errors import Invalid
from .parties import Actor
from .subscriptions import jsonable

_CACHE_SIZE = 64
_TABLES: dict[tuple[str, str], DMNEngine] = {}
_TABLES_LOCK = threading.Lock()


def _table(content: bytes, decision_id: str, filename: str) -> DMNEngine:
    key = (hashlib.sha256(content).hexdigest(), decision_id)
    cached = _TABLES.get(key)
    if cached is not None:
        return cached
    try:
        root = safe_parse_xml(content, filename)
        parser = SpiffBpmnParser(validator=VALIDATOR)
        parser.add_dmn_xml(root, filename=filename)
        table: DMNEngine = parser.get_engine(decision_id, root)
    except BundleInvalid as exc:
        raise Invalid(f"{filename} is not valid XML", errors=[e.to_dict() for e in exc.errors]) from exc
    except ValidationException as exc:
        raise Invalid(f"{filename} cannot be used: {exc}", errors={"table": [str(exc)]}) from exc
    with _TABLES_LOCK:
        if len(_TABLES) >= _CACHE_SIZE:
            _TABLES.clear()
        _TABLES[key] = table
    return table


class _Named:
    """The names Spiff's DMN engine and its error messages read from a spec."""

    def __init__(self, filename: str, decision_id: str) -> None:
        self.file = filename
        self.name = filename
        self.bpmn_name = filename
        self.bpmn_id = decision_id


class _Workflow:
    """The little of a workflow the DMN engine looks at: its script engine and names for errors."""

    def __init__(self, filename: str, decision_id: str) -> None:
        self.script_engine = execution.script_engine()
        self.spec = _Named(filename, decision_id)
        self.top_workflow = self
        self.parent_workflow = None


class _Evaluation:
    """Stands in for a business rule task: the DMN engine reads ``data`` and ``workflow``."""

    def __init__(self, data: dict[str, Any], filename: str, decision_id: str) -> None:
        self.data = data
        self.workflow = _Workflow(filename, decision_id)
        self.task_spec = _Named(filename, decision_id)


def evaluate(content: bytes, *, decision_id: str, inputs: Mapping[str, Any], filename: str) -> dict[str, Any]:
    """The outputs of decision ``decision_id`` in the DMN file ``content`` for ``inputs``.

    As a business rule task would get them: the first (or unique) matching rule's outputs as a dict,
    for a COLLECT table a list of values per output; ``{}`` when no rule matches. A table that does
    not parse, or a rule that fails on these inputs, is :class:`~engine.errors.Invalid` (the table's
    problem, named as such), never a SpiffWorkflow exception.
    """
    table = _table(content, decision_id, filename)
    try:
        return dict(table.result(_Evaluation(dict(inputs), filename, decision_id)))
    except Exception as exc:  # noqa: BLE001 - a broken rule is the table's problem, reported as such
        raise Invalid(f"{filename} failed: {exc}", errors={"table": [str(exc)]}) from exc


def evaluate_deployed(
    session: Session, *, actor: Actor, key: str, inputs: Mapping[str, Any], version: int | None = None
) -> dict[str, Any]:
    """``POST /api/decisions/{key}/evaluate``: the latest (or the named) version of a deployed decision,
    evaluated for ``inputs``; audited with who asked, never with the inputs (they may be personal)."""
    decision, content = deployments.get_decision(session, key=key, version=version)
    outputs = evaluate(content, decision_id=decision.key, inputs=inputs, filename=decision.filename)
    from_json = jsonable(outputs)
    audit.record(session, actor_id=actor.user_id, action="decision.evaluated", key=decision.key,
                 version=decision.version)
    return {"key": decision.key, "version": decision.version, "outputs": from_json}
