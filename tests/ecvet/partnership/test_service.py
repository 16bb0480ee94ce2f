"""Starting a partnership (ecvet/partnership/service.py start_plan/start): four parties, defaults from the
registry of competent institutions and the national models, refusals that change nothing."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

import ecvet.partnership.workflow  # noqa: F401  (registers the actions and connectors, as the app and worker do)
from ecvet.national_models.models import CompetenceFunction
from ecvet.partnership import service
from engine.db import Database
from engine.errors import Conflict, Invalid
from engine.models import HumanTask, InstanceParty, ProcessInstance
from tests.support.ecvet_factories import Party, make_party, register
from tests.support.engine import actor_for
from tests.support.factories import make_user
from tests.support.partnership_driver import deploy


def bound(db: Database, instance_id: str) -> dict[str, int | None]:
    with db.transaction(write=False) as s:
        return {p.role: p.organisation_id for p in s.scalars(
            select(InstanceParty).where(InstanceParty.instance_id == instance_id))}


def instance_count(db: Database) -> int:
    with db.transaction(write=False) as s:
        return s.scalar(select(func.count(ProcessInstance.id))) or 0


@pytest.fixture
def world(db: Database) -> dict[str, Party]:
    deploy(db)
    parties = {"school": make_party(db, "DE", "Berufskolleg"), "hotel": make_party(db, "ES", "Hotel Sol"),
               "college": make_party(db, "NL", "Horeca College"), "chamber": make_party(db, "DE", "IHK"),
               "region": make_party(db, "ES", "Conselleria")}
    register(db, parties["chamber"].org_id, "DE", CompetenceFunction.MOU_APPROVAL)
    register(db, parties["chamber"].org_id, "DE", CompetenceFunction.RECOGNITION)
    register(db, parties["region"].org_id, "ES", CompetenceFunction.MOU_APPROVAL)
    return parties


def test_defaults_come_from_the_national_models_and_the_registry(db: Database, world: dict[str, Party]) -> None:
    school, hotel, college = world["school"], world["hotel"], world["college"]
    with db.transaction(write=False) as s:
        plan = service.start_plan(s, actor=school.actor, sending_organisation_id=school.org_id,
                                       hosting_organisation_id=hotel.org_id)
        home, host = plan.gates["home"], plan.gates["host"]
        assert (home.country, home.model.mou_approval, home.default_id) == ("DE", "explicit", world["chamber"].org_id)
        assert [c.organisation.id for c in home.choices] == [school.org_id, world["chamber"].org_id]
        assert home.choices[1].functions == ("mou_approval", "recognition")
        assert (host.country, host.model.mou_approval, host.default_id) == ("ES", "implicit", world["region"].org_id)
        nl = service.start_plan(s, actor=school.actor, sending_organisation_id=school.org_id,
                                     hosting_organisation_id=college.org_id).gates["host"]
        assert (nl.model.mou_approval, nl.default_id) == ("none", college.org_id), "NL: the school holds it"

    with db.transaction() as s:
        instance = service.start(s, actor=school.actor, sending_organisation_id=school.org_id,
                                      hosting_organisation_id=hotel.org_id, business_key="de-es")
        instance_id = instance.id
    assert bound(db, instance_id) == {"sending": school.org_id, "hosting": hotel.org_id,
                                      "competent-institution-home": world["chamber"].org_id,
                                      "competent-institution-host": world["region"].org_id}
    with db.transaction(write=False) as s:
        (task,) = s.scalars(select(HumanTask).where(HumanTask.instance_id == instance_id)).all()
        assert (task.bpmn_id, task.organisation_id) == ("describe_sending", school.org_id)
        assert s.get_one(ProcessInstance, instance_id).business_key == "de-es"


def test_a_required_approver_cannot_be_replaced_by_the_partner(db: Database, world: dict[str, Party]) -> None:
    school, hotel = world["school"], world["hotel"]
    with pytest.raises(Invalid) as refused, db.transaction() as s:
        service.start(s, actor=school.actor, sending_organisation_id=school.org_id,
                           hosting_organisation_id=hotel.org_id, competent_institution_home_id=school.org_id,
                           competent_institution_host_id=world["chamber"].org_id)
    assert set(refused.value.errors) == {"competent_institution_home_id", "competent_institution_host_id"}
    assert "IHK" in refused.value.errors["competent_institution_home_id"][0]
    assert instance_count(db) == 0


def test_nobody_registered_where_the_model_requires_approval_is_said_before_anything_starts(db: Database) -> None:
    """A German school whose chamber nobody registered: the MoU could never be approved, so the
    partnership does not start (and the message says what to do)."""
    deploy(db)
    school, college = make_party(db, "DE", "Berufskolleg"), make_party(db, "NL", "Horeca College")
    with pytest.raises(Invalid) as refused, db.transaction() as s:
        service.start(s, actor=school.actor, sending_organisation_id=school.org_id,
                           hosting_organisation_id=college.org_id)
    assert set(refused.value.errors) == {"competent_institution_home_id"}
    assert "none is registered for DE" in refused.value.errors["competent_institution_home_id"][0]
    assert instance_count(db) == 0


def test_partners_in_one_country_share_the_home_institution(db: Database, world: dict[str, Party]) -> None:
    hotel = world["hotel"]
    escuela = make_party(db, "ES", "Escuela")
    with db.transaction() as s:
        instance_id = service.start(s, actor=escuela.actor, sending_organisation_id=escuela.org_id,
                                         hosting_organisation_id=hotel.org_id).id
    assert bound(db, instance_id)["competent-institution-home"] == world["region"].org_id
    assert bound(db, instance_id)["competent-institution-host"] == hotel.org_id, "the home lane asks for both"


def test_the_sender_is_one_of_the_callers_organisations_and_the_partner_another(
        db: Database, world: dict[str, Party]) -> None:
    school, hotel = world["school"], world["hotel"]
    before = instance_count(db)
    with pytest.raises(Invalid) as refused, db.transaction() as s:
        service.start(s, actor=hotel.actor, sending_organisation_id=school.org_id,
                           hosting_organisation_id=hotel.org_id)
    assert set(refused.value.errors) == {"sending_organisation_id"}
    with pytest.raises(Invalid) as refused, db.transaction() as s:
        service.start(s, actor=school.actor, sending_organisation_id=school.org_id,
                           hosting_organisation_id=school.org_id, business_key="x" * 300)
    assert set(refused.value.errors) == {"hosting_organisation_id"}
    with pytest.raises(Invalid) as refused, db.transaction() as s:
        service.start(s, actor=school.actor, sending_organisation_id=None, hosting_organisation_id=99999)
    assert set(refused.value.errors) == {"sending_organisation_id", "hosting_organisation_id"}
    with pytest.raises(Invalid) as refused, db.transaction() as s:
        service.start(s, actor=school.actor, sending_organisation_id=school.org_id,
                           hosting_organisation_id=hotel.org_id, business_key="x" * 300)
    assert set(refused.value.errors) == {"business_key"}
    assert instance_count(db) == before
    admin = actor_for(db, make_user(db, is_admin=True).id)
    with db.transaction() as s:  # an administrator starts one for any sending organisation
        service.start(s, actor=admin, sending_organisation_id=school.org_id, hosting_organisation_id=hotel.org_id)
    assert instance_count(db) == before + 1


def test_without_the_process_deployed_the_start_conflicts(db: Database) -> None:
    school, hotel = make_party(db, "DE", "School"), make_party(db, "ES", "Hotel")
    with pytest.raises(Conflict, match="not deployed"), db.transaction(write=False) as s:
        service.start_plan(s, actor=school.actor, sending_organisation_id=school.org_id,
                                hosting_organisation_id=hotel.org_id)
