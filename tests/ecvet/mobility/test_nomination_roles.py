"""Nomination under a multilateral MoU respects each partner's MoU role (a "sending" partner never hosts,
a "hosting" one never sends), and the role map every party confirmed picks the competent institutions
a nomination leaves open (ecvet/mobility/nomination.py, ecvet/partnership/roles.py)."""
from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import func, select

import ecvet.mobility.workflow  # noqa: F401  (registers the actions and connectors, as the app and worker do)
from ecvet.mobility import nomination
from ecvet.mobility.models import Mobility
from ecvet.national_models.models import CompetenceFunction
from ecvet.partnership import approvals, mou, roles
from ecvet.partnership.models import MouStatus, Partnership
from engine import deployments
from engine.config import ROOT
from engine.db import Database
from engine.errors import Forbidden, Invalid
from tests.support.ecvet_factories import (
    MOBILITY_UNITS,
    SIGNER,
    Party,
    active_mou,
    make_party,
    mou_content,
    register,
)
from tests.support.factories import make_user

T0 = datetime(2027, 1, 11, 9, 0, tzinfo=UTC)


def deploy(db: Database) -> None:
    files = {"mobility.bpmn": (ROOT / "processes" / "mobility.bpmn").read_bytes(),
             "national_models.dmn": (ROOT / "processes" / "national_models.dmn").read_bytes()}
    with db.transaction() as s:
        deployments.deploy(s, actor=None, files=files, forms_dir=ROOT / "forms")


def mou_in_force(db: Database, signing: list[tuple[Party, str, str]]) -> int:
    """A MoU in force signed by every (party, country, role), the first being its sending organisation."""
    content = mou_content(*(p for p, _, _ in signing), countries=tuple(c for _, c, _ in signing), qualifications=[{
        "title": "Cook", "country": signing[0][1], "eqf_level": 4, "nqf_level": "4", "ecvet_points": 180,
        "units": copy.deepcopy(MOBILITY_UNITS)}])
    for org, (_, _, role) in zip(content["signing_organisations"], signing, strict=True):
        org["role"] = role
    sending = signing[0][0]
    with db.transaction() as s:
        memorandum = mou.create_draft(s, actor=sending.actor, sending_organisation_id=sending.org_id, content=content)
        approvals.submit(s, actor=sending.actor, mou_id=memorandum.id)
        digest = mou.current_version(memorandum).content_hash
        for party, _, _ in signing:
            approvals.approve(s, actor=party.actor, mou_id=memorandum.id, content_hash=digest, signer=SIGNER,
                              organisation_id=party.org_id)
        assert memorandum.status == MouStatus.ACTIVE
        return memorandum.id


def nominate(db: Database, sender: Party, mou_id: int, host: Party, **extra: Any) -> Mobility:
    learner = {"name": "Lena Vos", "date_of_birth": "2004-05-05", "email": make_user(db).email}
    with db.transaction() as s:
        mobility = nomination.nominate(
            s, actor=extra.pop("actor", sender.actor), mou_id=mou_id, hosting_organisation_id=host.org_id,
            qualification_title="Cook", start_date="2027-03-01", end_date="2027-04-09", learner=learner, **extra)
        s.expunge(mobility)
        return mobility


def mobilities(db: Database) -> int:
    with db.transaction(write=False) as s:
        return s.scalars(select(func.count(Mobility.id))).one()


@pytest.mark.usefixtures("frozen")
def test_a_sending_only_partner_is_never_the_host_and_a_hosting_only_one_never_sends(db: Database) -> None:
    deploy(db)
    school, hotel = make_party(db, "NL", "School"), make_party(db, "BE", "Hotel")
    other_school, college = make_party(db, "NL", "Other school"), make_party(db, "BE", "College")
    mou_id = mou_in_force(db, [(school, "NL", "sending"), (hotel, "BE", "hosting"),
                               (other_school, "NL", "sending"), (college, "BE", "both")])
    with db.transaction(write=False) as s:
        terms = nomination.nomination_terms(s, actor=school.actor, mou_id=mou_id)
        assert [o.id for o in terms.hosting] == [hotel.org_id, college.org_id], "the form offers hosts only"
    with pytest.raises(Invalid) as refused:
        nominate(db, school, mou_id, other_school)
    assert refused.value.status == 422
    assert refused.value.errors["hosting_organisation_id"] == [
        "Under the MoU this partner only sends learners: choose one whose role is hosting or both"]
    assert mobilities(db) == 0, "nothing stored"
    assert nominate(db, school, mou_id, hotel).hosting_organisation_id == hotel.org_id
    assert nominate(db, school, mou_id, college).hosting_organisation_id == college.org_id, "both: may host"
    # A hosting-only partner does not send under the MoU: it cannot nominate learners under it.
    with pytest.raises(Forbidden):
        nominate(db, school, mou_id, college, actor=hotel.actor)
    # A later period with a sending-only partner is refused too; with a "both" partner it is fine.
    def periods(second: Party) -> list[dict[str, Any]]:
        return [{"hosting_organisation_id": hotel.org_id, "start_date": "2027-03-01", "end_date": "2027-03-19",
                 "units": ["U1"]},
                {"hosting_organisation_id": second.org_id, "start_date": "2027-03-20", "end_date": "2027-04-09",
                 "units": ["U2"]}]
    with pytest.raises(Invalid) as period:
        nominate(db, school, mou_id, hotel, periods=periods(other_school))
    assert period.value.errors == {"periods.1.hosting_organisation_id": ["A hosting partner that signed the MoU"]}
    assert mobilities(db) == 2
    assert len(nominate(db, school, mou_id, hotel, periods=periods(college)).periods) == 2


@pytest.mark.usefixtures("frozen")
def test_a_sender_whose_mou_role_is_hosting_does_not_nominate(db: Database) -> None:
    deploy(db)
    school, hotel, college = make_party(db, "NL", "School"), make_party(db, "BE", "Hotel"), \
        make_party(db, "BE", "College")
    mou_id = mou_in_force(db, [(school, "NL", "hosting"), (hotel, "BE", "both"), (college, "BE", "both")])
    with pytest.raises(Invalid) as refused:
        nominate(db, school, mou_id, hotel)
    assert refused.value.errors["mou_id"] == [
        "Under this MoU your organisation only hosts learners: it does not send them"]
    assert mobilities(db) == 0


def confirm_all(db: Database, partnership_id: int, parties: list[Party]) -> None:
    with db.transaction() as s:
        role_map = roles.current(s, partnership_id)
        assert role_map is not None
        for party in parties:
            roles.confirm(s, actor=party.actor, partnership_id=partnership_id, role_map_id=role_map.id,
                          jurisdiction="Within ours: what the map gives us")


@pytest.mark.usefixtures("frozen")
def test_the_confirmed_role_map_names_the_competent_institutions_a_nomination_leaves_open(db: Database) -> None:
    deploy(db)
    school, hotel = make_party(db, "DE", "Berufskolleg"), make_party(db, "NL", "Hotel")
    chamber, crafts = make_party(db, "DE", "IHK"), make_party(db, "DE", "HWK")
    authority = make_party(db, "NL", "SBB")
    register(db, chamber.org_id, "DE")
    for org in (chamber, crafts):
        register(db, org.org_id, "DE", CompetenceFunction.RECOGNITION)
    register(db, authority.org_id, "NL", CompetenceFunction.LA_APPROVAL)
    mou_id = active_mou(db, school, hotel, countries=("DE", "NL"), competent_institution=chamber)
    with db.transaction() as s:
        partnership = Partnership(sending_organisation_id=school.org_id, hosting_organisation_id=hotel.org_id,
                                  mou_id=mou_id)
        s.add(partnership)
        s.flush()
        holders = {f: {"home": {"organisation_id": school.org_id}, "host": {"organisation_id": hotel.org_id}}
                   for f in CompetenceFunction.ALL}
        holders[CompetenceFunction.RECOGNITION]["home"] = {"organisation_id": crafts.org_id}
        holders[CompetenceFunction.LA_APPROVAL]["host"] = {"organisation_id": authority.org_id}
        roles.save(s, actor=school.actor, partnership=partnership, functions=holders)
        pid = partnership.id
        assert set(roles.confirming_parties(s, partnership)) == {school.org_id, hotel.org_id, chamber.org_id}
    confirm_all(db, pid, [school, hotel])
    with pytest.raises(Invalid, match="say which"):  # not confirmed by every party: the map routes nothing
        nominate(db, school, mou_id, hotel)
    confirm_all(db, pid, [chamber])
    mobility = nominate(db, school, mou_id, hotel)
    assert mobility.competent_institution_home_id == crafts.org_id, "recognition: the map's, registered"
    assert mobility.competent_institution_host_id == authority.org_id, "host LA approval: the map's"
    named = nominate(db, school, mou_id, hotel, competent_institution_home_id=chamber.org_id)
    assert named.competent_institution_home_id == chamber.org_id, "what the school names wins"
