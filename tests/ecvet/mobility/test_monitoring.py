"""Mobilities by destination country and status, seen through the Learning Agreement visibility rule."""
from __future__ import annotations

from datetime import date

from ecvet.mobility import monitoring
from ecvet.mobility.models import Learner, Mobility, MobilityStatus
from ecvet.national_models.models import CompetenceFunction
from ecvet.partnership.models import Mou, MouStatus
from engine.db import Database
from engine.parties import Actor
from tests.support.ecvet_factories import Party, make_party, register
from tests.support.engine import actor_for
from tests.support.factories import make_user


def _mobility(db: Database, sending: Party, hosting: Party, status: str, learner_user: int | None = None) -> int:
    with db.transaction() as s:
        mou = Mou(sending_organisation_id=sending.org_id, status=MouStatus.ACTIVE)
        learner = Learner(name="Lena Vos", date_of_birth=date(2005, 5, 5), email="lena@learner.example",
                          user_id=learner_user)
        s.add_all([mou, learner])
        s.flush()
        mobility = Mobility(learner_id=learner.id, mou_id=mou.id, sending_organisation_id=sending.org_id,
                            hosting_organisation_id=hosting.org_id, qualification_title="Cook",
                            start_date=date(2027, 3, 1), end_date=date(2027, 4, 9), status=status)
        s.add(mobility)
        s.flush()
        return mobility.id


def _counts(db: Database, actor: Actor) -> list[tuple[str, str, int]]:
    with db.transaction(write=False) as s:
        return [(r.country, r.status, r.count) for r in monitoring.mobilities_by_country(s, actor=actor)]


def test_mobilities_by_destination_country_and_status(db: Database) -> None:
    admin = actor_for(db, make_user(db, is_admin=True).id)
    school = make_party(db, "DE", "Berufskolleg")
    hotel_es, hotel_fr, other_school = make_party(db, "ES"), make_party(db, "FR"), make_party(db, "NL")
    learner = make_user(db)
    _mobility(db, school, hotel_es, MobilityStatus.LIVE)
    _mobility(db, school, hotel_es, MobilityStatus.NOMINATION)
    _mobility(db, school, hotel_es, MobilityStatus.LIVE)
    _mobility(db, other_school, hotel_fr, MobilityStatus.RECOGNIZED, learner_user=learner.id)

    assert _counts(db, admin) == [("ES", "nomination", 1), ("ES", "live", 2), ("FR", "recognized", 1)]
    assert _counts(db, school.actor) == [("ES", "nomination", 1), ("ES", "live", 2)]
    assert _counts(db, hotel_fr.actor) == [("FR", "recognized", 1)]
    assert _counts(db, actor_for(db, learner.id)) == [("FR", "recognized", 1)]
    assert _counts(db, actor_for(db, make_user(db).id)) == []


def test_competent_institution_sees_mobilities_sent_from_its_country(db: Database) -> None:
    school_nl, school_de, hotel = make_party(db, "NL"), make_party(db, "DE"), make_party(db, "BE")
    agency = make_party(db, "NL", "SBB")
    register(db, agency.org_id, "NL", CompetenceFunction.LA_APPROVAL)
    chamber = make_party(db, "DE", "IHK")
    register(db, chamber.org_id, "DE", CompetenceFunction.MOU_APPROVAL)  # not the LA function
    _mobility(db, school_nl, hotel, MobilityStatus.LIVE)
    _mobility(db, school_de, hotel, MobilityStatus.LIVE)

    assert _counts(db, agency.actor) == [("BE", "live", 1)]
    assert _counts(db, chamber.actor) == []
