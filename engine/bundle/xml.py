"""Untrusted XML, parsed safely: no DTDs, no entities, no network, a size limit; and reading it back.

XML reaches lxml only through :func:`safe_parse_xml` or :func:`parse_xml`, and SpiffWorkflow only ever
receives the parsed element, never raw text. :class:`Doc` is one file of a bundle as the parser reads
it (its ids, lines, called processes and decisions).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from lxml import etree
from SpiffWorkflow.dmn.parser.BpmnDmnParser import SCHEMAS as DMN_SCHEMAS
from SpiffWorkflow.spiff.parser.task_spec import BusinessRuleTaskParser

from .model import BundleError, BundleInvalid

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
SPIFF_NS = "http://spiffworkflow.org/bpmn/schema/1.0/core"
NS = {"bpmn": BPMN_NS, "spiffworkflow": SPIFF_NS}

DEFAULT_MAX_FILE_BYTES = 5_000_000
DEFAULT_MAX_BUNDLE_BYTES = 20_000_000

_BPMN_SUFFIXES = (".bpmn20.xml", ".bpmn")
# Markers refused before lxml sees the bytes, in the encodings XML allows without a declaration.
_DTD_MARKERS = tuple(
    marker.encode(encoding)
    for marker in ("<!DOCTYPE", "<!ENTITY")
    for encoding in ("utf-8", "utf-16-le", "utf-16-be")
)
_DTD_MESSAGE = "DOCTYPE and entity declarations are not allowed"
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


def readable(message: str) -> str:
    """A parser's message with namespaces written as the prefixes modellers know."""
    for clark, prefix in _PREFIXES.items():
        message = message.replace(clark, prefix)
    return message.strip()


def safe_parse_xml(data: bytes, filename: str, *, max_bytes: int = DEFAULT_MAX_FILE_BYTES) -> etree._Element:
    """Parse untrusted XML without entity expansion, DTDs or network access; return the root element.

    Raises :class:`BundleInvalid` (one error) when the document is too big, declares a DOCTYPE or
    entities (billion laughs, XXE), or is not well-formed.
    """
    root, error = parse_xml(data, filename, max_bytes)
    if error is not None:
        raise BundleInvalid([error])
    assert root is not None
    return root


def _hardened_parser() -> etree.XMLParser:
    # A parser per document: lxml parsers hold per-parse state and are cheap to build.
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        dtd_validation=False,
        load_dtd=False,
        huge_tree=False,
    )


def _refusal(data: Any, filename: str, max_bytes: int) -> BundleError | None:
    """What is wrong with the bytes before any parser reads them."""
    if not isinstance(data, bytes | bytearray | memoryview):
        return BundleError(filename, None, "file content must be bytes")
    if len(data) > max_bytes:
        return BundleError(filename, None, f"file is {len(data)} bytes, over the limit of {max_bytes}")
    # Refuse DTDs before parsing: even without expansion, libxml2 would read the declarations.
    if any(marker in bytes(data) for marker in _DTD_MARKERS):
        return BundleError(filename, None, _DTD_MESSAGE)
    return None


def _lxml_parse(data: bytes, filename: str) -> tuple[etree._Element | None, BundleError | None]:
    try:
        root = etree.fromstring(data, _hardened_parser())
    except etree.XMLSyntaxError as exc:
        line = exc.lineno if isinstance(exc.lineno, int) and exc.lineno > 0 else None
        return None, BundleError(filename, None, f"not well-formed XML: {exc.msg}", line)
    except (ValueError, etree.LxmlError) as exc:
        return None, BundleError(filename, None, f"not well-formed XML: {exc}")
    if root is None:
        return None, BundleError(filename, None, "not well-formed XML: no root element")
    return root, None


def parse_xml(data: bytes, filename: str, max_bytes: int) -> tuple[etree._Element | None, BundleError | None]:
    """The root element, or why the bytes are refused (never both, never an exception)."""
    refused = _refusal(data, filename, max_bytes)
    if refused is not None:
        return None, refused
    root, error = _lxml_parse(bytes(data), filename)
    if root is None:
        return None, error
    docinfo = root.getroottree().docinfo
    # Belt and braces for encodings the byte scan cannot see (UTF-32, EBCDIC...).
    if docinfo.doctype or docinfo.internalDTD is not None or docinfo.externalDTD is not None:
        return None, BundleError(filename, None, _DTD_MESSAGE)
    return root, None


def is_plain_name(name: str) -> bool:
    """A file name without directories, NUL or surrounding spaces."""
    return (
        bool(name)
        and name not in {".", ".."}
        and not any(ch in name for ch in ("/", "\\", "\0"))
        and name == name.strip()
    )


def kind_of(name: str) -> str | None:
    """``bpmn``, ``dmn`` or ``json`` from a file's extension; None for anything else."""
    lowered = name.lower()
    if lowered.endswith(_BPMN_SUFFIXES):
        return "bpmn"
    if lowered.endswith(".dmn"):
        return "dmn"
    if lowered.endswith(".json"):
        return "json"
    return None


def is_executable(process: etree._Element) -> bool:
    """Same test as SpiffWorkflow's ProcessParser: absent means executable."""
    return bool(process.get("isExecutable", "true") == "true")


def in_non_executable_process(element: etree._Element) -> bool:
    """Whether the element belongs to a process that is only documentation."""
    for ancestor in element.iterancestors(f"{{{BPMN_NS}}}process"):
        return not is_executable(ancestor)
    return False


def owning_element_id(element: etree._Element) -> str | None:
    """Id of the flow element (task, event, sequence flow...) an expression belongs to."""
    node: etree._Element | None = element
    while node is not None:
        parent = node.getparent()
        element_id = node.get("id")
        if parent is not None and etree.QName(parent).localname in _CONTAINERS and element_id:
            return str(element_id)
        node = parent
    return None


def property_values(element: etree._Element, name: str) -> list[str]:
    """Values of the spiff extension property ``name`` of an element (a lane, a process)."""
    values = element.xpath(
        "./bpmn:extensionElements/spiffworkflow:properties/spiffworkflow:property[@name=$n]/@value",
        namespaces=NS,
        n=name,
    )
    return [str(value) for value in values]


@dataclass
class Doc:
    """One file of a bundle (or of the deployed library) as far as it could be read."""

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
        """The source line of the element with this id, for error messages."""
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
        """Ids of the processes its call activities call."""
        if self.root is None:
            return set()
        return {str(v) for v in self.root.xpath(".//bpmn:callActivity/@calledElement", namespaces=NS) if v}

    def decision_refs(self) -> set[str]:
        """Ids of the decisions its business rule tasks use."""
        if self.root is None:
            return set()
        refs = set()
        for task in self.root.xpath(".//bpmn:businessRuleTask", namespaces=NS):
            ref = BusinessRuleTaskParser.get_decision_ref(task)
            if ref:
                refs.add(ref)
        return refs
