"""Diagrams of process versions and instances: which file draws a process, what it contains, and which
elements of one instance are completed, active, waiting or failed (for highlighting it).

Each BPMN file is parsed once per content (cached); an instance's state is deserialised once.
"""
from __future__ import annotations

import hashlib
import threading
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from lxml import etree
from SpiffWorkflow.util.task import TaskState as SpiffState
from sqlalchemy import select
from sqlalchemy.orm import Session

from . import deployments, execution, instances
from .bundle import NS, safe_parse_xml
from .errors import NotFound
from .models import DefinitionFile, FileBlob, Incident, ProcessDefinition
from .parties import Actor

# --------------------------------------------------------------------------------------------------
# Diagrams: which file draws a process, and what the diagram contains
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DiagramIndex:
    """What the monitor needs from one process's BPMN, parsed once per file content."""

    element_ids: frozenset[str]
    flows: tuple[tuple[str, str, str], ...]  # (flow id, source id, target id)
    message_catches: dict[str, tuple[str, ...]]  # message name -> catching element ids
    timer_catches: tuple[str, ...]  # intermediate timer catch events (not boundary, not start)
    has_diagram: bool
    names: dict[str, str] = field(default_factory=dict)  # element id -> its name in the diagram


_INDEX_CACHE: dict[tuple[str, str], DiagramIndex] = {}
_INDEX_LOCK = threading.Lock()


def _local(tag: Any) -> str:
    return etree.QName(tag).localname if isinstance(tag, str) else ""


_CATCHING = ("intermediateCatchEvent", "boundaryEvent", "receiveTask")
_INDEX_CACHE_SIZE = 256


@dataclass
class _Collected:
    ids: set[str] = field(default_factory=set)
    flows: list[tuple[str, str, str]] = field(default_factory=list)
    catches: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    timers: list[str] = field(default_factory=list)
    names: dict[str, str] = field(default_factory=dict)


def _collect(element: Any, messages: dict[str | None, str | None], into: _Collected) -> None:
    """What one element of the process adds to the index: its id, name, flow, message or timer catch."""
    element_id = element.get("id")
    kind = _local(element.tag)
    into.ids.add(element_id)
    if element.get("name"):
        into.names[element_id] = " ".join(element.get("name", "").split())
    if kind == "sequenceFlow":
        into.flows.append((element_id, element.get("sourceRef", ""), element.get("targetRef", "")))
        return
    if kind not in _CATCHING:
        return
    refs = [d.get("messageRef") for d in element.iterfind("bpmn:messageEventDefinition", NS)]
    if kind == "receiveTask":
        refs.append(element.get("messageRef"))
    for ref in refs:
        name = messages.get(ref) if ref else None
        if name:
            into.catches[name].append(element_id)
    if kind == "intermediateCatchEvent" and element.find("bpmn:timerEventDefinition", NS) is not None:
        into.timers.append(element_id)


def _index(content: bytes, filename: str, process_id: str) -> DiagramIndex:
    key = (hashlib.sha256(content).hexdigest(), process_id)
    with _INDEX_LOCK:
        hit = _INDEX_CACHE.get(key)
    if hit is not None:
        return hit
    root = safe_parse_xml(content, filename)
    process = root.find(f"bpmn:process[@id='{process_id}']", NS) if "'" not in process_id else None
    collected = _Collected()
    messages = {m.get("id"): m.get("name") or m.get("id") for m in root.iterfind("bpmn:message", NS)}
    for element in process.iter() if process is not None else ():
        if element.get("id"):
            _collect(element, messages, collected)
    has_diagram = root.find("{http://www.omg.org/spec/BPMN/20100524/DI}BPMNDiagram") is not None
    index = DiagramIndex(frozenset(collected.ids), tuple(collected.flows),
                         {k: tuple(v) for k, v in collected.catches.items()}, tuple(collected.timers), has_diagram,
                         collected.names)
    with _INDEX_LOCK:
        if len(_INDEX_CACHE) > _INDEX_CACHE_SIZE:
            _INDEX_CACHE.clear()
        _INDEX_CACHE[key] = index
    return index


def diagram_file(session: Session, definition: ProcessDefinition) -> str:
    """The file of a version that defines its process (a bundle may also carry called processes)."""
    rows = session.execute(
        select(DefinitionFile.filename, FileBlob.content)
        .join(FileBlob, FileBlob.sha256 == DefinitionFile.sha256)
        .where(DefinitionFile.definition_id == definition.id)
        .order_by(DefinitionFile.filename)
    )
    needle = f'id="{definition.key}"'.encode()
    candidates = [(name, bytes(content)) for name, content in rows if name.endswith((".bpmn", ".bpmn20.xml"))]
    for name, content in candidates:
        if needle in content or f"id='{definition.key}'".encode() in content:
            root = safe_parse_xml(content, name)
            if root.find(f"bpmn:process[@id='{definition.key}']", NS) is not None:
                return name
    raise NotFound(f"Version {definition.version} of '{definition.key}' has no BPMN file defining it")


def diagram_index(session: Session, definition: ProcessDefinition) -> tuple[str, DiagramIndex]:
    filename = diagram_file(session, definition)
    return filename, _index(deployments.definition_file(session, definition, filename), filename, definition.key)


def version_diagram(session: Session, *, key: str, version: int | None = None) -> tuple[str, bytes]:
    """File name and BPMN XML drawing one version (definitions are readable by anyone signed in)."""
    definition = deployments.get_definition(session, key=key, version=version)
    filename = diagram_file(session, definition)
    return filename, deployments.definition_file(session, definition, filename)


def instance_diagram(session: Session, *, actor: Actor, instance_id: str) -> tuple[str, bytes]:
    """The diagram of the version an instance runs on, for its parties and admins only."""
    instance = instances.get(session, actor=actor, instance_id=instance_id)
    filename = diagram_file(session, instance.definition)
    return filename, deployments.definition_file(session, instance.definition, filename)


# --------------------------------------------------------------------------------------------------
# One instance: element states for highlighting its diagram
# --------------------------------------------------------------------------------------------------


class ElementState:
    COMPLETED = "completed"
    ACTIVE = "active"  # ready: a person or the worker acts next
    WAITING = "waiting"  # waiting for a timer, a message, a join or a running subprocess
    FAILED = "failed"
    # When one element ran several times (loops), the most urgent state is shown.
    PRECEDENCE = (FAILED, ACTIVE, WAITING, COMPLETED)


@dataclass
class InstanceHighlights:
    instance_id: str
    process_key: str
    version: int
    filename: str
    states: dict[str, str]
    flows_taken: list[str]
    names: dict[str, str] = field(default_factory=dict)  # element id -> name, for the text beside the diagram

    def ids(self, state: str) -> list[str]:
        return sorted(k for k, v in self.states.items() if v == state)


_SPIFF_TO_ELEMENT = {
    SpiffState.COMPLETED: ElementState.COMPLETED,
    SpiffState.READY: ElementState.ACTIVE,
    SpiffState.STARTED: ElementState.WAITING,
    SpiffState.WAITING: ElementState.WAITING,
    SpiffState.ERROR: ElementState.FAILED,
}


def element_states(session: Session, *, actor: Actor, instance_id: str) -> InstanceHighlights:
    """Completed, active, waiting and failed elements of one instance (its state is deserialised once)."""
    instance = instances.get(session, actor=actor, instance_id=instance_id)
    filename, index = diagram_index(session, instance.definition)
    states: dict[str, str] = {}

    def mark(element_id: str | None, state: str) -> None:
        if not element_id or element_id not in index.element_ids:
            return  # internal specs (Start, End) and elements of called processes drawn elsewhere
        current = states.get(element_id)
        if current is None or ElementState.PRECEDENCE.index(state) < ElementState.PRECEDENCE.index(current):
            states[element_id] = state

    if instance.state:
        workflow = execution.open_workflow(instance)
        for task in workflow.get_tasks():
            state = _SPIFF_TO_ELEMENT.get(task.state)
            if state is not None:
                mark(getattr(task.task_spec, "bpmn_id", None), state)
    for incident in session.scalars(
        select(Incident).where(Incident.instance_id == instance.id, Incident.resolved_at.is_(None))
    ):
        mark(incident.bpmn_id, ElementState.FAILED)
    reached = set(states)
    done = {k for k, v in states.items() if v == ElementState.COMPLETED}
    taken = sorted(flow for flow, source, target in index.flows if source in done and target in reached)
    names = {k: index.names.get(k, k) for k in states}
    return InstanceHighlights(instance.id, instance.process_key, instance.definition.version, filename, states, taken,
                              names)
