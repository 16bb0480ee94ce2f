"""What a bundle yields when it is valid, and the errors it is refused with when it is not."""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any

from SpiffWorkflow.bpmn.specs.bpmn_process_spec import BpmnProcessSpec
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition

from engine.errors import Invalid


@dataclass(frozen=True)
class BundleError:
    """One problem found in a bundle, located as precisely as the parser allows."""

    file: str | None
    element_id: str | None
    message: str
    line: int | None = None

    def __str__(self) -> str:
        where = ":".join(part for part in (self.file, str(self.line) if self.line else None) if part)
        element = f" [{self.element_id}]" if self.element_id else ""
        return f"{where or 'bundle'}{element}: {self.message}"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form, for API error bodies."""
        return asdict(self)


class BundleInvalid(Invalid):
    """The bundle cannot be deployed; ``errors`` lists every problem found, never just the first."""

    def __init__(self, errors: Iterable[BundleError]) -> None:
        errors = list(errors)
        count = len(errors)
        summary = f"bundle is invalid: {count} problem{'s' if count != 1 else ''}"
        if errors:
            summary += f"; first: {errors[0]}"
        super().__init__(summary, errors=errors)
        self.errors: list[BundleError] = errors


@dataclass
class UserTaskInfo:
    """A task a person completes: what the deployment service needs to route and render it."""

    bpmn_id: str
    name: str
    lane: str | None
    role: str | None
    form: str | None
    instructions: str | None
    due: str | None  # the spiff property 'dueDate', as written in the model
    ui_form: str | None = None  # the spiff property 'formUiSchemaFilename'
    party_variable: str | None = None  # the spiff property 'partyVariable': one party per task, bound later


@dataclass(frozen=True)
class StartRule:
    """Who may start a process, as its BPMN declares it (``spiffworkflow:properties`` of the process).

    * ``startableBy`` = role keys (``"sending"``, ``"sending, hosting"``): only a member of the
      organisation bound to one of these roles, or the user bound to it, starts an instance.
    * ``startableBy`` = ``platform``: no person does; a message another instance throws does.
    * nothing declared: anyone who binds their organisation (or themselves) to one of its roles.
    * ``startCheck`` = the name of a domain check (``engine.instances.start_check``) every start by
      a person must pass, e.g. that the bound organisations are the parties of the same MoU.

    Administrators (and the platform itself) start anything; see ``engine.instances.start``.
    """

    roles: tuple[str, ...] = ()
    platform_only: bool = False
    check: str | None = None

    def describe(self) -> str:
        """The rule in words, for refusals and listings."""
        if self.platform_only:
            return "the platform only (a message another instance throws)"
        if self.roles:
            return "members of the organisation bound to " + " or ".join(repr(r) for r in self.roles)
        return "any party that binds itself to one of its roles"


@dataclass(frozen=True)
class TimerStart:
    """One timer start event: when it fires (the first time, then every ``interval`` ``cycles`` times;
    ``cycles`` -1 is for ever) and the organisation bound to each role of the instances it starts."""

    element_id: str
    kind: str  # date, duration or cycle
    text: str  # the ISO 8601 text
    parties: dict[str, int] = field(default_factory=dict)

    def first(self, now: datetime) -> tuple[datetime, int, timedelta]:
        """(first fire time, cycles, interval) counted from ``now`` (the deployment)."""
        if self.kind == "date":
            return max(TimerEventDefinition.get_datetime(self.text), now), 1, timedelta(0)
        if self.kind == "duration":
            duration = TimerEventDefinition.parse_iso_duration(self.text)
            return now + TimerEventDefinition.get_timedelta_from_start(duration, now), 1, timedelta(0)
        cycles, start, interval = TimerEventDefinition.parse_iso_recurring_interval(self.text)
        return max(start, now), cycles, interval


@dataclass
class ParsedProcess:
    """One executable process of the bundle, ready to be stored as a new version."""

    key: str
    name: str
    content_hash: str
    spec: BpmnProcessSpec
    subprocess_specs: dict[str, BpmnProcessSpec]
    spec_dict: dict[str, Any]
    roles: dict[str, str]
    user_tasks: list[UserTaskInfo]
    files: dict[str, bytes]
    start_rule: StartRule = field(default_factory=StartRule)
    # What deploys but the process owner should read (file, element, message), from its own files.
    warnings: list[BundleError] = field(default_factory=list)
    timer_starts: list[TimerStart] = field(default_factory=list)
    # Roles all of whose user tasks (its called processes' included) name their own party (partyVariable).
    per_task_roles: list[str] = field(default_factory=list)


@dataclass
class ParsedBundle:
    """Everything a valid bundle yields.

    ``files`` is what the deployment stores: the bundle's own files plus the forms resolved from
    ``forms_dir``; library files are not repeated (they are already stored).
    """

    processes: list[ParsedProcess]
    files: dict[str, bytes]
    warnings: list[BundleError] = field(default_factory=list)
    decisions: dict[str, str] = field(default_factory=dict)  # the bundle's own decision ids -> DMN file

