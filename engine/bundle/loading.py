"""Reading a bundle's files and handing them to SpiffWorkflow: the bundle's own, then the deployed
files (the library) its processes call, transitively.

Bundle problems are reported on the context; a library file that cannot be used only remembers why
(``Doc.unusable``), reported when a bundle process needs it.
"""
from __future__ import annotations

import copy
import threading
from typing import Any

from lxml import etree
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.dmn.parser.BpmnDmnParser import SCHEMAS as DMN_SCHEMAS
from SpiffWorkflow.spiff.parser.process import VALIDATOR, SpiffBpmnParser

from .context import BundleContext, ve_message
from .forms import load_json
from .model import BundleError
from .xml import BPMN_NS, NS, Doc, is_executable, is_plain_name, kind_of, parse_xml

#: XSD errors reported per file; past this the rest are almost always consequences of the first.
MAX_SCHEMA_ERRORS_PER_FILE = 20
# Spiff's shared XSD validator keeps its error log on the instance: serialize its use across threads.
_VALIDATOR_LOCK = threading.Lock()
_SPIFF_RESERVED_IDS = frozenset({"Start", "End"})


# -- reading the files -----------------------------------------------------------------------------------

def _accept_file(ctx: BundleContext, name: Any, content: Any) -> int:
    """Keep one bundle file if its name, type and size allow; returns its size (0 when refused)."""
    if not isinstance(name, str) or not is_plain_name(name):
        ctx.error(str(name), None, "file names must be plain names: no directories, no leading or trailing spaces")
        return 0
    if not isinstance(content, bytes | bytearray | memoryview):
        ctx.error(name, None, "file content must be bytes")
        return 0
    data = bytes(content)
    kind = kind_of(name)
    if kind is None:
        ctx.error(name, None, "unsupported file type: expected .bpmn, .bpmn20.xml, .dmn or .json")
    elif len(data) > ctx.max_file_bytes:
        ctx.error(name, None, f"file is {len(data)} bytes, over the limit of {ctx.max_file_bytes}")
    else:
        ctx.docs[name] = Doc(name, kind, data)
    return len(data)


def load_bundle_files(ctx: BundleContext) -> bool:
    """Check names, types and sizes, then parse each file; False if nothing more can be done."""
    if not ctx.files:
        ctx.error(None, None, "the bundle is empty")
        return False
    total = sum(_accept_file(ctx, name, content) for name, content in ctx.files.items())
    if total > ctx.max_bundle_bytes:
        # Do not spend CPU on a bundle that is refused anyway.
        ctx.error(None, None, f"bundle is {total} bytes, over the limit of {ctx.max_bundle_bytes}")
        return False
    for doc in ctx.docs.values():
        _parse_doc(ctx, doc, report=True)
    _index_bundle(ctx)
    return True


def _read_bpmn(doc: Doc, root: etree._Element) -> tuple[list[BundleError], bool]:
    """Problems of a BPMN file's root and ids, and whether it is usable at all."""
    qname = etree.QName(root)
    if qname.namespace != BPMN_NS or qname.localname != "definitions":
        return [BundleError(doc.name, None, f"not a BPMN 2.0 document (root element is {root.tag})")], False
    problems = []
    for process in root.xpath("./bpmn:process", namespaces=NS):
        pid = process.get("id")
        if not pid:
            continue  # the XSD check reports it
        for element in process.xpath(".//*[@id]"):
            element_id = element.get("id")
            if element_id in _SPIFF_RESERVED_IDS or element_id.endswith(".EndJoin"):
                # SpiffWorkflow names its own start/end tasks so; an element with such an id
                # silently replaces them and the process cannot run ("No output task connected").
                problems.append(BundleError(doc.name, element_id, f"the id '{element_id}' is reserved by "
                                            "SpiffWorkflow's internal tasks; rename it", element.sourceline))
        doc.process_ids.append(pid)
        if is_executable(process):
            doc.executable_ids.append(pid)
    return problems, True


def _read_dmn(doc: Doc, root: etree._Element) -> tuple[list[BundleError], bool]:
    """Problems of a DMN file: SpiffWorkflow reads exactly one decision per file."""
    qname = etree.QName(root)
    if qname.namespace not in DMN_SCHEMAS or qname.localname != "definitions":
        supported = ", ".join(sorted(DMN_SCHEMAS))
        return [BundleError(doc.name, None, f"not a supported DMN document (namespace "
                                            f"{qname.namespace!r}; supported: {supported})")], False
    decisions = root.xpath("./dmn:decision", namespaces={"dmn": qname.namespace})
    if len(decisions) != 1:
        return [BundleError(doc.name, None, f"a DMN file must hold exactly one decision (SpiffWorkflow reads one "
                                            f"per file); found {len(decisions)}")], False
    decision_id = decisions[0].get("id")
    if not decision_id:
        return [BundleError(doc.name, None, "the decision has no id")], False
    doc.decision_ids.append(decision_id)
    return [], True


def _parse_doc(ctx: BundleContext, doc: Doc, *, report: bool) -> None:
    """Parse one file; bundle problems are reported, library problems only remembered."""

    def problem(err: BundleError) -> None:
        if report:
            ctx.report(err)
        else:
            doc.unusable = str(err)

    if doc.kind == "json":
        if not doc.library:  # library forms are taken as deployed
            doc.json, err = load_json(doc.data, doc.name)
            doc.json_ok = err is None
            if err is not None:
                problem(err)
        return
    root, err = parse_xml(doc.data, doc.name, ctx.max_file_bytes)
    if root is None:
        problem(err or BundleError(doc.name, None, "not well-formed XML"))
        return
    problems, usable = (_read_bpmn if doc.kind == "bpmn" else _read_dmn)(doc, root)
    for found in problems:
        problem(found)
    if usable:
        doc.root = root


def _index_bundle(ctx: BundleContext) -> None:
    """Process and decision ids must be unique across the bundle."""
    process_owner: dict[str, str] = {}
    decision_owner: dict[str, str] = {}
    for doc in ctx.docs.values():
        for ids, owner, files, what in ((doc.process_ids, process_owner, ctx.bundle_process_files, "process"),
                                        (doc.decision_ids, decision_owner, ctx.bundle_decision_files, "decision")):
            for element_id in ids:
                if element_id in owner:
                    ctx.error(doc.name, element_id,
                              f"{what} id '{element_id}' is already defined in '{owner[element_id]}'")
                    doc.root = None  # Spiff would refuse the duplicate half-way through the file
                else:
                    owner[element_id] = doc.name
                    files[element_id] = doc.name
    for doc in ctx.docs.values():
        if doc.root is None:
            doc.executable_ids = []


def load_library(ctx: BundleContext) -> None:
    bundle_process_ids = {pid for doc in ctx.docs.values() for pid in doc.process_ids}
    bundle_decision_ids = {did for doc in ctx.docs.values() for did in doc.decision_ids}
    for name, data in ctx.library.items():
        if name in ctx.docs or name in ctx.files:
            continue  # the bundle's file of that name replaces the deployed one
        kind = kind_of(name) if isinstance(name, str) else None
        if kind is None or not isinstance(data, bytes | bytearray | memoryview):
            continue
        doc = Doc(name, kind, bytes(data), library=True)
        ctx.lib_docs[name] = doc
        if len(doc.data) > ctx.max_file_bytes:
            doc.unusable = f"file is {len(doc.data)} bytes, over the limit of {ctx.max_file_bytes}"
            continue
        _parse_doc(ctx, doc, report=False)
        for pid in doc.process_ids:
            if pid not in bundle_process_ids:
                ctx.lib_process_index.setdefault(pid, doc)
        for did in doc.decision_ids:
            if did not in bundle_decision_ids:
                ctx.lib_decision_index.setdefault(did, doc)


# -- handing documents to Spiff ------------------------------------------------------------------------

def _xsd_errors(doc: Doc) -> list[BundleError]:
    """All XSD violations of a BPMN file (Spiff's own check stops at the last one)."""
    assert doc.root is not None
    with _VALIDATOR_LOCK:
        VALIDATOR.preprocess(doc.root)
        schema = VALIDATOR.validator
        if schema.validate(doc.root):
            return []
        entries = list(schema.error_log)
    found = [BundleError(doc.name, None, f"BPMN schema: {entry.message}", entry.line or None)
             for entry in entries[:MAX_SCHEMA_ERRORS_PER_FILE]]
    more = len(entries) - MAX_SCHEMA_ERRORS_PER_FILE
    if more > 0:
        found.append(BundleError(doc.name, None, f"... and {more} more schema errors"))
    return found


def _builds_without_schema(doc: Doc) -> bool:
    """Whether SpiffWorkflow builds every executable process of a schema-invalid file by itself.

    spiff-arena (and bpmn-js) save models the XSD refuses for things the engine never reads (a
    ``label`` on ``bpmndi:BPMNPlane``, a data object id starting with a digit): such files deploy with
    the schema errors as warnings. Anything SpiffWorkflow cannot build stays refused by the schema.
    """
    assert doc.root is not None
    trial = SpiffBpmnParser()
    try:
        trial.add_bpmn_xml(copy.deepcopy(doc.root), filename=doc.name)
        for pid in doc.executable_ids:
            trial.get_spec(pid)
    except Exception:  # noqa: BLE001 - any failure means: keep the schema's verdict
        return False
    return True


def _add_to_spiff(ctx: BundleContext, doc: Doc, *, validate: bool = True) -> Exception | None:
    assert doc.root is not None
    try:
        with _VALIDATOR_LOCK:
            if doc.kind == "bpmn" and not validate:
                validator, ctx.parser.validator = ctx.parser.validator, None
                try:
                    ctx.parser.add_bpmn_xml(doc.root, filename=doc.name)
                finally:
                    ctx.parser.validator = validator
            elif doc.kind == "bpmn":
                ctx.parser.add_bpmn_xml(doc.root, filename=doc.name)
            else:
                ctx.parser.add_dmn_xml(doc.root, filename=doc.name)
        if doc.kind == "dmn":
            # Spiff parses decisions lazily; parse now so errors point at the DMN file.
            for did in doc.decision_ids:
                ctx.parser.dmn_parsers[did].parse()
    except ValidationException as ve:
        return ve
    except Exception as exc:  # noqa: BLE001 - Spiff raises KeyError & co. on some malformed models
        return exc
    doc.added = True
    return None


def add_bundle_documents(ctx: BundleContext) -> None:
    for doc in ctx.docs.values():
        if doc.root is None or doc.kind == "json":
            continue
        xsd_errors = _xsd_errors(doc) if doc.kind == "bpmn" else []
        tolerated = bool(xsd_errors) and _builds_without_schema(doc)
        for err in xsd_errors:
            if tolerated:
                ctx.warn(err.file, err.element_id, f"{err.message} (SpiffWorkflow runs the model anyway: "
                                                   f"deployed as it is)", err.line)
            else:
                ctx.report(err)
        if xsd_errors and not tolerated:
            continue
        problem = _add_to_spiff(ctx, doc, validate=not xsd_errors)
        if isinstance(problem, ValidationException):
            ctx.error_from_ve(problem, doc.name)
        elif problem is not None:
            ctx.error(doc.name, None, f"{type(problem).__name__}: {problem}")


def _take_pending(ctx: BundleContext, processes: set[str], decisions: set[str]) -> Doc | None:
    """The library file defining the next process or decision the bundle needs and Spiff lacks."""
    if processes:
        pid = processes.pop()
        return None if pid in ctx.parser.process_parsers else ctx.lib_process_index.get(pid)
    did = decisions.pop()
    return None if did in ctx.parser.dmn_parsers else ctx.lib_decision_index.get(did)


def _add_library_doc(ctx: BundleContext, doc: Doc) -> bool:
    """Hand a deployed file to Spiff; when it cannot be used, remember why instead."""
    clashes = [pid for pid in doc.process_ids if pid in ctx.parser.process_parsers]
    clashes += [did for did in doc.decision_ids if did in ctx.parser.dmn_parsers]
    if clashes:
        doc.unusable = (f"it also defines {', '.join(repr(c) for c in clashes)}, which the bundle "
                        f"defines again; deploy those together")
        return False
    problem = _add_to_spiff(ctx, doc)
    if isinstance(problem, ValidationException):
        doc.unusable = ve_message(problem)
    elif problem is not None:
        doc.unusable = f"{type(problem).__name__}: {problem}"
    return problem is None


def resolve_library(ctx: BundleContext) -> None:
    """Add the library files the bundle needs, transitively, and nothing else."""
    processes: set[str] = set()
    decisions: set[str] = set()
    for doc in ctx.docs.values():
        if doc.added and doc.kind == "bpmn":
            processes |= doc.called_elements()
            decisions |= doc.decision_refs()
    while processes or decisions:
        needed = _take_pending(ctx, processes, decisions)
        if needed is None or needed.added or needed.unusable or needed.root is None:
            continue
        if _add_library_doc(ctx, needed) and needed.kind == "bpmn":
            processes |= needed.called_elements()
            decisions |= needed.decision_refs()
