"""One validation run: the files, what SpiffWorkflow made of them so far, and every error found.

The parser (:mod:`engine.bundle.parser`), the rules (:mod:`engine.bundle.checks`) and the form lookups
(:mod:`engine.bundle.forms`) share this state; errors are collected, never raised one by one, so the
person deploying gets every problem at once.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.bpmn.specs.bpmn_process_spec import BpmnProcessSpec
from SpiffWorkflow.spiff.parser.process import VALIDATOR, SpiffBpmnParser

from ..datastores import DATA_STORE_CLASSES
from .model import BundleError
from .xml import Doc, readable

SpecResult = tuple[BpmnProcessSpec | None, ValidationException | None]


def _parser() -> SpiffBpmnParser:
    """SpiffWorkflow's parser, with the data stores the platform backs (``engine.datastores``)."""
    parser = SpiffBpmnParser(validator=VALIDATOR)
    parser.DATA_STORE_CLASSES = DATA_STORE_CLASSES
    return parser


def ve_message(ve: ValidationException) -> str:
    """A SpiffWorkflow validation error's text with its notes."""
    message = str(ve.args[0]) if ve.args else ve.__class__.__name__
    notes = [n for n in getattr(ve, "notes", []) if n]
    return ". ".join([message, *notes]) if notes else message


def _ve_line(ve: ValidationException) -> int | None:
    line = getattr(ve, "line_number", None)
    try:
        return int(line) if line not in (None, "") else None
    except (TypeError, ValueError):
        return None


@dataclass
class BundleContext:
    """The state of one run over one bundle (and the deployed files it may call)."""

    files: Mapping[str, bytes]
    forms_dir: Path | None
    library: Mapping[str, bytes]
    max_file_bytes: int
    max_bundle_bytes: int
    errors: list[BundleError] = field(default_factory=list)
    # What deploys but the process owner should know: schema slips SpiffWorkflow tolerates, models
    # translated from another tool's dialect, attributes of other tools that are not honoured.
    warnings: list[BundleError] = field(default_factory=list)
    docs: dict[str, Doc] = field(default_factory=dict)
    lib_docs: dict[str, Doc] = field(default_factory=dict)
    lib_process_index: dict[str, Doc] = field(default_factory=dict)
    lib_decision_index: dict[str, Doc] = field(default_factory=dict)
    parser: SpiffBpmnParser = field(default_factory=_parser)
    schema_refs: set[str] = field(default_factory=set)
    ui_refs: set[str] = field(default_factory=set)
    forms_dir_cache: dict[str, tuple[bytes | None, bool]] = field(default_factory=dict)
    forms_from_dir: dict[str, bytes] = field(default_factory=dict)
    prechecked: set[tuple[str, str]] = field(default_factory=set)
    bundle_process_files: dict[str, str] = field(default_factory=dict)
    bundle_decision_files: dict[str, str] = field(default_factory=dict)
    _seen_errors: set[BundleError] = field(default_factory=set)
    # (file, element id) refused with a reason of its own (a Java delegate, a JavaScript script): what
    # SpiffWorkflow or the other checks then say about the same element only repeats it less clearly.
    _refused: set[tuple[str | None, str]] = field(default_factory=set)
    _spec_cache: dict[str, SpecResult] = field(default_factory=dict)

    # -- errors ------------------------------------------------------------------------------------

    def error(self, file: str | None, element_id: str | None, message: str, line: int | None = None) -> None:
        """Record a problem once, with the element's line when the file is known."""
        if line is None and file in self.docs and element_id:
            line = self.docs[file].line_of(element_id)
        err = BundleError(file, element_id, readable(message), line)
        if element_id is not None and (file, element_id) in self._refused:
            return
        if err not in self._seen_errors:
            self._seen_errors.add(err)
            self.errors.append(err)

    def refuse(self, file: str | None, element_id: str | None, message: str, line: int | None = None) -> None:
        """Record why an element cannot run at all; later errors about the same element are dropped."""
        self.error(file, element_id, message, line)
        if element_id is not None:
            self._refused.add((file, element_id))

    def warn(self, file: str | None, element_id: str | None, message: str, line: int | None = None) -> None:
        """Record something that deploys but that the process owner should read (once)."""
        if line is None and file in self.docs and element_id:
            line = self.docs[file].line_of(element_id)
        warning = BundleError(file, element_id, readable(message), line)
        if warning not in self.warnings:
            self.warnings.append(warning)

    def report(self, err: BundleError) -> None:
        """Record an error found while reading a file."""
        self.error(err.file, err.element_id, err.message, err.line)

    def error_from_ve(self, ve: ValidationException, default_file: str | None) -> None:
        """Record a SpiffWorkflow validation error where it says it happened."""
        file = getattr(ve, "file_name", "") or default_file
        element_id = getattr(ve, "id", "") or None
        self.error(file, element_id, ve_message(ve), _ve_line(ve))

    def report_spec_error(self, ve: ValidationException, default_file: str | None) -> None:
        """As :meth:`error_from_ve`, unless a check already explained that element more clearly."""
        file = getattr(ve, "file_name", "") or default_file
        element_id = getattr(ve, "id", "") or None
        if file is not None and element_id is not None and (file, element_id) in self.prechecked:
            return
        self.error_from_ve(ve, default_file)

    # -- what SpiffWorkflow made of the files ------------------------------------------------------

    def get_spec(self, pid: str) -> SpecResult:
        """The parsed spec of a process, or why it cannot be built (asked once per process)."""
        # Cached: after a failure Spiff returns a half-built spec on the next call.
        if pid not in self._spec_cache:
            try:
                self._spec_cache[pid] = (self.parser.get_spec(pid), None)
            except ValidationException as ve:
                self._spec_cache[pid] = (None, ve)
            except Exception as exc:  # noqa: BLE001 - defensive: report, never crash the deployment
                pp = self.parser.get_process_parser(pid)
                wrapped = ValidationException(f"{type(exc).__name__}: {exc}",
                                              file_name=getattr(pp, "filename", None) or "")
                self._spec_cache[pid] = (None, wrapped)
        return self._spec_cache[pid]

    def file_of(self, pid: str) -> str | None:
        """The file a process was parsed from."""
        pp = self.parser.get_process_parser(pid)
        return getattr(pp, "filename", None) if pp is not None else None

    def owner(self, pid: str) -> str | None:
        """The top-level process an embedded subprocess belongs to (itself for a top-level one)."""
        pp = self.parser.get_process_parser(pid)
        while pp is not None and pp.parent is not None:
            pp = pp.parent
        return pp.bpmn_id if pp is not None else None

    def is_library_file(self, filename: str | None) -> bool:
        """A deployed file the bundle does not replace."""
        return filename is not None and filename not in self.docs and filename in self.lib_docs

    def file_bytes(self, filename: str | None) -> bytes | None:
        """The content of a bundle or library file."""
        if filename is None:
            return None
        if filename in self.docs:
            return self.docs[filename].data
        if filename in self.lib_docs:
            return self.lib_docs[filename].data
        return None
