"""engine/bundle/xml.py: untrusted XML parsed safely (no DTD, no entities, no network, a size limit)."""
from __future__ import annotations

from pathlib import Path

import pytest

from engine.bundle import BundleInvalid, safe_parse_xml
from engine.bundle.xml import (
    NS,
    Doc,
    in_non_executable_process,
    is_plain_name,
    kind_of,
    owning_element_id,
    parse_xml,
)
from tests.support.bundles import BILLION_LAUGHS, SAMPLE, errors_of, sample_files


def test_invalid_xml_is_reported_with_file_and_line() -> None:
    broken = b'<?xml version="1.0"?>\n<bpmn:definitions xmlns:bpmn="x">\n<unclosed>\n</bpmn:definitions>'
    (error,) = errors_of({"broken.bpmn": broken})
    assert error.file == "broken.bpmn"
    assert error.message.startswith("not well-formed XML")
    assert error.line == 4


def test_billion_laughs_is_refused() -> None:
    (error,) = errors_of({"lol.bpmn": BILLION_LAUGHS})
    assert error.file == "lol.bpmn"
    assert error.message == "DOCTYPE and entity declarations are not allowed"
    with pytest.raises(BundleInvalid, match="DOCTYPE"):
        safe_parse_xml(BILLION_LAUGHS, "lol.bpmn")


def test_xxe_is_refused_and_nothing_is_read(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-9f2c")
    for target in (secret.as_uri(), "file:///etc/passwd"):
        xxe = (
            '<?xml version="1.0"?>\n'
            f'<!DOCTYPE bpmn:definitions [<!ENTITY xxe SYSTEM "{target}">]>\n'
            '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL">'
            "<bpmn:process id=\"p\"><bpmn:documentation>&xxe;</bpmn:documentation></bpmn:process>"
            "</bpmn:definitions>"
        ).encode()
        (error,) = errors_of({"xxe.bpmn": xxe})
        assert error.message == "DOCTYPE and entity declarations are not allowed"
        assert "TOP-SECRET" not in str(error)
        assert "root:" not in str(error)
        with pytest.raises(BundleInvalid) as info:
            safe_parse_xml(xxe, "xxe.bpmn")
        assert "TOP-SECRET" not in str(info.value)


def test_external_dtd_and_doctype_in_other_encodings_are_refused() -> None:
    external = b'<!DOCTYPE d SYSTEM "http://example.invalid/evil.dtd"><d/>'
    utf16 = '<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE d [<!ENTITY x "y">]><d>&x;</d>'.encode("utf-16")
    utf32 = '<?xml version="1.0" encoding="UTF-32"?><!DOCTYPE d [<!ENTITY x "y">]><d>&x;</d>'.encode("utf-32")
    for data in (external, utf16, utf32):
        with pytest.raises(BundleInvalid) as info:
            safe_parse_xml(data, "d.bpmn")
        assert [e.message for e in info.value.errors] == ["DOCTYPE and entity declarations are not allowed"]


def test_safe_parse_xml_returns_the_root_element() -> None:
    root = safe_parse_xml(SAMPLE.read_bytes(), "two_lane_review.bpmn")
    assert root.tag == "{http://www.omg.org/spec/BPMN/20100524/MODEL}definitions"


def test_oversized_file_is_refused_before_parsing() -> None:
    files = sample_files()
    errors = errors_of(files, max_file_bytes=len(files["two_lane_review.bpmn"]) - 1)
    oversized = [e for e in errors if e.file == "two_lane_review.bpmn"]
    assert len(oversized) == 1
    assert "over the limit" in oversized[0].message
    with pytest.raises(BundleInvalid, match="over the limit"):
        safe_parse_xml(b"<a>" + b" " * 100 + b"</a>", "a.bpmn", max_bytes=50)


@pytest.mark.parametrize(("name", "kind"), [("a.bpmn", "bpmn"), ("A.BPMN20.XML", "bpmn"), ("t.dmn", "dmn"),
                                            ("f.json", "json"), ("readme.md", None), ("bpmn", None)])
def test_the_kind_of_a_file_is_its_extension(name: str, kind: str | None) -> None:
    assert kind_of(name) == kind


@pytest.mark.parametrize(("name", "plain"), [("form.json", True), ("dir/form.json", False), ("..", False),
                                             (" form.json", False), ("a\\b.json", False), ("nul\0.json", False)])
def test_only_plain_file_names_are_plain(name: str, plain: bool) -> None:
    assert is_plain_name(name) is plain


def test_parse_xml_answers_instead_of_raising() -> None:
    root, error = parse_xml(b"<a/>", "a.bpmn", 100)
    assert root is not None
    assert error is None
    root, error = parse_xml(b"<a/>" * 100, "a.bpmn", 100)
    assert root is None
    assert error is not None
    assert "over the limit of 100" in error.message
    root, error = parse_xml("<a/>", "a.bpmn", 100)  # type: ignore[arg-type]
    assert root is None
    assert error is not None
    assert error.message == "file content must be bytes"


def test_an_expression_belongs_to_its_flow_element_and_lines_are_known() -> None:
    xml = (b'<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL">\n'
           b'<bpmn:process id="p" isExecutable="false">\n<bpmn:sequenceFlow id="f">\n'
           b'<bpmn:conditionExpression>x &gt; 1</bpmn:conditionExpression></bpmn:sequenceFlow>\n'
           b'<bpmn:callActivity id="c" calledElement="other"/></bpmn:process></bpmn:definitions>')
    root = safe_parse_xml(xml, "p.bpmn")
    (condition,) = root.xpath(".//bpmn:conditionExpression", namespaces=NS)
    assert owning_element_id(condition) == "f"
    assert in_non_executable_process(condition)
    doc = Doc("p.bpmn", "bpmn", xml, root=root)
    assert (doc.line_of("p"), doc.line_of("f"), doc.line_of("nothing")) == (2, 3, None)
    assert doc.called_elements() == {"other"}
    assert doc.decision_refs() == set()
