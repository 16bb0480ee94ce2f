"""The learner's certificate (ecvet/documents/certificate.py): units recognised, points, implications and
the Europass credential of each unit, as a document and a PDF, in the partners' languages too."""
from __future__ import annotations

import io
from datetime import UTC, datetime

import pypdf
import pytest

from ecvet.documents import pdf, service
from ecvet.mobility.models import Mobility
from ecvet.partnership import letterhead
from engine.clock import FrozenClock
from engine.db import Database
from engine.errors import NotFound
from engine.models import Organisation
from tests.support.ecvet_worlds import LIFECYCLE_LEARNER, make_lifecycle_world

T0 = datetime(2027, 1, 11, 9, 0, tzinfo=UTC)


def test_the_certificate_lists_what_was_recognised(db: Database, frozen: FrozenClock) -> None:
    life = make_lifecycle_world(db, frozen, "implications")
    with db.transaction(write=False) as s:
        learner_id = s.get_one(Mobility, life.mobility_id).learner_id
        document = service.build(s, actor=life.learner, kind="certificate", record_id=learner_id)
        german = service.build(s, actor=life.learner, kind="certificate", record_id=learner_id, languages=("de",))
        with pytest.raises(NotFound):
            service.build(s, actor=life.outsider.actor, kind="certificate", record_id=learner_id)
    assert (document.title, document.subtitle) == ("Certificate of learning achievements", LIFECYCLE_LEARNER)
    units = [s for s in document.sections if s.heading == "Units recognised and awarded"][0]
    assert dict(units.fields)["Total ECVET points"] == "14"
    assert units.table is not None
    assert [row[0] for row in units.table.rows] == ["U1", "U2"]
    assert units.table.rows[0][-1].startswith("urn:ecvet-flow:credential:")
    assert german.title == "Nachweis der Lernergebnisse"
    reader = pypdf.PdfReader(io.BytesIO(pdf.render(document)))
    printed = "".join("".join(page.extract_text() for page in reader.pages).split())
    assert "Certificateoflearningachievements" in printed
    assert "".join(LIFECYCLE_LEARNER.split()) in printed


def test_the_recognising_organisation_issues_the_certificate_on_its_letterhead(db: Database,
                                                                                frozen: FrozenClock) -> None:
    life = make_lifecycle_world(db, frozen, "implications")
    with db.transaction() as s:
        letterhead.save(s, actor=life.sending.actor, organisation_id=life.sending.org_id,
                        address="Náměstí Míru 7\n120 00 Praha")
    with db.transaction(write=False) as s:
        learner_id = s.get_one(Mobility, life.mobility_id).learner_id
        document = service.build(s, actor=life.learner, kind="certificate", record_id=learner_id)
        head = service.letterhead_of(s, document)
        school = s.get_one(Organisation, life.sending.org_id).name
    assert document.issuer_organisation_id == life.sending.org_id  # the school recognised every unit
    assert head is not None
    assert (head.name, head.address) == (school, "Náměstí Míru 7\n120 00 Praha")
    reader = pypdf.PdfReader(io.BytesIO(pdf.render(document, letterhead=head)))
    first = "".join(reader.pages[0].extract_text().split())
    assert "NáměstíMíru7" in first
    assert "".join(school.split()) in first
