"""Validate a deployment bundle (BPMN, DMN, JSON Schema forms) without touching the database.

A deployment must either store a complete, runnable set of processes or nothing, and the person who
uploads a bundle needs every problem at once rather than one per attempt. So this module parses the
whole bundle, collects every error it finds as a :class:`BundleError`, and either raises
:class:`BundleInvalid` carrying all of them or returns a :class:`ParsedBundle` with everything the
deployment service stores: per process its key, content hash, serialized spec, roles (from lanes),
human tasks and exactly the files it depends on.

Safety: XML reaches lxml only through :func:`safe_parse_xml` (size limit, no DOCTYPE, no entities,
no network), and SpiffWorkflow only ever receives the already parsed element, never raw text.

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
* A message that a process throws reaches other instances, so every intermediate, boundary or
  receive-task catch of it must correlate (``spiffworkflow:processVariableCorrelation``): otherwise
  any instance waiting there could take another instance's message.
"""
from __future__ import annotations

import ast
import hashlib
import json
import re
import threading
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from jsonschema.exceptions import SchemaError
from jsonschema.validators import Draft202012Validator, validator_for
from lxml import etree
from slugify import slugify
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.bpmn.serializer.workflow import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.specs.bpmn_process_spec import BpmnProcessSpec
from SpiffWorkflow.bpmn.specs.mixins.subworkflow_task import SubWorkflowTask
from SpiffWorkflow.dmn.parser.BpmnDmnParser import SCHEMAS as DMN_SCHEMAS
from SpiffWorkflow.spiff.parser.process import VALIDATOR, SpiffBpmnParser
from SpiffWorkflow.spiff.parser.task_spec import BusinessRuleTaskParser
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG

from engine.errors import Invalid

__all__ = [
    "BundleError",
    "BundleInvalid",
    "ParsedBundle",
    "ParsedProcess",
    "StartRule",
    "UserTaskInfo",
    "parse_bundle",
    "role_key",
    "safe_parse_xml",
    "start_rule_of",
]

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
SPIFF_NS = "http://spiffworkflow.org/bpmn/schema/1.0/core"
NS = {"bpmn": BPMN_NS, "spiffworkflow": SPIFF_NS}

DEFAULT_MAX_FILE_BYTES = 5_000_000
DEFAULT_MAX_BUNDLE_BYTES = 20_000_000
#: XSD errors reported per file; past this the rest are almost always consequences of the first.
MAX_SCHEMA_ERRORS_PER_FILE = 20

FORM_PROPERTY = "formJsonSchemaFilename"
UI_FORM_PROPERTY = "formUiSchemaFilename"
DUE_PROPERTY = "dueDate"
ROLE_KEY_PROPERTY = "roleKey"
STARTABLE_BY_PROPERTY = "startableBy"
START_CHECK_PROPERTY = "startCheck"
#: ``startableBy`` value: no person starts the process; messages other instances throw do (and admins).
PLATFORM = "platform"

_BPMN_SUFFIXES = (".bpmn20.xml", ".bpmn")
_ORGANISATION_SUFFIXES = ("-organisation", "-organization")
_ROLE_KEY_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_CHECK_NAME_RE = re.compile(r"^[A-Za-z0-9_]+(?:[.-][A-Za-z0-9_]+)*$")
# Markers refused before lxml sees the bytes, in the encodings XML allows without a declaration.
_DTD_MARKERS = tuple(
    marker.encode(encoding)
    for marker in ("<!DOCTYPE", "<!ENTITY")
    for encoding in ("utf-8", "utf-16-le", "utf-16-be")
)
_DTD_MESSAGE = "DOCTYPE and entity declarations are not allowed"
# Spiff's shared XSD validator keeps its error log on the instance: serialize its use across threads.
_VALIDATOR_LOCK = threading.Lock()
_CONTAINERS = {"process", "subProcess", "transaction", "adHocSubProcess", "definitions"}
# Clark notation in lxml/XSD messages is unreadable for modellers: use the usual prefixes.
_PREFIXES = {
    "{" + BPMN_NS + "}": "bpmn:",
    "{" + SPIFF_NS + "}": "spiffworkflow:",
    "{http://www.omg.org/spec/BPMN/20100524/DI}": "bpmndi:",
    "{http://www.omg.org/spec/DD/20100524/DC}": "dc:",
    "{http://www.omg.org/spec/DD/20100524/DI}": "di:",
    **{"{" + ns + "}": "dmn:" for ns in DMN_SCHEMAS},
}


_SPIFF_RESERVED_IDS = frozenset({"Start", "End"})


def _readable(message: str) -> str:
    for clark, prefix in _PREFIXES.items():
        message = message.replace(clark, prefix)
    return message.strip()


# --------------------------------------------------------------------------------------------------
# Public types
# --------------------------------------------------------------------------------------------------


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


@dataclass
class ParsedBundle:
    """Everything a valid bundle yields.

    ``files`` is what the deployment stores: the bundle's own files plus the forms resolved from
    ``forms_dir``; library files are not repeated (they are already stored).
    """

    processes: list[ParsedProcess]
    files: dict[str, bytes]


def role_key(lane_name: str) -> str:
    """Role key of a lane, so parties are addressed by a stable slug rather than by display text.

    Rule: slugify the lane name (lower case ASCII, words joined by ``-``, punctuation dropped), then
    drop one trailing ``-organisation``/``-organization`` if something is left before it.
    "Sending organisation" -> "sending", "Hosting Organization" -> "hosting", "Learner" -> "learner",
    "Competent institution (home)" -> "competent-institution-home", "Organisation" -> "organisation".

    A lane can override this with ``<spiffworkflow:property name="roleKey" value="..."/>`` inside
    ``spiffworkflow:properties`` in its ``extensionElements``; the value must already be a slug
    (``[a-z0-9]`` words joined by single hyphens). An empty result means the lane needs a roleKey.
    """
    key = slugify(lane_name or "")
    for suffix in _ORGANISATION_SUFFIXES:
        if key.endswith(suffix) and len(key) > len(suffix):
            return key[: -len(suffix)]
    return key


def safe_parse_xml(data: bytes, filename: str, *, max_bytes: int = DEFAULT_MAX_FILE_BYTES) -> etree._Element:
    """Parse untrusted XML without entity expansion, DTDs or network access; return the root element.

    Raises :class:`BundleInvalid` (one error) when the document is too big, declares a DOCTYPE or
    entities (billion laughs, XXE), or is not well-formed.
    """
    root, error = _parse_xml(data, filename, max_bytes)
    if error is not None:
        raise BundleInvalid([error])
    assert root is not None
    return root


def read_start_rule(process: etree._Element) -> tuple[StartRule, list[tuple[str | None, str]]]:
    """The :class:`StartRule` a ``bpmn:process`` element declares, with what is wrong in it.

    Problems come as (element id, message); role keys are not checked here (the caller knows the
    process's roles). The rule returned is the strictest reading of what was written.
    """
    problems: list[tuple[str | None, str]] = []
    properties: dict[str, list[str]] = {}
    for prop in process.xpath("./bpmn:extensionElements/spiffworkflow:properties/spiffworkflow:property",
                              namespaces=NS):
        properties.setdefault(prop.get("name") or "", []).append((prop.get("value") or "").strip())
    pid = process.get("id")
    for name in (STARTABLE_BY_PROPERTY, START_CHECK_PROPERTY):
        if len(properties.get(name, [])) > 1:
            problems.append((pid, f"the process declares '{name}' {len(properties[name])} times: declare it once"))
    roles: tuple[str, ...] = ()
    platform_only = False
    if STARTABLE_BY_PROPERTY in properties:
        raw = properties[STARTABLE_BY_PROPERTY][0]
        items = [item.strip() for item in raw.split(",")]
        if not raw or any(not item for item in items):
            problems.append((pid, f"'{STARTABLE_BY_PROPERTY}' must name role keys separated by commas, "
                                  f"or '{PLATFORM}'; it is {raw!r}"))
            platform_only = True  # strictest reading: nobody but administrators
        elif PLATFORM in items:
            platform_only = True
            if len(items) > 1:
                problems.append((pid, f"'{STARTABLE_BY_PROPERTY}': '{PLATFORM}' stands alone (no person starts "
                                      f"the process), it cannot be combined with roles"))
        else:
            roles = tuple(dict.fromkeys(items))
    check: str | None = None
    if START_CHECK_PROPERTY in properties:
        check = properties[START_CHECK_PROPERTY][0]
        if not _CHECK_NAME_RE.match(check):
            problems.append((pid, f"'{START_CHECK_PROPERTY}' must name a registered start check such as "
                                  f"'review.of_mobility'; it is {check!r}"))
    return StartRule(roles=roles, platform_only=platform_only, check=check), problems


def start_rule_of(files: Mapping[str, bytes], process_id: str) -> StartRule:
    """The start rule of ``process_id`` in the BPMN files of a deployed version (validated at deploy)."""
    for name, data in sorted(files.items()):
        if _kind(name) != "bpmn":
            continue
        root = safe_parse_xml(data, name)
        for process in root.xpath("./bpmn:process[@id=$pid]", namespaces=NS, pid=process_id):
            return read_start_rule(process)[0]
    return StartRule()


def parse_bundle(
    files: Mapping[str, bytes],
    *,
    forms_dir: Path | None = None,
    library: Mapping[str, bytes] | None = None,
    max_file_bytes: int = DEFAULT_MAX_FILE_BYTES,
    max_bundle_bytes: int = DEFAULT_MAX_BUNDLE_BYTES,
) -> ParsedBundle:
    """Validate a bundle and return what the deployment stores; raise :class:`BundleInvalid` otherwise.

    ``library`` holds the files of already deployed processes (name -> bytes). They only resolve
    called processes and decisions the bundle does not define; a bundle file shadows a library file
    of the same name, and a bundle process or decision shadows a library one with the same id.
    Problems in library files are reported only when a bundle process actually needs that file.
    When two library files define the same id, the first in ``library``'s order wins.
    """
    return _BundleParser(
        files,
        forms_dir=forms_dir,
        library=library or {},
        max_file_bytes=max_file_bytes,
        max_bundle_bytes=max_bundle_bytes,
    ).run()


# --------------------------------------------------------------------------------------------------
# XML and JSON loading
# --------------------------------------------------------------------------------------------------


def _hardened_parser() -> etree.XMLParser:
    # A parser per document: lxml parsers hold per-parse state and are cheap to build.
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        dtd_validation=False,
        load_dtd=False,
        huge_tree=False,
    )


def _parse_xml(
    data: bytes, filename: str, max_bytes: int
) -> tuple[etree._Element | None, BundleError | None]:
    if not isinstance(data, bytes | bytearray | memoryview):
        return None, BundleError(filename, None, "file content must be bytes")
    data = bytes(data)
    if len(data) > max_bytes:
        return None, BundleError(filename, None, f"file is {len(data)} bytes, over the limit of {max_bytes}")
    # Refuse DTDs before parsing: even without expansion, libxml2 would read the declarations.
    if any(marker in data for marker in _DTD_MARKERS):
        return None, BundleError(filename, None, _DTD_MESSAGE)
    try:
        root = etree.fromstring(data, _hardened_parser())
    except etree.XMLSyntaxError as exc:
        line = exc.lineno if isinstance(exc.lineno, int) and exc.lineno > 0 else None
        return None, BundleError(filename, None, f"not well-formed XML: {exc.msg}", line)
    except (ValueError, etree.LxmlError) as exc:
        return None, BundleError(filename, None, f"not well-formed XML: {exc}")
    if root is None:
        return None, BundleError(filename, None, "not well-formed XML: no root element")
    docinfo = root.getroottree().docinfo
    # Belt and braces for encodings the byte scan cannot see (UTF-32, EBCDIC...).
    if docinfo.doctype or docinfo.internalDTD is not None or docinfo.externalDTD is not None:
        return None, BundleError(filename, None, _DTD_MESSAGE)
    return root, None


def _load_json(data: bytes, filename: str) -> tuple[Any, BundleError | None]:
    try:
        return json.loads(data), None
    except (ValueError, RecursionError) as exc:
        return None, BundleError(filename, None, f"not valid JSON: {exc}")


def _check_form_schema(doc: Any, filename: str, *, ui: bool) -> BundleError | None:
    """A form must be a JSON Schema the form renderer and validator will accept."""
    if not isinstance(doc, dict):
        kind = "a UI schema" if ui else "a form schema"
        return BundleError(filename, None, f"{kind} must be a JSON object")
    if ui:
        return None
    if "$schema" in doc and validator_for(doc, default=None) is None:
        return BundleError(filename, None, f"unknown $schema {doc['$schema']!r}")
    cls = validator_for(doc, default=Draft202012Validator)
    try:
        cls.check_schema(doc)
    except SchemaError as exc:
        where = "/".join(str(part) for part in exc.absolute_path) or "(root)"
        return BundleError(filename, None, f"not a valid JSON Schema at {where}: {exc.message}")
    return None


def _is_plain_name(name: str) -> bool:
    return (
        bool(name)
        and name not in {".", ".."}
        and not any(ch in name for ch in ("/", "\\", "\0"))
        and name == name.strip()
    )


def _kind(name: str) -> str | None:
    lowered = name.lower()
    if lowered.endswith(_BPMN_SUFFIXES):
        return "bpmn"
    if lowered.endswith(".dmn"):
        return "dmn"
    if lowered.endswith(".json"):
        return "json"
    return None


def _content_hash(files: Mapping[str, bytes]) -> str:
    """Same files, same hash: sha256 over sorted (name, sha256(content)) pairs."""
    digest = hashlib.sha256()
    for name in sorted(files):
        digest.update(name.encode("utf-8"))
        digest.update(b"\0")
        digest.update(hashlib.sha256(files[name]).hexdigest().encode("ascii"))
        digest.update(b"\n")
    return digest.hexdigest()


def _lane_role_key_property(lane: etree._Element) -> str | None:
    values = lane.xpath(
        "./bpmn:extensionElements/spiffworkflow:properties/spiffworkflow:property[@name=$n]/@value",
        namespaces=NS,
        n=ROLE_KEY_PROPERTY,
    )
    return str(values[0]) if values else None


def _is_executable(process: etree._Element) -> bool:
    # Same test as SpiffWorkflow's ProcessParser: absent means executable.
    return process.get("isExecutable", "true") == "true"


def _in_non_executable_process(element: etree._Element) -> bool:
    for ancestor in element.iterancestors(f"{{{BPMN_NS}}}process"):
        return not _is_executable(ancestor)
    return False


def _owning_element_id(element: etree._Element) -> str | None:
    """Id of the flow element (task, event, sequence flow...) an expression belongs to."""
    node: etree._Element | None = element
    while node is not None:
        parent = node.getparent()
        if parent is not None and etree.QName(parent).localname in _CONTAINERS and node.get("id"):
            return node.get("id")
        node = parent
    return None


# --------------------------------------------------------------------------------------------------
# The parser run
# --------------------------------------------------------------------------------------------------


@dataclass
class _Doc:
    name: str
    kind: str
    data: bytes
    library: bool = False
    root: etree._Element | None = None
    json: Any = None
    json_ok: bool = False
    process_ids: list[str] = field(default_factory=list)
    executable_ids: list[str] = field(default_factory=list)
    decision_ids: list[str] = field(default_factory=list)
    added: bool = False  # handed to Spiff without error
    unusable: str | None = None  # library files: why a process cannot rely on it
    _lines: dict[str, int] | None = None

    def line_of(self, element_id: str | None) -> int | None:
        if self.root is None or not element_id:
            return None
        if self._lines is None:
            self._lines = {}
            for el in self.root.iter(etree.Element):
                el_id = el.get("id")
                if el_id and el_id not in self._lines:
                    self._lines[el_id] = el.sourceline
        return self._lines.get(element_id)

    def called_elements(self) -> set[str]:
        if self.root is None:
            return set()
        return {str(v) for v in self.root.xpath(".//bpmn:callActivity/@calledElement", namespaces=NS) if v}

    def decision_refs(self) -> set[str]:
        if self.root is None:
            return set()
        refs = set()
        for task in self.root.xpath(".//bpmn:businessRuleTask", namespaces=NS):
            ref = BusinessRuleTaskParser.get_decision_ref(task)
            if ref:
                refs.add(ref)
        return refs


class _BundleParser:
    """One validation run: a fresh Spiff parser and the errors found so far."""

    def __init__(
        self,
        files: Mapping[str, bytes],
        *,
        forms_dir: Path | None,
        library: Mapping[str, bytes],
        max_file_bytes: int,
        max_bundle_bytes: int,
    ) -> None:
        self.files = files
        self.forms_dir = Path(forms_dir) if forms_dir is not None else None
        self.library = library
        self.max_file_bytes = max_file_bytes
        self.max_bundle_bytes = max_bundle_bytes
        self.errors: list[BundleError] = []
        self._seen_errors: set[BundleError] = set()
        self.docs: dict[str, _Doc] = {}
        self.lib_docs: dict[str, _Doc] = {}
        self.lib_process_index: dict[str, _Doc] = {}
        self.lib_decision_index: dict[str, _Doc] = {}
        self.parser = SpiffBpmnParser(validator=VALIDATOR)
        self.spec_cache: dict[str, tuple[BpmnProcessSpec | None, ValidationException | None]] = {}
        self.schema_refs: set[str] = set()
        self.ui_refs: set[str] = set()
        self.forms_dir_cache: dict[str, tuple[bytes | None, bool]] = {}
        self.forms_from_dir: dict[str, bytes] = {}
        self.prechecked: set[tuple[str, str]] = set()
        self.bundle_process_files: dict[str, str] = {}
        self.bundle_decision_files: dict[str, str] = {}

    # -- error helpers -----------------------------------------------------------------------------

    def error(self, file: str | None, element_id: str | None, message: str, line: int | None = None) -> None:
        if line is None and file in self.docs and element_id:
            line = self.docs[file].line_of(element_id)
        err = BundleError(file, element_id, _readable(message), line)
        if err not in self._seen_errors:
            self._seen_errors.add(err)
            self.errors.append(err)

    @staticmethod
    def _ve_message(ve: ValidationException) -> str:
        message = str(ve.args[0]) if ve.args else ve.__class__.__name__
        notes = [n for n in getattr(ve, "notes", []) if n]
        return ". ".join([message, *notes]) if notes else message

    @staticmethod
    def _ve_line(ve: ValidationException) -> int | None:
        line = getattr(ve, "line_number", None)
        try:
            return int(line) if line not in (None, "") else None
        except (TypeError, ValueError):
            return None

    def error_from_ve(self, ve: ValidationException, default_file: str | None) -> None:
        file = getattr(ve, "file_name", "") or default_file
        element_id = getattr(ve, "id", "") or None
        self.error(file, element_id, self._ve_message(ve), self._ve_line(ve))

    # -- the run -----------------------------------------------------------------------------------

    def run(self) -> ParsedBundle:
        if not self._load_bundle_files():
            raise BundleInvalid(self.errors)
        self._load_library()
        self._add_bundle_documents()
        self._resolve_library()
        self._check_expressions()
        self._check_bundle_forms()
        self._precheck_decisions()
        self._check_message_correlations()

        processes: list[ParsedProcess] = []
        for doc in self.docs.values():
            if doc.kind != "bpmn" or not doc.added:
                continue
            for key in doc.executable_ids:
                parsed = self._build_process(doc, key)
                if parsed is not None:
                    processes.append(parsed)
        bpmn_docs = [doc for doc in self.docs.values() if doc.kind == "bpmn"]
        unreadable = any(doc.root is None for doc in bpmn_docs) or any(
            _kind(name) == "bpmn" and name not in self.docs for name in self.files if isinstance(name, str)
        )
        if not any(doc.executable_ids for doc in bpmn_docs) and not unreadable:
            # Only when every BPMN file could be read: otherwise the real problem is already reported.
            self.error(None, None, "the bundle defines no executable process")

        if self.errors:
            raise BundleInvalid(self.errors)
        bundle_files = {name: doc.data for name, doc in self.docs.items()}
        bundle_files.update(self.forms_from_dir)
        return ParsedBundle(processes=processes, files=bundle_files)

    # -- loading -----------------------------------------------------------------------------------

    def _load_bundle_files(self) -> bool:
        """Check names, types and sizes, then parse each file; False if nothing more can be done."""
        if not self.files:
            self.error(None, None, "the bundle is empty")
            return False
        total = 0
        for name, data in self.files.items():
            if not isinstance(name, str) or not _is_plain_name(name):
                self.error(str(name), None,
                           "file names must be plain names: no directories, no leading or trailing spaces")
                continue
            if not isinstance(data, bytes | bytearray | memoryview):
                self.error(name, None, "file content must be bytes")
                continue
            data = bytes(data)
            total += len(data)
            kind = _kind(name)
            if kind is None:
                self.error(name, None, "unsupported file type: expected .bpmn, .bpmn20.xml, .dmn or .json")
                continue
            if len(data) > self.max_file_bytes:
                self.error(name, None, f"file is {len(data)} bytes, over the limit of {self.max_file_bytes}")
                continue
            self.docs[name] = _Doc(name, kind, data)
        if total > self.max_bundle_bytes:
            # Do not spend CPU on a bundle that is refused anyway.
            self.error(None, None, f"bundle is {total} bytes, over the limit of {self.max_bundle_bytes}")
            return False
        for doc in self.docs.values():
            self._parse_doc(doc, report=True)
        self._index_bundle()
        return True

    def _parse_doc(self, doc: _Doc, *, report: bool) -> None:
        """Parse one file; bundle problems are reported, library problems only remembered."""

        def problem(err: BundleError) -> None:
            if report:
                self.error(err.file, err.element_id, err.message, err.line)
            else:
                doc.unusable = str(err)

        if doc.kind == "json":
            if doc.library:
                return  # library forms are taken as deployed; read lazily
            doc.json, err = _load_json(doc.data, doc.name)
            if err is not None:
                problem(err)
            else:
                doc.json_ok = True
            return
        root, err = _parse_xml(doc.data, doc.name, self.max_file_bytes)
        if err is not None:
            problem(err)
            return
        assert root is not None
        qname = etree.QName(root)
        if doc.kind == "bpmn":
            if qname.namespace != BPMN_NS or qname.localname != "definitions":
                problem(BundleError(doc.name, None, f"not a BPMN 2.0 document (root element is {root.tag})"))
                return
            for process in root.xpath("./bpmn:process", namespaces=NS):
                pid = process.get("id")
                if not pid:
                    continue  # the XSD check reports it
                for element in process.xpath(".//*[@id]"):
                    element_id = element.get("id")
                    if element_id in _SPIFF_RESERVED_IDS or element_id.endswith(".EndJoin"):
                        # SpiffWorkflow names its own start/end tasks so; an element with such an id
                        # silently replaces them and the process cannot run ("No output task connected").
                        problem(BundleError(doc.name, element_id, f"the id '{element_id}' is reserved by "
                                                                  "SpiffWorkflow's internal tasks; rename it",
                                            element.sourceline))
                doc.process_ids.append(pid)
                if _is_executable(process):
                    doc.executable_ids.append(pid)
        else:
            if qname.namespace not in DMN_SCHEMAS or qname.localname != "definitions":
                supported = ", ".join(sorted(DMN_SCHEMAS))
                problem(BundleError(doc.name, None, f"not a supported DMN document (namespace "
                                                    f"{qname.namespace!r}; supported: {supported})"))
                return
            decisions = root.xpath("./dmn:decision", namespaces={"dmn": qname.namespace})
            if len(decisions) != 1:
                message = (f"a DMN file must hold exactly one decision (SpiffWorkflow reads one per file); "
                           f"found {len(decisions)}")
                problem(BundleError(doc.name, None, message))
                return
            decision_id = decisions[0].get("id")
            if not decision_id:
                problem(BundleError(doc.name, None, "the decision has no id"))
                return
            doc.decision_ids.append(decision_id)
        doc.root = root

    def _index_bundle(self) -> None:
        """Process and decision ids must be unique across the bundle."""
        process_owner: dict[str, str] = {}
        decision_owner: dict[str, str] = {}
        for doc in self.docs.values():
            for pid in doc.process_ids:
                if pid in process_owner:
                    self.error(doc.name, pid,
                               f"process id '{pid}' is already defined in '{process_owner[pid]}'")
                    doc.root = None  # Spiff would refuse the duplicate half-way through the file
                else:
                    process_owner[pid] = doc.name
                    self.bundle_process_files[pid] = doc.name
            for did in doc.decision_ids:
                if did in decision_owner:
                    self.error(doc.name, did,
                               f"decision id '{did}' is already defined in '{decision_owner[did]}'")
                    doc.root = None
                else:
                    decision_owner[did] = doc.name
                    self.bundle_decision_files[did] = doc.name
        for doc in self.docs.values():
            if doc.root is None:
                doc.executable_ids = []

    def _load_library(self) -> None:
        bundle_process_ids = {pid for doc in self.docs.values() for pid in doc.process_ids}
        bundle_decision_ids = {did for doc in self.docs.values() for did in doc.decision_ids}
        for name, data in self.library.items():
            if name in self.docs or name in self.files:
                continue  # the bundle's file of that name replaces the deployed one
            kind = _kind(name) if isinstance(name, str) else None
            if kind is None or not isinstance(data, bytes | bytearray | memoryview):
                continue
            doc = _Doc(name, kind, bytes(data), library=True)
            self.lib_docs[name] = doc
            if len(doc.data) > self.max_file_bytes:
                doc.unusable = f"file is {len(doc.data)} bytes, over the limit of {self.max_file_bytes}"
                continue
            self._parse_doc(doc, report=False)
            for pid in doc.process_ids:
                if pid not in bundle_process_ids:
                    self.lib_process_index.setdefault(pid, doc)
            for did in doc.decision_ids:
                if did not in bundle_decision_ids:
                    self.lib_decision_index.setdefault(did, doc)

    # -- handing documents to Spiff ----------------------------------------------------------------

    def _xsd_errors(self, doc: _Doc) -> list[BundleError]:
        """All XSD violations of a BPMN file (Spiff's own check stops at the last one)."""
        assert doc.root is not None
        with _VALIDATOR_LOCK:
            VALIDATOR.preprocess(doc.root)
            schema = VALIDATOR.validator
            if schema.validate(doc.root):
                return []
            entries = list(schema.error_log)
        found = []
        for entry in entries[:MAX_SCHEMA_ERRORS_PER_FILE]:
            found.append(BundleError(doc.name, None, f"BPMN schema: {entry.message}", entry.line or None))
        more = len(entries) - MAX_SCHEMA_ERRORS_PER_FILE
        if more > 0:
            found.append(BundleError(doc.name, None, f"... and {more} more schema errors"))
        return found

    def _add_to_spiff(self, doc: _Doc) -> Exception | None:
        assert doc.root is not None
        try:
            with _VALIDATOR_LOCK:
                if doc.kind == "bpmn":
                    self.parser.add_bpmn_xml(doc.root, filename=doc.name)
                else:
                    self.parser.add_dmn_xml(doc.root, filename=doc.name)
            if doc.kind == "dmn":
                # Spiff parses decisions lazily; parse now so errors point at the DMN file.
                for did in doc.decision_ids:
                    self.parser.dmn_parsers[did].parse()
        except ValidationException as ve:
            return ve
        except Exception as exc:  # Spiff raises KeyError & co. on some malformed models
            return exc
        doc.added = True
        return None

    def _add_bundle_documents(self) -> None:
        for doc in self.docs.values():
            if doc.root is None or doc.kind == "json":
                continue
            if doc.kind == "bpmn":
                xsd_errors = self._xsd_errors(doc)
                if xsd_errors:
                    for err in xsd_errors:
                        self.error(err.file, err.element_id, err.message, err.line)
                    continue
            problem = self._add_to_spiff(doc)
            if isinstance(problem, ValidationException):
                self.error_from_ve(problem, doc.name)
            elif problem is not None:
                self.error(doc.name, None, f"{type(problem).__name__}: {problem}")

    def _resolve_library(self) -> None:
        """Add the library files the bundle needs, transitively, and nothing else."""
        pending_processes: set[str] = set()
        pending_decisions: set[str] = set()
        for doc in self.docs.values():
            if doc.added and doc.kind == "bpmn":
                pending_processes |= doc.called_elements()
                pending_decisions |= doc.decision_refs()
        while pending_processes or pending_decisions:
            if pending_processes:
                pid = pending_processes.pop()
                if pid in self.parser.process_parsers:
                    continue
                doc = self.lib_process_index.get(pid)
            else:
                did = pending_decisions.pop()
                if did in self.parser.dmn_parsers:
                    continue
                doc = self.lib_decision_index.get(did)
            if doc is None or doc.added or doc.unusable or doc.root is None:
                continue
            clashes = [pid for pid in doc.process_ids if pid in self.parser.process_parsers]
            clashes += [did for did in doc.decision_ids if did in self.parser.dmn_parsers]
            if clashes:
                doc.unusable = (f"it also defines {', '.join(repr(c) for c in clashes)}, which the bundle "
                                f"defines again; deploy those together")
                continue
            problem = self._add_to_spiff(doc)
            if problem is not None:
                if isinstance(problem, ValidationException):
                    doc.unusable = self._ve_message(problem)
                else:
                    doc.unusable = f"{type(problem).__name__}: {problem}"
                continue
            if doc.kind == "bpmn":
                pending_processes |= doc.called_elements()
                pending_decisions |= doc.decision_refs()

    # -- checks on the XML -------------------------------------------------------------------------

    _EXEC_XPATH = ".//bpmn:script | .//spiffworkflow:preScript | .//spiffworkflow:postScript"
    _EVAL_XPATH = " | ".join(
        [
            ".//bpmn:conditionExpression",
            ".//bpmn:timeDate",
            ".//bpmn:timeDuration",
            ".//bpmn:timeCycle",
            ".//bpmn:loopCondition",
            ".//bpmn:completionCondition",
            ".//bpmn:loopCardinality",
            ".//bpmn:conditionalEventDefinition/bpmn:condition",
            ".//bpmn:correlationPropertyRetrievalExpression/bpmn:formalExpression",
            ".//bpmn:correlationPropertyRetrievalExpression/bpmn:messagePath",
            ".//spiffworkflow:messagePayload",
        ]
    )

    def _check_expressions(self) -> None:
        """Scripts and expressions must at least compile; a typo should fail the deploy, not a case."""
        for doc in self.docs.values():
            if doc.kind != "bpmn" or doc.root is None:
                continue
            checks: list[tuple[etree._Element, str, str]] = []
            for el in doc.root.xpath(self._EXEC_XPATH, namespaces=NS):
                checks.append((el, el.text or "", "exec"))
            for el in doc.root.xpath(self._EVAL_XPATH, namespaces=NS):
                checks.append((el, el.text or "", "eval"))
            params = ".//spiffworkflow:serviceTaskOperator//spiffworkflow:parameter"
            for el in doc.root.xpath(params, namespaces=NS):
                if el.get("value") is not None:
                    checks.append((el, el.get("value"), "eval"))
            for el, source, mode in checks:
                if not source.strip() or _in_non_executable_process(el):
                    continue
                # eval() strips leading spaces and tabs itself; exec() takes the text as written.
                text = source.lstrip(" \t") if mode == "eval" else source
                try:
                    ast.parse(text, mode=mode)
                except SyntaxError as exc:
                    what = etree.QName(el).localname
                    where = f" (line {exc.lineno} of the {'script' if mode == 'exec' else 'expression'})"
                    self.error(doc.name, _owning_element_id(el),
                               f"{what} is not valid Python: {exc.msg}{where}", el.sourceline)
                except (ValueError, RecursionError, MemoryError) as exc:
                    self.error(doc.name, _owning_element_id(el),
                               f"{etree.QName(el).localname} is not valid Python: {exc}", el.sourceline)

    _THROW_XPATH = ("./bpmn:intermediateThrowEvent/bpmn:messageEventDefinition | "
                    "./bpmn:endEvent/bpmn:messageEventDefinition | ./bpmn:sendTask")
    _CATCH_XPATH = ("./bpmn:intermediateCatchEvent/bpmn:messageEventDefinition | "
                    "./bpmn:boundaryEvent/bpmn:messageEventDefinition | ./bpmn:receiveTask")

    @staticmethod
    def _messages(doc: _Doc, process: etree._Element, xpath: str) -> list[tuple[str, etree._Element]]:
        """(message name, element) of the process's message throws or catches, sub-processes included."""
        assert doc.root is not None
        names = {m.get("id"): m.get("name") or m.get("id") for m in doc.root.xpath("./bpmn:message", namespaces=NS)}
        found = []
        nested = ".//bpmn:subProcess | .//bpmn:transaction | .//bpmn:adHocSubProcess"
        for container in [process, *process.xpath(nested, namespaces=NS)]:
            for el in container.xpath(xpath, namespaces=NS):
                name = names.get(el.get("messageRef"))
                if name:
                    found.append((name, el))
        return found

    def _check_message_correlations(self) -> None:
        """A catch of a message some process throws must correlate, or any instance could take it.

        A message thrown by one instance is delivered by the platform to an instance waiting for it.
        A catch (intermediate, boundary, receive task) accepts any message of its name unless its
        message has correlation properties (``bpmn:correlationPropertyRetrievalExpression``) and the
        waiting instance has their values from its own data (``spiffworkflow:processVariableCorrelation``),
        so an instance anyone started could receive another party's message. Such a catch is refused when
        any executable process of the bundle or the latest deployed versions throws that message;
        likewise a bundle process that throws a message a deployed process catches so. Message start
        events are not catches of a running instance: a message starts a new instance there.
        """
        processes: list[tuple[_Doc, etree._Element]] = []
        for doc in self.docs.values():
            if doc.kind == "bpmn" and doc.root is not None:
                processes += [(doc, p) for p in doc.root.xpath("./bpmn:process", namespaces=NS) if _is_executable(p)]
        for doc in self.lib_docs.values():
            if doc.kind == "bpmn" and doc.root is not None:
                processes += [(doc, p) for p in doc.root.xpath("./bpmn:process", namespaces=NS)
                              if _is_executable(p) and self.lib_process_index.get(p.get("id")) is doc]
        throwers: dict[str, list[tuple[_Doc, etree._Element, etree._Element]]] = {}
        loose: dict[str, list[tuple[_Doc, etree._Element, etree._Element]]] = {}
        for doc, process in processes:
            assert doc.root is not None
            retrieved = {str(ref) for ref in doc.root.xpath(
                "./bpmn:correlationProperty/bpmn:correlationPropertyRetrievalExpression/@messageRef", namespaces=NS)}
            for name, el in self._messages(doc, process, self._THROW_XPATH):
                throwers.setdefault(name, []).append((doc, process, el))
            for name, el in self._messages(doc, process, self._CATCH_XPATH):
                # SpiffWorkflow checks a catch's correlation only when its message has retrieval
                # expressions, and the waiting instance has values only from its own data.
                own = el.xpath(".//spiffworkflow:processVariableCorrelation", namespaces=NS)
                if not own or el.get("messageRef") not in retrieved:
                    loose.setdefault(name, []).append((doc, process, el))
        for name, catches in loose.items():
            for catch_doc, catch_process, catch in catches:
                for throw_doc, throw_process, throw in throwers.get(name, []):
                    deployed = " (deployed)" if throw_doc.library else ""
                    if not catch_doc.library:
                        self.error(catch_doc.name, _owning_element_id(catch) or catch.get("id"),
                                   f"it waits for message '{name}', which process '{throw_process.get('id')}'"
                                   f"{deployed} throws, without a correlation: any instance waiting here could "
                                   f"receive another instance's message. Correlate it: a bpmn:correlationProperty "
                                   f"with a retrieval expression for this message, and "
                                   f"spiffworkflow:processVariableCorrelation on it from this instance's data",
                                   catch.sourceline)
                        break
                    if not throw_doc.library:
                        self.error(throw_doc.name, _owning_element_id(throw) or throw.get("id"),
                                   f"it throws message '{name}', which the deployed process "
                                   f"'{catch_process.get('id')}' ({catch_doc.name}) waits for without a "
                                   f"correlation, so any of its instances could receive it: correlate that "
                                   f"catch first", throw.sourceline)

    def _check_bundle_forms(self) -> None:
        """Every bundle .json file must be a JSON Schema, or a JSON object if it is a UI schema."""
        for doc in self.docs.values():
            if doc.kind != "bpmn" or doc.root is None:
                continue
            props = doc.root.xpath(".//spiffworkflow:properties/spiffworkflow:property", namespaces=NS)
            for prop in props:
                if prop.get("name") == FORM_PROPERTY and prop.get("value"):
                    self.schema_refs.add(prop.get("value"))
                elif prop.get("name") == UI_FORM_PROPERTY and prop.get("value"):
                    self.ui_refs.add(prop.get("value"))
        for doc in self.docs.values():
            if doc.kind != "json" or not doc.json_ok:
                continue
            ui = self._is_ui_schema(doc.name)
            err = _check_form_schema(doc.json, doc.name, ui=ui)
            if err is not None:
                doc.json_ok = False
                self.error(err.file, err.element_id, err.message)

    def _is_ui_schema(self, name: str) -> bool:
        if name in self.schema_refs:
            return False
        return name in self.ui_refs or name.lower().endswith("uischema.json")

    def _precheck_decisions(self) -> None:
        """Name the business rule task when its decision is missing (Spiff stops at the first one)."""
        for doc in self.docs.values():
            if doc.kind != "bpmn" or not doc.added or doc.root is None:
                continue
            for task in doc.root.xpath(".//bpmn:businessRuleTask", namespaces=NS):
                if _in_non_executable_process(task):
                    continue
                task_id = task.get("id") or ""
                ref = BusinessRuleTaskParser.get_decision_ref(task)
                message = None
                if not ref:
                    message = (f"business rule task '{task_id}' names no decision "
                               f"(spiffworkflow:calledDecisionId)")
                elif ref not in self.parser.dmn_parsers:
                    lib_doc = self.lib_decision_index.get(ref)
                    if ref in self.bundle_decision_files:
                        message = (f"business rule task '{task_id}' uses decision '{ref}' from "
                                   f"'{self.bundle_decision_files[ref]}', which has errors")
                    elif lib_doc is not None and lib_doc.unusable:
                        message = (f"business rule task '{task_id}' uses decision '{ref}' from deployed file "
                                   f"'{lib_doc.name}', which cannot be used: {lib_doc.unusable}")
                    else:
                        message = (f"business rule task '{task_id}' uses decision '{ref}', which is in no "
                                   f"DMN file of the bundle nor among deployed decisions")
                else:
                    source = self.parser.dmn_parsers[ref].filename
                    lib_doc = self.lib_docs.get(source)
                    if lib_doc is not None and lib_doc.unusable:
                        message = (f"business rule task '{task_id}' uses decision '{ref}' from deployed file "
                                   f"'{source}', which cannot be used: {lib_doc.unusable}")
                if message is not None:
                    self.error(doc.name, task_id, message)
                    self.prechecked.add((doc.name, task_id))

    # -- building processes ------------------------------------------------------------------------

    def _get_spec(self, pid: str) -> tuple[BpmnProcessSpec | None, ValidationException | None]:
        # Cached: after a failure Spiff returns a half-built spec on the next call.
        if pid not in self.spec_cache:
            try:
                self.spec_cache[pid] = (self.parser.get_spec(pid), None)
            except ValidationException as ve:
                self.spec_cache[pid] = (None, ve)
            except Exception as exc:  # defensive: report, never crash the deployment
                pp = self.parser.get_process_parser(pid)
                ve = ValidationException(f"{type(exc).__name__}: {exc}",
                                         file_name=getattr(pp, "filename", None) or "")
                self.spec_cache[pid] = (None, ve)
        return self.spec_cache[pid]

    def _file_of(self, pid: str) -> str | None:
        pp = self.parser.get_process_parser(pid)
        return getattr(pp, "filename", None) if pp is not None else None

    def _owner(self, pid: str) -> str | None:
        """The top-level process an embedded subprocess belongs to (itself for a top-level one)."""
        pp = self.parser.get_process_parser(pid)
        while pp is not None and pp.parent is not None:
            pp = pp.parent
        return pp.bpmn_id if pp is not None else None

    def _is_library_file(self, filename: str | None) -> bool:
        return filename is not None and filename not in self.docs and filename in self.lib_docs

    def _load_graph(self, key: str) -> tuple[BpmnProcessSpec | None, dict[str, BpmnProcessSpec], bool]:
        """Spec of ``key`` and of everything it calls, reporting unknown or broken callees.

        ``via`` is the bundle call activity through which a library process was reached: problems
        inside deployed files are reported there, as that is what the bundle author can act on.
        """
        spec, ve = self._get_spec(key)
        if spec is None:
            if ve is not None:
                self._report_spec_error(ve, self._file_of(key))
            return None, {}, False
        ok = True
        subs: dict[str, BpmnProcessSpec] = {}
        stack: list[tuple[BpmnProcessSpec, tuple[str | None, str, str] | None]] = [(spec, None)]
        visited = {key}
        while stack:
            current, via = stack.pop()
            current_file = self._file_of(current.name)
            for task_spec in list(current.task_specs.values()):
                if not isinstance(task_spec, SubWorkflowTask):
                    continue
                target = task_spec.spec
                call_id = task_spec.bpmn_id or task_spec.name
                if self.parser.get_process_parser(target) is None:
                    ok = False
                    lib_doc = self.lib_process_index.get(target)
                    if lib_doc is not None and lib_doc.unusable:
                        self._via_error(via or (current_file, call_id, target),
                                        f"its file '{lib_doc.name}' is invalid: {lib_doc.unusable}")
                    elif via is None and target in self.bundle_process_files:
                        self.error(current_file, call_id,
                                   f"call activity '{call_id}' calls process '{target}' from "
                                   f"'{self.bundle_process_files[target]}', which has errors")
                    elif via is None:
                        self.error(current_file, call_id,
                                   f"call activity '{call_id}' calls process '{target}', which is neither "
                                   f"in the bundle nor deployed")
                    else:
                        self._via_error(via, f"it calls process '{target}', which is not deployed")
                    continue
                if target in visited:
                    continue
                visited.add(target)
                target_file = self._file_of(target)
                next_via = via
                if via is None and self._is_library_file(target_file):
                    next_via = (current_file, call_id, target)
                lib_doc = self.lib_docs.get(target_file or "") if self._is_library_file(target_file) else None
                if lib_doc is not None and lib_doc.unusable:
                    ok = False
                    self._via_error(next_via, f"its file '{lib_doc.name}' is invalid: {lib_doc.unusable}")
                    continue
                sub_spec, sub_ve = self._get_spec(target)
                if sub_spec is None:
                    ok = False
                    if next_via is None:
                        if sub_ve is not None:
                            self._report_spec_error(sub_ve, target_file)
                    else:
                        message = self._ve_message(sub_ve) if sub_ve is not None else "it cannot be parsed"
                        self._via_error(next_via, message)
                    continue
                subs[target] = sub_spec
                stack.append((sub_spec, next_via))
        return spec, subs, ok

    def _via_error(self, via: tuple[str | None, str, str] | None, problem: str) -> None:
        if via is None:
            return
        file, call_id, target = via
        self.error(file, call_id, f"call activity '{call_id}' calls deployed process '{target}', "
                                  f"which cannot be used: {problem}")

    def _report_spec_error(self, ve: ValidationException, default_file: str | None) -> None:
        file = getattr(ve, "file_name", "") or default_file
        element_id = getattr(ve, "id", "") or None
        if file is not None and element_id is not None and (file, element_id) in self.prechecked:
            return  # already reported with a clearer message
        self.error_from_ve(ve, default_file)

    def _build_process(self, doc: _Doc, key: str) -> ParsedProcess | None:
        errors_before = len(self.errors)
        spec, subs, ok = self._load_graph(key)
        if spec is None:
            return None
        process_parser = self.parser.get_process_parser(key)
        process_el = process_parser.node

        roles, lane_keys = self._roles(doc, process_el)
        owned = [spec] + [s for pid, s in subs.items() if self._owner(pid) == key]
        has_lanes = bool(process_el.xpath(".//bpmn:lane", namespaces=NS))

        files: dict[str, bytes] = {doc.name: doc.data}
        user_tasks: list[UserTaskInfo] = []
        seen_tasks: set[str] = set()
        for owned_spec in owned:
            for task_spec in owned_spec.task_specs.values():
                if not getattr(task_spec, "manual", False) or not getattr(task_spec, "bpmn_id", None):
                    continue
                if task_spec.bpmn_id in seen_tasks:
                    continue  # multi-instance: the child spec carries the same id
                seen_tasks.add(task_spec.bpmn_id)
                info = self._user_task(doc, process_el, task_spec, has_lanes, roles, lane_keys, files)
                user_tasks.append(info)
        # Document order, so forms and task lists read like the diagram.
        user_tasks.sort(key=lambda t: getattr(process_parser.get_node_by_id(t.bpmn_id), "sourceline", 0) or 0)
        start_rule = self._start_rule(doc, process_el, roles)

        # Files of everything this process runs: called processes, their decisions and forms.
        for pid in [key, *subs]:
            filename = self._file_of(pid)
            data = self._file_bytes(filename)
            if filename is not None and data is not None:
                files.setdefault(filename, data)
            pp = self.parser.get_process_parser(pid)
            if pp is None:
                continue
            for task in pp.node.xpath(".//bpmn:businessRuleTask", namespaces=NS):
                ref = BusinessRuleTaskParser.get_decision_ref(task)
                dmn_parser = self.parser.dmn_parsers.get(ref) if ref else None
                if dmn_parser is not None:
                    dmn_data = self._file_bytes(dmn_parser.filename)
                    if dmn_data is not None:
                        files.setdefault(dmn_parser.filename, dmn_data)
        for pid, sub_spec in subs.items():
            if self._owner(pid) == key:
                continue
            library_process = self._is_library_file(self._file_of(pid))
            for task_spec in sub_spec.task_specs.values():
                properties = (getattr(task_spec, "extensions", None) or {}).get("properties") or {}
                for prop in (FORM_PROPERTY, UI_FORM_PROPERTY):
                    name = properties.get(prop)
                    if name:
                        data = self._lookup_form(name, library_process=library_process)
                        if data is not None:
                            files.setdefault(name, data)

        if not ok or len(self.errors) > errors_before:
            return None
        try:
            registry = BpmnWorkflowSerializer.configure(SPIFF_CONFIG)
            spec_dict = {
                "spec": registry.convert(spec),
                "subprocess_specs": {pid: registry.convert(s) for pid, s in subs.items()},
            }
            # Stored as JSON: make sure it is JSON-native now rather than at commit time.
            spec_dict = json.loads(json.dumps(spec_dict))
        except Exception as exc:
            self.error(doc.name, key, f"the process cannot be serialized: {type(exc).__name__}: {exc}")
            return None
        return ParsedProcess(
            key=key,
            name=process_parser.get_name(),
            content_hash=_content_hash(files),
            spec=spec,
            subprocess_specs=subs,
            spec_dict=spec_dict,
            roles=roles,
            user_tasks=user_tasks,
            files=files,
            start_rule=start_rule,
        )

    def _start_rule(self, doc: _Doc, process_el: etree._Element, roles: Mapping[str, str]) -> StartRule:
        """The process's declared start rule; every role it names must be one of its lanes' roles."""
        rule, problems = read_start_rule(process_el)
        for element_id, message in problems:
            self.error(doc.name, element_id, message)
        unknown = [r for r in rule.roles if r not in roles]
        if unknown:
            self.error(doc.name, process_el.get("id"),
                       f"'{STARTABLE_BY_PROPERTY}' names {', '.join(repr(r) for r in unknown)}, which "
                       f"{'is not a role' if len(unknown) == 1 else 'are not roles'} of this process; "
                       f"its roles: {', '.join(sorted(roles)) or 'none (it has no lanes)'}")
        return rule

    def _file_bytes(self, filename: str | None) -> bytes | None:
        if filename is None:
            return None
        if filename in self.docs:
            return self.docs[filename].data
        if filename in self.lib_docs:
            return self.lib_docs[filename].data
        return None

    def _roles(self, doc: _Doc, process_el: etree._Element) -> tuple[dict[str, str], dict[str, str]]:
        """Role key -> lane name for the process's named lanes, and lane name -> role key."""
        roles: dict[str, str] = {}
        lane_keys: dict[str, str] = {}
        for lane in process_el.xpath(".//bpmn:lane", namespaces=NS):
            name = lane.get("name")
            if not name:
                continue  # reported on the tasks it holds, if any
            lane_id = lane.get("id")
            explicit = _lane_role_key_property(lane)
            if explicit is not None:
                if not _ROLE_KEY_RE.match(explicit):
                    self.error(doc.name, lane_id, f"lane '{name}': roleKey '{explicit}' must be lower-case "
                                                  f"letters and digits in words joined by '-'")
                    continue
                key = explicit
            else:
                key = role_key(name)
                if not key:
                    self.error(doc.name, lane_id, f"lane '{name}' gives an empty role key: use letters or "
                                                  f"digits in its name, or set a roleKey property")
                    continue
            if name in lane_keys and lane_keys[name] != key:
                self.error(doc.name, lane_id, f"two lanes are named '{name}' but have different role keys "
                                              f"('{lane_keys[name]}' and '{key}')")
                continue
            if key in roles and roles[key] != name:
                self.error(doc.name, lane_id, f"lanes '{roles[key]}' and '{name}' both give role key "
                                              f"'{key}': rename one or set a roleKey property")
                continue
            roles[key] = name
            lane_keys[name] = key
        return roles, lane_keys

    def _user_task(
        self,
        doc: _Doc,
        process_el: etree._Element,
        task_spec: Any,
        has_lanes: bool,
        roles: dict[str, str],
        lane_keys: dict[str, str],
        files: dict[str, bytes],
    ) -> UserTaskInfo:
        task_id: str = task_spec.bpmn_id
        extensions = getattr(task_spec, "extensions", None) or {}
        properties = extensions.get("properties") or {}
        lane = task_spec.lane
        role: str | None = None
        if lane is not None:
            role = lane_keys.get(lane)
            if role is None:
                role = role_key(lane)
                if role:
                    roles.setdefault(role, lane)
                else:
                    role = None
        elif has_lanes:
            unnamed = process_el.xpath(".//bpmn:lane[not(@name) or @name=''][bpmn:flowNodeRef=$t]",
                                       namespaces=NS, t=task_id)
            if unnamed:
                self.error(doc.name, task_id, f"user task '{task_id}' is in lane '{unnamed[0].get('id')}', "
                                              f"which has no name, so no party can be assigned")
            else:
                self.error(doc.name, task_id,
                           f"user task '{task_id}' is in no lane, so no party can be assigned")

        form = properties.get(FORM_PROPERTY) or None
        ui_form = properties.get(UI_FORM_PROPERTY) or None
        for name, ui in ((form, False), (ui_form, True)):
            if name is None:
                continue
            data = self._resolve_owned_form(doc, task_id, name, ui=ui)
            if data is not None:
                files[name] = data
        return UserTaskInfo(
            bpmn_id=task_id,
            name=task_spec.bpmn_name or task_id,
            lane=lane,
            role=role,
            form=form,
            instructions=extensions.get("instructionsForEndUser"),
            due=properties.get(DUE_PROPERTY),
            ui_form=ui_form,
        )

    # -- forms -------------------------------------------------------------------------------------

    def _resolve_owned_form(self, doc: _Doc, task_id: str, name: str, *, ui: bool) -> bytes | None:
        """Form of a task of this bundle: from the bundle, else forms_dir; a miss is an error."""
        kind = "UI schema" if ui else "form"
        if not _is_plain_name(name) or not name.lower().endswith(".json"):
            self.error(doc.name, task_id,
                       f"{kind} '{name}' of task '{task_id}' must be a plain .json file name")
            return None
        bundle_doc = self.docs.get(name)
        if bundle_doc is not None:
            # Its own problems, if any, are reported against the form file itself.
            return bundle_doc.data if bundle_doc.json_ok else None
        data, found = self._from_forms_dir(name, ui=ui)
        if not found:
            self.error(doc.name, task_id, f"{kind} '{name}' not found: task '{task_id}' needs it; add it to "
                                          f"the bundle or the forms directory")
            return None
        if data is not None:
            self.forms_from_dir[name] = data
        return data

    def _lookup_form(self, name: str, *, library_process: bool) -> bytes | None:
        """Form of a called process's task: best effort, its own deployment checked it."""
        if not _is_plain_name(name):
            return None
        if library_process:
            lib_doc = self.lib_docs.get(name)
            if lib_doc is not None:
                return lib_doc.data
        else:
            bundle_doc = self.docs.get(name)
            if bundle_doc is not None:
                return bundle_doc.data
        data, _found = self._from_forms_dir(name, ui=name in self.ui_refs and name not in self.schema_refs)
        return data

    def _from_forms_dir(self, name: str, *, ui: bool) -> tuple[bytes | None, bool]:
        """(content or None if invalid, found) for a form in forms_dir; problems reported once."""
        if self.forms_dir is None:
            return None, False
        if name in self.forms_dir_cache:
            return self.forms_dir_cache[name]
        result: tuple[bytes | None, bool] = (None, False)
        try:
            base = self.forms_dir.resolve()
            path = (base / name).resolve()
            if path.parent == base and path.is_file():
                size = path.stat().st_size
                if size > self.max_file_bytes:
                    self.error(name, None, f"form in the forms directory is {size} bytes, over the limit of "
                                           f"{self.max_file_bytes}")
                    result = (None, True)
                else:
                    data = path.read_bytes()
                    doc, err = _load_json(data, name)
                    if err is None:
                        err = _check_form_schema(doc, name, ui=ui)
                    if err is not None:
                        self.error(err.file, err.element_id, f"{err.message} (in the forms directory)")
                        result = (None, True)
                    else:
                        result = (data, True)
        except OSError as exc:
            self.error(name, None, f"form cannot be read from the forms directory: {exc.strerror or exc}")
            result = (None, True)
        self.forms_dir_cache[name] = result
        return result
