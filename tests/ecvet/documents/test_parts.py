"""Shared pieces of documents (ecvet/documents/parts.py): how a learning outcome and a sector are printed."""
from __future__ import annotations

from ecvet.documents import i18n
from ecvet.documents.parts import outcome_line, sector_label

ESCO = "http://data.europa.eu/esco/skill/0b5d7a2c-1f4e-4c8a-9f3d-2e6b8a7c5d41"


def test_an_outcome_prints_its_kind_and_its_esco_skill_where_known() -> None:
    assert outcome_line({"kind": "skills", "text": "Plates starters", "esco_skill": ESCO}) == (
        f"Skills: Plates starters (ESCO {ESCO})")
    assert outcome_line({"kind": "knowledge", "text": "Knows HACCP"}) == "Knowledge: Knows HACCP"
    assert outcome_line("Plates starters") == "Plates starters"


def test_a_sector_prints_as_its_label_in_the_documents_language_never_its_code() -> None:
    assert sector_label("hospitality") == "Hotel, restaurants and catering"
    assert sector_label("social_care") == "Social work and care"
    assert sector_label(None) is None
    assert i18n.say(sector_label("hospitality") or "", ("de", "en")) == \
        "Hotel- und Gaststättengewerbe / Hotel, restaurants and catering"
