"""Validate a deployment bundle (BPMN, DMN, JSON Schema forms) without touching the database.

A deployment must either store a complete, runnable set of processes or nothing, and the person who
uploads a bundle needs every problem at once rather than one per attempt. So the whole bundle is
parsed, every error collected as a :class:`BundleError`, and either :class:`BundleInvalid` is raised
carrying all of them or a :class:`ParsedBundle` returned with everything the deployment service
stores: per process its key, content hash, serialized spec, roles (from lanes), human tasks and
exactly the files it depends on.

The package: ``xml`` (safe parsing: XML reaches lxml only through :func:`safe_parse_xml`, with a size
limit, no DOCTYPE, no entities, no network; SpiffWorkflow only ever receives the parsed element),
``parser`` (building specs, :func:`parse_bundle`), ``checks`` (validation rules SpiffWorkflow does not
make), ``forms``, ``conventions`` (role keys, start rules), ``model`` (what comes out), ``context``
(one run's state).

Conventions (SpiffWorkflow 3.2.0, spiff-arena compatible):

* File types by extension: ``.bpmn``/``.bpmn20.xml`` (BPMN), ``.dmn`` (DMN), ``.json`` (forms).
  File names are plain names, without directories.
* A human task (``bpmn:userTask``, ``bpmn:manualTask`` and, because Spiff stops at it too, a plain
  ``bpmn:task``) names its form with the spiff property ``formJsonSchemaFilename`` and optionally a UI
  schema with ``formUiSchemaFilename``; forms resolve from the bundle first, then ``forms_dir``.
  A ``.json`` file referenced only as a UI schema (or named ``*uischema.json``) must be a JSON object;
  every other ``.json`` file must be a valid JSON Schema.
* Its due date is the spiff property ``dueDate`` (stored as written), its instructions the
  ``spiffworkflow:instructionsForEndUser`` element.
* A lane is a party; its role key comes from :func:`role_key` or an explicit ``roleKey`` property.
* Who may start a process is the process's own ``spiffworkflow:properties`` (:class:`StartRule`):
  ``startableBy`` names role keys, or ``platform``; ``startCheck`` names a domain check.
* A timer start event starts instances by itself (:class:`TimerStart`); the process binds their roles
  with the property ``timerStartParties`` (``sending=3, hosting=4``), required when it has lanes.
* A message that a process throws reaches other instances, so every intermediate, boundary or
  receive-task catch of it must correlate (``spiffworkflow:processVariableCorrelation``): otherwise
  any instance waiting there could take another instance's message.
"""
from __future__ import annotations

from .conventions import PLATFORM, read_start_rule, role_key, start_rule_of
from .model import BundleError, BundleInvalid, ParsedBundle, ParsedProcess, StartRule, TimerStart, UserTaskInfo
from .parser import parse_bundle
from .timer_starts import TIMER_START_PARTIES, timer_starts_of
from .xml import BPMN_NS, DEFAULT_MAX_BUNDLE_BYTES, DEFAULT_MAX_FILE_BYTES, NS, SPIFF_NS, safe_parse_xml

__all__ = [
    "BPMN_NS",
    "DEFAULT_MAX_BUNDLE_BYTES",
    "DEFAULT_MAX_FILE_BYTES",
    "NS",
    "PLATFORM",
    "SPIFF_NS",
    "BundleError",
    "BundleInvalid",
    "ParsedBundle",
    "ParsedProcess",
    "StartRule",
    "TIMER_START_PARTIES",
    "TimerStart",
    "UserTaskInfo",
    "parse_bundle",
    "read_start_rule",
    "role_key",
    "safe_parse_xml",
    "start_rule_of",
    "timer_starts_of",
]
