"""The MoU document (ecvet/documents/mou.py): every field of the European template that partners approve
is printed: each organisation's telephone, Erasmus+ OID and PIC and its area of competence, the other
organisations covered with their duties, the units with their description and learning outcomes."""
from __future__ import annotations

import io
from typing import Any

import pypdf
import pytest

from ecvet.documents import pdf, service
from ecvet.documents.model import Document
from ecvet.partnership import mou
from engine.db import Database
from engine.errors import Invalid
from tests.support.ecvet_factories import Party, make_party, mou_content
from tests.support.factories import make_org


def _content(school: Party, hotel: Party, chamber_id: int) -> dict[str, Any]:
    content = mou_content(school, hotel, countries=("DE", "ES"))
    first, second = content["signing_organisations"]
    first.update(phone="+49 221 555 0100", competence="Vocational school: assesses and validates units")
    second.update(phone="+34 96 555 0100", erasmus_oid="E20000002", pic="920000002",
                  competence="Training company: provides the learning activities and assesses")
    content["other_organisations"] = [{"organisation_id": chamber_id, "name": "IHK Köln", "country": "DE",
                                       "role": "competent institution", "phone": "+49 221 555 0300",
                                       "duties": "Recognises the validated units"}]
    content["qualifications"][0]["units"][0].update(
        description="Cold kitchen from mise en place to service",
        learning_outcomes=[{"kind": "skills", "text": "Prepares cold starters to recipe"}, "Runs the station"])
    return content


def _document(db: Database) -> Document:
    school = make_party(db, "DE", "Berufskolleg Rhein")
    hotel = make_party(db, "ES", "Hotel Sol")
    chamber = make_org(db, country="DE", name="IHK Köln", erasmus_oid="E20000003", pic="920000003")
    with db.transaction() as s:
        memorandum = mou.create_draft(s, actor=school.actor, sending_organisation_id=school.org_id,
                                      content=_content(school, hotel, chamber.id))
        return service.build(s, actor=school.actor, kind="mou", record_id=memorandum.id)


def _fields(document: Document, heading: str) -> dict[str, str]:
    return {label: value for s in document.sections if s.heading == heading for label, value in s.fields}


def _rows(document: Document, heading: str) -> list[list[str]]:
    return [row for s in document.sections if s.heading == heading and s.table for row in s.table.rows]


def test_organisations_print_telephone_identifiers_and_competence(db: Database) -> None:
    document = _document(db)
    hotel = _fields(document, "Signing organisation 2")
    assert (hotel["Telephone"], hotel["Erasmus+ OID"], hotel["PIC"]) == ("+34 96 555 0100", "E20000002", "920000002")
    assert hotel["Area of competence in its country"].startswith("Training company: provides")
    assert _fields(document, "Signing organisation 1")["Telephone"] == "+49 221 555 0100"
    other = _rows(document, "Other organisations covered")
    assert other[0][3] == "E20000003; 920000003", "identifiers of the registered organisation when the text has none"
    assert (other[0][5], other[0][7]) == ("+49 221 555 0300", "Recognises the validated units")


def test_units_print_description_and_learning_outcomes(db: Database) -> None:
    document = _document(db)
    unit = _rows(document, "Qualification 1: Cook")[0]
    assert unit[4:] == ["Cold kitchen from mise en place to service",
                        "Skills: Prepares cold starters to recipe; Runs the station"]
    reader = pypdf.PdfReader(io.BytesIO(pdf.render(document)))
    printed = "".join("".join(page.extract_text() for page in reader.pages).split())
    for value in ("E20000002", "920000002", "+34965550100", "Recognisesthevalidatedunits", "Runsthestation"):
        assert value in printed


@pytest.mark.parametrize(("change", "field"), [
    ({"erasmus_oid": "12345"}, "signing_organisations.1.erasmus_oid"),
    ({"pic": "PIC"}, "signing_organisations.1.pic"),
])
def test_identifiers_are_checked(db: Database, change: dict[str, Any], field: str) -> None:
    school = make_party(db, "DE")
    hotel = make_party(db, "ES")
    content = mou_content(school, hotel, countries=("DE", "ES"))
    content["signing_organisations"][1].update(change)
    with pytest.raises(Invalid) as refused, db.transaction() as s:
        mou.create_draft(s, actor=school.actor, sending_organisation_id=school.org_id, content=content)
    assert field in refused.value.errors
