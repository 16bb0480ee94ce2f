"""SpiffWorkflow behind one door: spec cache, lean (spec-less) instance state, running and event draining."""
from __future__ import annotations

import json
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, cast
from uuid import UUID

from SpiffWorkflow.bpmn.serializer.default.workflow import BpmnWorkflowConverter, WorkflowConverter
from SpiffWorkflow.bpmn.serializer.helpers.encoder import create_encoder
from SpiffWorkflow.bpmn.serializer.migration.version_migration import MIGRATIONS
from SpiffWorkflow.bpmn.serializer.workflow import VERSION, BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.specs.event_definitions.item_aware_event import (
    ErrorEventDefinition,
    EscalationEventDefinition,
    SignalEventDefinition,
)
from SpiffWorkflow.bpmn.specs.event_definitions.message import MessageEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.timer import CycleTimerEventDefinition, TimerEventDefinition
from SpiffWorkflow.bpmn.specs.mixins.events.event_types import ThrowingEvent
from SpiffWorkflow.bpmn.specs.mixins.events.start_event import StartEvent
from SpiffWorkflow.bpmn.specs.mixins.multiinstance_task import MultiInstanceTask
from SpiffWorkflow.bpmn.specs.mixins.service_task import ServiceTask
from SpiffWorkflow.bpmn.util.event import BpmnEvent
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskState

from .datastores import register as register_data_stores
from .scripting import SandboxedScriptEngine, ScriptError, ScriptSandboxError

__all__ = [
    "REGISTRY", "SPEC_CACHE", "SPEC_SERIALIZER", "VERSION", "WORKFLOW_CACHE", "IncidentInfo", "LeanWorkflowConverter",
    "RunOutcome", "SpecCache", "WorkflowCache", "bpmn_id_of", "dump_state", "error_message", "error_tasks", "explain",
    "failing_task", "fire_start_timers", "load_state", "ready_user_tasks", "run_engine", "signals_thrown",
    "spec_from_json", "spec_to_json",
]

log = logging.getLogger("ecvet.engine")


class LeanWorkflowConverter(BpmnWorkflowConverter):
    """Instance state without its spec (hazard 8): specs live once per version and come from a cache."""

    def to_dict(self, workflow: BpmnWorkflow) -> dict[str, Any]:
        dct: dict[str, Any] = WorkflowConverter.to_dict(self, workflow)
        dct["subprocesses"] = BpmnWorkflowConverter.mapping_to_dict(self, workflow.subprocesses)
        dct["bpmn_events"] = self.registry.convert(workflow.bpmn_events)
        return dct

    def from_dict(self, dct: dict[str, Any], spec: Any = None, subprocess_specs: Any = None) -> BpmnWorkflow:
        if spec is None:
            restored: BpmnWorkflow = BpmnWorkflowConverter.from_dict(self, dct)
            return restored
        workflow: BpmnWorkflow = self.target_class(spec, subprocess_specs, deserializing=True)
        workflow.tasks = BpmnWorkflowConverter.mapping_from_dict(self, dct["tasks"], _uuid, workflow=workflow)
        workflow.task_tree = cast(Task, workflow.tasks.get(_uuid(dct["root"])))  # the root is among the tasks
        BpmnWorkflowConverter.set_default_attributes(self, workflow, dct)
        BpmnWorkflowConverter.subprocesses_from_dict(self, dct["subprocesses"], workflow)
        workflow.bpmn_events = self.registry.restore(dct.pop("bpmn_events", []))
        return workflow


def _uuid(value: str) -> UUID:
    return UUID(value)


def _make_registry() -> Any:
    config = register_data_stores(SPIFF_CONFIG)
    config[BpmnWorkflow] = LeanWorkflowConverter
    registry = BpmnWorkflowSerializer.configure(config)
    # Hazard 9: `date` breaks the stock serializer; scripts may use it, so it round-trips here.
    registry.register(date, lambda v: {"value": v.isoformat()}, lambda v: date.fromisoformat(v["value"]))
    return registry


REGISTRY = _make_registry()
# Spiff 3.2 leaves task data unconverted in to_dict and relies on its JSON encoder for dates, UUIDs
# and sets; our registry is only ever used that way, so encoder mode stays on (no shared toggling).
REGISTRY._encoder_mode = True
_ENCODER = create_encoder(REGISTRY)
# Full serializer (spec included) used only to turn parsed specs into dicts at deploy time.
SPEC_SERIALIZER = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(register_data_stores(SPIFF_CONFIG)))


def spec_to_json(spec: Any, subprocess_specs: Mapping[str, Any]) -> str:
    registry = SPEC_SERIALIZER.registry
    return json.dumps(
        {
            "spec": registry.convert(spec),
            "subprocess_specs": {k: registry.convert(v) for k, v in subprocess_specs.items()},
        }
    )


def spec_from_json(spec_json: str) -> tuple[Any, dict[str, Any]]:
    registry = SPEC_SERIALIZER.registry
    dct = json.loads(spec_json)
    spec = registry.restore(dct["spec"])
    subs = {k: registry.restore(v) for k, v in dct["subprocess_specs"].items()}
    return spec, subs


class SpecCache:
    """Parsed specs by content hash: restoring a spec costs more than restoring an instance.

    Keyed by content (not row id), so an entry can never describe another database's definition.
    """

    def __init__(self, size: int = 256) -> None:
        self._items: OrderedDict[str, tuple[Any, dict[str, Any]]] = OrderedDict()
        self._lock = threading.Lock()
        self._size = size

    def get(
        self,
        cache_key: str,
        loader: Callable[[], str],
        prepare: Callable[[Any, dict[str, Any]], None] | None = None,
    ) -> tuple[Any, dict[str, Any]]:
        with self._lock:
            hit = self._items.get(cache_key)
            if hit is not None:
                self._items.move_to_end(cache_key)
                return hit
        specs = spec_from_json(loader())
        if prepare is not None:
            prepare(*specs)
        with self._lock:
            self._items[cache_key] = specs
            while len(self._items) > self._size:
                self._items.popitem(last=False)
        return specs

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


SPEC_CACHE = SpecCache()


class WorkflowCache:
    """Deserialised workflows this process saved, each with the exact state text it was saved as.

    Restoring a workflow from its JSON is a third of the library's own round trip. A unit of work that
    changes an instance under its lock takes the workflow this process saved last instead, but only when
    the row holds exactly the text that workflow was saved as and it runs on the same parsed spec: any
    other writer (another process, a migration, an operator) changed the text, so the entry is not used.
    Taking removes the entry, so no two threads hold one workflow; it comes back only with the next
    committed save. Safe to lose: a miss restores from the row, as without the cache. Bounded by count
    and by the length of the kept state texts (a large instance counts as many small ones), least
    recently kept first out.
    """

    def __init__(self, size: int = 128, max_chars: int = 8_000_000) -> None:
        self._items: OrderedDict[str, tuple[str, BpmnWorkflow]] = OrderedDict()
        self._lock = threading.Lock()
        self._size = size
        self._max_chars = max_chars
        self._chars = 0

    def take(self, instance_id: str, state: str, spec: Any) -> BpmnWorkflow | None:
        """The kept workflow of `instance_id` if it was saved as `state` on `spec`; the entry goes either way."""
        with self._lock:
            entry = self._items.pop(instance_id, None)
            if entry is not None:
                self._chars -= len(entry[0])
        if entry is None:
            return None
        kept_state, workflow = entry
        if kept_state != state or workflow.spec is not spec:
            return None
        return workflow

    def put(self, instance_id: str, state: str, workflow: BpmnWorkflow) -> None:
        """Keep `workflow`, committed as `state`: it must not change after that save."""
        if len(state) > self._max_chars:
            return
        with self._lock:
            previous = self._items.pop(instance_id, None)
            if previous is not None:
                self._chars -= len(previous[0])
            self._items[instance_id] = (state, workflow)
            self._chars += len(state)
            while len(self._items) > self._size or self._chars > self._max_chars:
                _key, (dropped, _workflow) = self._items.popitem(last=False)
                self._chars -= len(dropped)

    def __len__(self) -> int:
        return len(self._items)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self._chars = 0


WORKFLOW_CACHE = WorkflowCache()


def dump_state(workflow: BpmnWorkflow) -> str:
    dct = REGISTRY.convert(workflow)
    dct["serializer_version"] = VERSION
    return json.dumps(dct, separators=(",", ":"), cls=_ENCODER)


def load_state(state: str, spec: Any, subprocess_specs: dict[str, Any], engine: SandboxedScriptEngine) -> BpmnWorkflow:
    dct = json.loads(state)
    version = dct.pop("serializer_version", VERSION)
    if version != VERSION and version in MIGRATIONS:
        MIGRATIONS[version](dct)  # type: ignore[no-untyped-call]  # SpiffWorkflow's migrations: no annotations
    workflow: BpmnWorkflow = REGISTRY.restore(dct, spec=spec, subprocess_specs=subprocess_specs)
    workflow.script_engine = engine  # not serialized: re-attach every time (notes, drive loop)
    return workflow


@dataclass
class IncidentInfo:
    kind: str
    message: str
    task_id: str | None = None
    bpmn_id: str | None = None


@dataclass
class RunOutcome:
    """What one engine run produced, for the instance service to persist."""

    incidents: list[IncidentInfo] = field(default_factory=list)
    thrown_messages: list[BpmnEvent] = field(default_factory=list)
    thrown_signals: list[BpmnEvent] = field(default_factory=list)
    # BPMN: an escalation nobody catches is not critical; the instance goes on and the run records it.
    uncaught_escalations: list[dict[str, Any]] = field(default_factory=list)
    unrouted_events: list[dict[str, Any]] = field(default_factory=list)


def run_engine(
    workflow: BpmnWorkflow, *, before: Callable[[], None] | None = None, raise_expression_errors: bool = False
) -> RunOutcome:
    """Run every ready engine task, then drain get_events() (hazard 2) into incidents.

    A script failure leaves its task in ERROR and becomes an incident; nothing continues silently.
    ``raise_expression_errors``: an expression SpiffWorkflow evaluates outside any task (a start
    event's correlation, say) that fails on the data is raised instead, so a start can refuse the data.
    """
    outcome = RunOutcome()
    since = time.time()  # SpiffWorkflow stamps state changes with time.time()
    try:
        if before is not None:
            before()
        workflow.do_engine_steps()
    except SpiffWorkflowException as exc:
        task = getattr(exc, "task", None)
        outcome.incidents.append(
            IncidentInfo(
                kind="script" if task is not None else "engine",
                message=error_message(exc),
                task_id=str(task.id) if task is not None else None,
                bpmn_id=task.task_spec.bpmn_id if task is not None else None,
            )
        )
    except Exception as exc:  # noqa: BLE001 - SpiffWorkflow's own AttributeError/TypeError: an incident, not a 500
        task = failing_task(exc, workflow)
        # A start event's correlation reads the start data: the start is refused. Anything a task of the
        # process does with the data afterwards (a thrown message's correlation, say) is an incident.
        outside = task is None or isinstance(task.task_spec, StartEvent)
        if raise_expression_errors and outside and isinstance(exc, (ScriptError, ScriptSandboxError)):
            raise
        log.warning("engine run failed: %s: %s", type(exc).__name__, exc)
        outcome.incidents.append(
            IncidentInfo(
                kind="engine",
                message=explain(exc, task),
                task_id=str(task.id) if task is not None else None,
                bpmn_id=bpmn_id_of(task) if task is not None else None,
            )
        )
    for event in workflow.get_events():
        definition = event.event_definition
        if isinstance(definition, ErrorEventDefinition):
            code = getattr(definition, "code", None)
            name = getattr(definition, "name", None) or "error"
            message = f"Unhandled BPMN error '{name}'" + (f" (code {code})" if code else "")
            outcome.incidents.append(IncidentInfo(kind="error", message=message))
        elif isinstance(definition, EscalationEventDefinition):
            outcome.uncaught_escalations.append({"name": definition.name, "code": getattr(definition, "code", None),
                                                 "payload": _plain(event.payload)})
        elif isinstance(definition, MessageEventDefinition):
            outcome.thrown_messages.append(event)
        elif isinstance(definition, SignalEventDefinition):
            pass  # every signal thrown in this run is collected below, caught inside or not
        else:
            outcome.unrouted_events.append(
                {"type": type(definition).__name__, "name": getattr(definition, "name", None)}
            )
    outcome.thrown_signals = signals_thrown(workflow, since)
    return outcome


def signals_thrown(workflow: BpmnWorkflow, since: float) -> list[BpmnEvent]:
    """Every signal a throw event of the instance threw since ``since``, with its payload.

    A signal is broadcast: other instances get it even when a catch of this instance took it too
    (SpiffWorkflow hands a signal out of the instance only when nothing inside caught it).
    """
    thrown = []
    for task in workflow.get_tasks(state=TaskState.COMPLETED, updated_ts=since):
        definition = getattr(task.task_spec, "event_definition", None)
        if not isinstance(task.task_spec, ThrowingEvent) or not isinstance(definition, SignalEventDefinition):
            continue
        expression = getattr(definition, "expression", None)
        try:
            engine = getattr(task.workflow, "script_engine", None) or workflow.script_engine
            payload = engine.evaluate(task, expression) if expression else None
        except Exception:  # noqa: BLE001 - the throw itself evaluated it; a second failure sends no payload
            payload = None
        thrown.append(BpmnEvent(definition, payload=payload))
    return thrown


def _plain(value: Any) -> Any:
    """A payload as audit detail: JSON-native, or its text."""
    try:
        json.dumps(value)
    except (TypeError, ValueError):
        return str(value)
    return value


def failing_task(exc: BaseException, workflow: BpmnWorkflow) -> Task | None:
    """The task SpiffWorkflow was working on when ``exc`` escaped: the innermost frame of the traceback
    holding one (``my_task`` or ``task``), else the first task left in ERROR."""
    found: Task | None = None
    trace = exc.__traceback__
    while trace is not None:
        for name in ("my_task", "task"):
            candidate = trace.tb_frame.f_locals.get(name)
            if isinstance(candidate, Task):
                found = candidate
                break
        trace = trace.tb_next
    if found is None:
        failed = error_tasks(workflow)
        found = failed[0] if failed else None
    return found


_TIMER_HELP = ('a timer expression must give ISO 8601 text, in quotes: a duration "PT5M", a date-time '
               '"2026-06-01T09:00:00+02:00" or a cycle "R3/PT1H"')


def explain(exc: BaseException, task: Task | None) -> str:
    """What went wrong, for the person who reads the incident: the element, what it needed, the cause.

    SpiffWorkflow's own exceptions name Python internals (``'timedelta' object has no attribute
    'lower'``); the element kinds that fail that way on bad data get a sentence a process owner acts on.
    """
    cause = f"{type(exc).__name__}: {error_message(exc)}"
    spec = task.task_spec if task is not None else None
    element = bpmn_id_of(task) if task is not None else None
    definition = getattr(spec, "event_definition", None)
    if isinstance(definition, TimerEventDefinition):
        try:
            engine = getattr(task.workflow, "script_engine", None) if task is not None else None
            value = engine.evaluate(task, definition.expression) if engine is not None else None
            gave = f"gave a {type(value).__name__} ({value!s:.80})"
        except Exception:  # noqa: BLE001 - the expression itself fails: the cause says why
            gave = "could not be evaluated"
        message = f"Timer '{element}': its expression {definition.expression!r} {gave}; {_TIMER_HELP} ({cause})"
    elif isinstance(spec, MultiInstanceTask) and isinstance(exc, (TypeError, KeyError, NameError, ValueError)):
        source = getattr(spec.data_input, "bpmn_id", None) or getattr(spec, "cardinality", None)
        message = (f"Multi-instance '{element}': its input '{source}' is missing from the task data or is not a "
                   f"list, a dict or a number; set it before this activity ({cause})")
    elif isinstance(definition, MessageEventDefinition) and isinstance(exc, (NameError, KeyError)):
        message = (f"Message '{definition.name}' at '{element}': a correlation property reads data the message "
                   f"does not carry; put it in the payload (spiffworkflow:messagePayload) or the task data ({cause})")
    elif element is not None:
        message = f"'{element}' failed: {cause}"
    else:
        message = cause
    return message[:2000]


def fire_start_timers(workflow: BpmnWorkflow, now: datetime) -> None:
    """Make a new instance's timer start events due now: the worker starts it at the timer's time, so the
    start event must not wait its duration (or next cycle) once more. A cycle fires once per instance."""
    past = (now - timedelta(seconds=1)).isoformat()
    for task in workflow.get_tasks(state=TaskState.FUTURE | TaskState.LIKELY | TaskState.WAITING):
        definition = getattr(task.task_spec, "event_definition", None)
        if not isinstance(task.task_spec, StartEvent) or not isinstance(definition, TimerEventDefinition):
            continue
        if isinstance(definition, CycleTimerEventDefinition):
            task._set_internal_data(event_value={"cycles": 1, "next": past, "duration": 0})
        else:
            task._set_internal_data(event_value=past, event_fired=True)


def error_message(exc: BaseException) -> str:
    """An exception's text with its notes, trimmed, for incident records."""
    parts = [str(exc)]
    notes = getattr(exc, "__notes__", None) or []
    parts.extend(str(n) for n in notes)
    return "; ".join(p for p in parts if p)[:2000]


def ready_user_tasks(workflow: BpmnWorkflow) -> list[Task]:
    """Tasks waiting for a person; service tasks are 'manual' too (the worker runs them), so not these."""
    ready = workflow.get_tasks(state=TaskState.READY, manual=True)
    return [t for t in ready if not isinstance(t.task_spec, ServiceTask)]


def bpmn_id_of(task: Task) -> str | None:
    """The id of the BPMN element a task runs (None for SpiffWorkflow's own internal tasks)."""
    value = getattr(task.task_spec, "bpmn_id", None)
    return str(value) if value is not None else None


def error_tasks(workflow: BpmnWorkflow) -> list[Task]:
    return workflow.get_tasks(state=TaskState.ERROR)
