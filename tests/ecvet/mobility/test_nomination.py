"""Mobilities: nomination under an active MoU (refusals store nothing), the competent institutions and
lanes bound from the national model deployed with the process, status transitions with history, and
who sees a mobility and its learner."""
from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy import func, select

import ecvet.documents.service
import ecvet.mobility.service
import ecvet.mobility.workflow  # noqa: F401  (registers the actions and connectors, as the app and worker do)
from ecvet.mobility import departure, learning_agreement, nomination
from ecvet.mobility.models import Learner, Mobility, MobilityStatus, MobilityStatusChange
from ecvet.national_models.models import CompetenceFunction
from ecvet.partnership import mou
from ecvet.partnership.models import Mou
from engine import deployments, instances
from engine.clock import FrozenClock
from engine.config import ROOT
from engine.db import Database
from engine.errors import Conflict, EngineError, Forbidden, Invalid, NotFound
from engine.models import InstanceParty, Organisation, ProcessInstance
from tests.support.ecvet_factories import Party, active_mou, make_live_mobility, make_party, mou_content, register
from tests.support.engine import actor_for
from tests.support.factories import make_user

T0 = datetime(2027, 1, 11, 9, 0, tzinfo=UTC)


def deploy(db: Database, dmn: bytes | None = None) -> int:
    files = {"mobility.bpmn": (ROOT / "processes" / "mobility.bpmn").read_bytes(),
             "national_models.dmn": dmn or (ROOT / "processes" / "national_models.dmn").read_bytes()}
    with db.transaction() as s:
        (deployed,) = deployments.deploy(s, actor=None, files=files, forms_dir=ROOT / "forms")
        return deployed.definition.version


def partners(db: Database, home: str = "NL", abroad: str = "BE") -> tuple[Party, Party, int]:
    sending, hosting = make_party(db, home, "School"), make_party(db, abroad, "Hotel")
    return sending, hosting, active_mou(db, sending, hosting, countries=(home, abroad))


def nominate(db: Database, sending: Party, hosting: Party, mou_id: int, **overrides: Any) -> Mobility:
    learner = overrides.pop("learner", None)
    if learner is None:
        learner = {"name": "Lena Vos", "date_of_birth": "2004-05-05", "email": make_user(db).email}
    args: dict[str, Any] = {"mou_id": mou_id, "hosting_organisation_id": hosting.org_id,
                            "qualification_title": "Cook", "start_date": "2027-03-01", "end_date": "2027-04-09",
                            "learner": learner, **overrides}
    if "learner_id" in overrides:
        args.pop("learner")
    with db.transaction() as s:
        mobility = nomination.nominate(s, actor=overrides.pop("actor", sending.actor), **{
            k: v for k, v in args.items() if k != "actor"})
        s.refresh(mobility)
        s.expunge(mobility)
        return mobility


def counts(db: Database) -> tuple[int, int, int]:
    with db.transaction(write=False) as s:
        return (s.scalars(select(func.count(Mobility.id))).one(), s.scalars(select(func.count(Learner.id))).one(),
                s.scalars(select(func.count(ProcessInstance.id))).one())


def bindings(db: Database, mobility: Mobility) -> dict[str, tuple[int | None, int | None]]:
    with db.transaction(write=False) as s:
        rows = s.scalars(select(InstanceParty).where(InstanceParty.instance_id == mobility.process_instance_id))
        return {p.role: (p.organisation_id, p.user_id) for p in rows}


@pytest.mark.usefixtures("frozen")
def test_nomination_starts_the_process_with_every_lane_bound(db: Database) -> None:
    deploy(db)
    sending, hosting, mou_id = partners(db)
    guardian = make_user(db)
    minor = {"name": "Kid Vos", "date_of_birth": "2011-01-01", "email": make_user(db).email,
             "guardian_name": "Parent Vos", "guardian_email": guardian.email.upper()}
    mobility = nominate(db, sending, hosting, mou_id, learner=minor, sector="Hospitality")
    assert mobility.status == MobilityStatus.NOMINATION
    assert mobility.sector == "hospitality"
    assert mobility.national_model is not None
    assert mobility.process_instance_id is not None
    assert mobility.national_model["model"] == "provider_responsibility"
    assert mobility.national_model["source"] == "deployed: mobility v1"
    with db.transaction(write=False) as s:
        learner = s.get_one(Learner, mobility.learner_id)
        assert learner.guardian_user_id == guardian.id, "the guardian's account is found by e-mail"
        history = s.scalars(select(MobilityStatusChange).where(MobilityStatusChange.mobility_id == mobility.id)).all()
        assert [(h.old_status, h.new_status) for h in history] == [(None, "nomination")]
        variables = instances.get(s, actor=sending.actor, instance_id=mobility.process_instance_id)
        assert variables.process_key == "mobility"
        hosting_name = s.get_one(Organisation, hosting.org_id).name
    # Named for people (issue 14): learner — host — dates, not "mobility-4".
    assert variables.business_key == (f"Kid Vos — {hosting_name} — {mobility.start_date.isoformat()} to "
                                      f"{mobility.end_date.isoformat()}")
    assert bindings(db, mobility) == {
        "sending": (sending.org_id, None), "hosting": (hosting.org_id, None), "learner": (None, learner.user_id),
        "guardian": (None, guardian.id), "competent-institution-home": (sending.org_id, None),
        "competent-institution-host": (hosting.org_id, None),
        "intermediary": (sending.org_id, None),  # no intermediary: the school holds the lane, never used
        # One host: the lanes of later hosting periods are the host's, never used either.
        "hosting-period-2": (hosting.org_id, None), "hosting-period-3": (hosting.org_id, None),
    }


@pytest.mark.usefixtures("frozen")
def test_the_mou_is_among_the_documents_of_the_mobility(db: Database) -> None:
    """The process data refers to the MoU the mobility runs under, so its parties find it with the
    mobility's other documents (GET /api/process-instances/{id}/documents); the learner, who is no party
    of the MoU, does not."""
    deploy(db)
    sending, hosting, mou_id = partners(db)
    mobility = nominate(db, sending, hosting, mou_id)
    with db.transaction(write=False) as s:
        learner_user_id = s.get_one(Learner, mobility.learner_id).user_id
        assert learner_user_id is not None
        assert mobility.process_instance_id is not None
        learner = actor_for(db, learner_user_id)
        for party in (sending, hosting):
            refs = ecvet.documents.service.for_instance(s, actor=party.actor, instance_id=mobility.process_instance_id)
            assert [(r.kind, r.record_id) for r in refs] == [("mou", mou_id)]
        assert ecvet.documents.service.for_instance(s, actor=learner, instance_id=mobility.process_instance_id) == []


@pytest.mark.usefixtures("frozen")
def test_refusals_store_nothing(db: Database) -> None:
    deploy(db)
    sending, hosting, mou_id = partners(db)
    outsider = make_party(db, "NL", "Other school")
    email = make_user(db).email
    before = counts(db)
    cases: list[tuple[type[EngineError], str | None, dict[str, Any]]] = [
        (NotFound, None, {"actor": outsider.actor}),
        (Forbidden, None, {"actor": hosting.actor}),
        (Invalid, "qualification_title", {"qualification_title": "Baker"}),
        (Invalid, "qualification_eqf_level", {"qualification_eqf_level": 5}),
        (Invalid, "hosting_organisation_id", {"hosting_organisation_id": outsider.org_id}),
        (Invalid, "hosting_organisation_id", {"hosting_organisation_id": sending.org_id}),
        (Invalid, "start_date", {"start_date": "2027-01-11"}),
        (Invalid, "end_date", {"end_date": "2027-02-28"}),
        (Invalid, "end_date", {"end_date": "2027-03-10"}),  # 2 weeks: the MoU plans 3 to 12
        (Invalid, "start_date", {"start_date": "1 March"}),
        (Invalid, "learner.email", {"learner": {"name": "A", "date_of_birth": "2004-01-01", "email": "x@y.example"}}),
        (Invalid, "learner.guardian_name", {"learner": {"name": "A", "date_of_birth": "2012-01-01", "email": email}}),
        (Invalid, "learner.date_of_birth", {"learner": {"name": "A", "date_of_birth": "2030-01-01", "email": email}}),
        (Invalid, "learner.name", {"learner": {"name": " ", "date_of_birth": "2004-01-01", "email": email}}),
        (Invalid, "learner.hobby", {"learner": {"name": "A", "date_of_birth": "2004-01-01", "email": email,
                                                "hobby": "chess"}}),
        (Invalid, "learner_id", {"learner_id": 999}),
        (Invalid, "intermediary_organisation_id", {"intermediary_organisation_id": 999}),
    ]
    for error, field, overrides in cases:
        with pytest.raises(error) as refused:
            nominate(db, sending, hosting, mou_id, **overrides)
        if field:
            assert field in refused.value.errors, (overrides, refused.value.errors)
    assert counts(db) == before
    with db.transaction() as s:
        mou.expire(s, actor=sending.actor, mou_id=mou_id)
    with pytest.raises(Conflict, match="in force"):
        nominate(db, sending, hosting, mou_id)
    assert counts(db) == before


@pytest.mark.usefixtures("frozen")
def test_nominations_go_on_while_an_amendment_of_the_mou_is_in_approval(db: Database) -> None:
    """The approved version stays in force until the amendment is approved by everyone."""
    deploy(db)
    sending, hosting, mou_id = partners(db)
    with db.transaction() as s:
        mou.revise(s, actor=sending.actor, mou_id=mou_id,
                    content=mou_content(sending, hosting, countries=("NL", "BE"), file_code="MoU-2027-002"))
    with db.transaction(write=False) as s:
        current = s.get_one(Mou, mou_id)
        assert current.status != "active"
        assert mou.in_force_version(current) is not None
    mobility = nominate(db, sending, hosting, mou_id)
    assert mobility.status == MobilityStatus.NOMINATION


@pytest.mark.usefixtures("frozen")
def test_the_process_must_be_deployed(db: Database) -> None:
    sending, hosting, mou_id = partners(db)
    with pytest.raises(Conflict, match="not deployed"):
        nominate(db, sending, hosting, mou_id)


@pytest.mark.usefixtures("frozen")
def test_competent_institutions_come_from_the_national_model(db: Database) -> None:
    """DE recognises through a competent institution: one registered for recognition is bound; none is a
    422; two need the school to name one; a named one must be registered for what is needed."""
    deploy(db)
    sending, hosting = make_party(db, "DE", "Berufskolleg"), make_party(db, "NL", "Hotel")
    chamber = make_party(db, "DE", "IHK")
    register(db, chamber.org_id, "DE")  # approves MoUs only, for now
    mou_id = active_mou(db, sending, hosting, countries=("DE", "NL"), competent_institution=chamber)
    with pytest.raises(Invalid, match="none is registered"):
        nominate(db, sending, hosting, mou_id)
    register(db, chamber.org_id, "DE", CompetenceFunction.RECOGNITION)
    mobility = nominate(db, sending, hosting, mou_id)
    assert mobility.competent_institution_home_id == chamber.org_id
    assert bindings(db, mobility)["competent-institution-home"] == (chamber.org_id, None)
    second = make_party(db, "DE", "HWK")
    register(db, second.org_id, "DE", CompetenceFunction.RECOGNITION)
    with pytest.raises(Invalid, match="say which"):
        nominate(db, sending, hosting, mou_id)
    assert nominate(db, sending, hosting, mou_id, competent_institution_home_id=second.org_id) \
        .competent_institution_home_id == second.org_id
    with pytest.raises(Invalid) as refused:
        nominate(db, sending, hosting, mou_id, competent_institution_home_id=sending.org_id)
    assert "competent_institution_home_id" in refused.value.errors
    # crafts: the chamber must also approve Learning Agreements
    with pytest.raises(Invalid):
        nominate(db, sending, hosting, mou_id, sector="crafts", competent_institution_home_id=chamber.org_id)
    register(db, chamber.org_id, "DE", CompetenceFunction.LA_APPROVAL)
    crafts = nominate(db, sending, hosting, mou_id, sector="crafts")
    assert crafts.national_model is not None
    assert crafts.national_model["la_approval"] == "explicit"


@pytest.mark.usefixtures("frozen")
def test_the_learning_agreement_authority_is_the_one_of_the_schools_region(db: Database) -> None:
    """ES: Learning Agreements are approved by the regional authority of the sending school's region,
    never by another region's; the mobility keeps the region it was decided for."""
    deploy(db)
    sending = make_party(db, "ES", "Institut Barcelona", region="ES-CT")
    hosting = make_party(db, "NL", "Hotel")
    valencia = make_party(db, "ES", "Conselleria (València)", region="ES-VC")
    catalonia = make_party(db, "ES", "Generalitat (Catalunya)", region="ES-CT")
    for authority, region in ((valencia, "ES-VC"), (catalonia, "ES-CT")):
        for function in (CompetenceFunction.MOU_APPROVAL, CompetenceFunction.LA_APPROVAL):
            register(db, authority.org_id, "ES", function, region=region)
    mou_id = active_mou(db, sending, hosting, countries=("ES", "NL"), competent_institution=catalonia)
    mobility = nominate(db, sending, hosting, mou_id)
    assert mobility.competent_institution_home_id == catalonia.org_id
    assert mobility.national_model is not None
    assert (mobility.national_model["model"], mobility.national_model["region"]) == ("regional_authority", "ES-CT")
    with pytest.raises(Invalid) as refused:
        nominate(db, sending, hosting, mou_id, competent_institution_home_id=valencia.org_id)
    assert "competent_institution_home_id" in refused.value.errors


@pytest.mark.usefixtures("frozen")
def test_a_redeployed_table_changes_new_mobilities_only(db: Database) -> None:
    """National models are data: edit the table, redeploy, and the next mobility gets the new gates;
    the one under way keeps the answer it was nominated with."""
    deploy(db)
    sending, hosting, mou_id = partners(db)
    before = nominate(db, sending, hosting, mou_id)
    table = (ROOT / "processes" / "national_models.dmn").read_text(encoding="utf-8")
    edited = table.replace(
        '<outputEntry id="LiteralExpression_provider_responsibility_validation_recognition_merged">\n'
        '          <text>True</text>',
        '<outputEntry id="LiteralExpression_provider_responsibility_validation_recognition_merged">\n'
        '          <text>False</text>')
    assert edited != table
    assert deploy(db, edited.encode()) == 2
    after = nominate(db, sending, hosting, mou_id)
    assert before.national_model is not None
    assert after.national_model is not None
    assert before.national_model["validation_recognition_merged"] is True
    assert after.national_model["validation_recognition_merged"] is False
    assert after.national_model["source"] == "deployed: mobility v2"
    with db.transaction(write=False) as s:
        old = s.get_one(Mobility, before.id)
        assert ecvet.mobility.service.national_model(s, old).validation_recognition_merged is True
        assert s.get_one(ProcessInstance, after.process_instance_id).definition.version == 2


@pytest.mark.usefixtures("frozen")
def test_a_learner_is_nominated_again_only_by_a_school_that_knows_them(db: Database) -> None:
    deploy(db)
    sending, hosting, mou_id = partners(db)
    first = nominate(db, sending, hosting, mou_id)
    again = nominate(db, sending, hosting, mou_id, learner_id=first.learner_id, start_date="2027-06-01",
                     end_date="2027-07-09")
    assert again.learner_id == first.learner_id
    other_sending, other_hosting, other_mou = partners(db)
    with pytest.raises(Invalid, match="Unknown learner"):
        nominate(db, other_sending, other_hosting, other_mou, learner_id=first.learner_id)


def test_who_sees_a_mobility_and_its_learner(db: Database, frozen: FrozenClock) -> None:
    live = make_live_mobility(db, frozen)
    admin = make_user(db, is_admin=True)
    with db.transaction(write=False) as s:
        for actor in (live.sending.actor, live.hosting.actor, live.learner, actor_for(db, admin.id)):
            assert ecvet.mobility.service.get(s, actor=actor, mobility_id=live.mobility_id).id == live.mobility_id
            assert ecvet.mobility.service.get_learner(s, actor=actor, learner_id=live.learner_id).id == live.learner_id
            assert [m.id for m in ecvet.mobility.service.list_for(s, actor=actor).items] == [live.mobility_id]
        with pytest.raises(NotFound):
            ecvet.mobility.service.get(s, actor=live.outsider.actor, mobility_id=live.mobility_id)
        with pytest.raises(NotFound):
            ecvet.mobility.service.get_learner(s, actor=live.outsider.actor, learner_id=live.learner_id)
        assert ecvet.mobility.service.list_for(s, actor=live.outsider.actor).items == []
        assert ecvet.mobility.service.list_for(s, actor=live.sending.actor, status="recognized").items == []
        with pytest.raises(Invalid):
            ecvet.mobility.service.list_for(s, actor=live.sending.actor, status="dreaming")


def test_status_goes_live_only_with_the_agreement_in_force(db: Database, frozen: FrozenClock) -> None:
    live = make_live_mobility(db, frozen)
    with pytest.raises(Conflict, match="cannot become live"), db.transaction() as s:
        departure.go_live(s, mobility_id=live.mobility_id)
    with pytest.raises(Forbidden), db.transaction() as s:
        departure.go_live(s, mobility_id=live.mobility_id, actor=live.sending.actor)
    with pytest.raises(Conflict, match="mobility is live"), db.transaction() as s:
        departure.postpone(s, actor=live.sending.actor, mobility_id=live.mobility_id, start_date="2027-05-01",
                            end_date="2027-06-01", reason="late")
    with pytest.raises(Forbidden), db.transaction() as s:
        ecvet.mobility.service.cancel(s, actor=live.hosting.actor, mobility_id=live.mobility_id, reason="x")
    with pytest.raises(Invalid), db.transaction() as s:
        ecvet.mobility.service.cancel(s, actor=live.sending.actor, mobility_id=live.mobility_id, reason=" ")
    with db.transaction() as s:
        ecvet.mobility.service.cancel(s, actor=live.sending.actor, mobility_id=live.mobility_id, reason="Learner ill")
    with pytest.raises(Conflict, match="cancelled"), db.transaction() as s:
        ecvet.mobility.service.cancel(s, actor=live.sending.actor, mobility_id=live.mobility_id, reason="again")
    with pytest.raises(Conflict, match="cancelled"), db.transaction() as s:  # evidence stays as it was
        learning_agreement.change(s, actor=live.hosting.actor, la_id=live.la_id, added=[{"unit": "U3",
                                                                                         "reason": "late"}])
    with db.transaction(write=False) as s:
        mobility = s.get_one(Mobility, live.mobility_id)
        assert (mobility.status, mobility.cancel_reason) == (MobilityStatus.CANCELLED, "Learner ill")
        assert [(c.old_status, c.new_status) for c in ecvet.mobility.service.status_history(s, mobility)] == [
            ("nomination", "live"), ("live", "cancelled")]


def test_go_live_needs_the_start_date_and_every_signature(db: Database, frozen: FrozenClock) -> None:
    deploy(db)
    sending, hosting, mou_id = partners(db)
    mobility = nominate(db, sending, hosting, mou_id)
    with pytest.raises(Conflict, match="starts on 2027-03-01"), db.transaction() as s:
        departure.go_live(s, mobility_id=mobility.id)
    frozen.set(datetime(2027, 3, 1, 1, 0, tzinfo=UTC))
    with pytest.raises(Conflict, match="not signed"), db.transaction() as s:
        departure.go_live(s, mobility_id=mobility.id)


@pytest.mark.usefixtures("frozen")
def test_postpone_rules(db: Database) -> None:
    deploy(db)
    sending, hosting, mou_id = partners(db)
    minor_soon_adult = {"name": "Almost Adult", "date_of_birth": "2009-03-15", "email": make_user(db).email,
                        "guardian_name": "Parent", "guardian_email": "parent@family.example"}
    mobility = nominate(db, sending, hosting, mou_id, learner=minor_soon_adult)

    def postpone(start: str, end: str, reason: str = "Signatures late", actor: Any = None) -> Mobility:
        with db.transaction() as s:
            return departure.postpone(s, actor=actor or sending.actor, mobility_id=mobility.id, start_date=start,
                                       end_date=end, reason=reason)

    with pytest.raises(Forbidden):
        postpone("2027-04-01", "2027-05-07", actor=hosting.actor)
    with pytest.raises(Invalid) as refused:
        postpone("2027-02-01", "2027-02-20", reason=" ")
    assert {"reason", "start_date"} <= set(refused.value.errors)
    postpone("2027-04-01", "2027-05-07")
    with db.transaction(write=False) as s:
        moved = s.get_one(Mobility, mobility.id)
        assert (moved.start_date, moved.end_date) == (date(2027, 4, 1), date(2027, 5, 7))
        assert not moved.learner.is_minor(moved.start_date), "18 by the new start: no guardian needed any more"
    for i in range(departure.MAX_POSTPONEMENTS - 1):
        postpone(f"2027-04-{2 + i:02d}", "2027-05-07")
    with pytest.raises(Conflict, match="postponed 10 times"):
        postpone("2027-04-20", "2027-05-20")


@pytest.mark.usefixtures("frozen")
def test_the_learner_signs_with_the_units_the_mou_covers(db: Database) -> None:
    """The process's first task writes the Learning Agreement from the MoU's units."""
    deploy(db)
    sending, hosting, mou_id = partners(db)
    mobility = nominate(db, sending, hosting, mou_id)
    with db.transaction() as s:
        la = learning_agreement.prepare(s, actor=sending.actor, mobility_id=mobility.id,
                                        content={"units": [{"code": "U3"}]})
        unit = learning_agreement.current_version(s, la).content["units"][0]
        assert (unit["title"], unit["ecvet_points"]) == ("Serving guests", 6)


@pytest.mark.usefixtures("frozen")
def test_a_learner_known_by_their_european_student_identifier_is_reused(db: Database) -> None:
    """Another school nominates the same person: identifier and e-mail together say it is them, so their
    achievements stay in one record; the identifier with another address is refused."""
    deploy(db)
    email = make_user(db).email
    details = {"name": "Lena Vos", "date_of_birth": "2004-05-05", "email": email,
               "european_student_identifier": "urn:schac:personalUniqueCode:int:esi:nl:12345"}
    sending, hosting, mou_id = partners(db)
    first = nominate(db, sending, hosting, mou_id, learner=details)
    other_sending, other_hosting, other_mou = partners(db)
    second = nominate(db, other_sending, other_hosting, other_mou, learner={**details, "email": email.upper()})
    assert second.learner_id == first.learner_id
    with pytest.raises(Invalid) as refused:
        nominate(db, other_sending, other_hosting, other_mou,
                 learner={**details, "email": make_user(db).email})
    assert "learner.european_student_identifier" in refused.value.errors
    with db.transaction(write=False) as s:
        assert s.scalar(select(func.count(Learner.id))) == 1
        assert ecvet.mobility.service.get_learner(s, actor=other_sending.actor,
                                                  learner_id=first.learner_id).name == "Lena Vos"


# --------------------------------------------------------------------------------------------------
# Nominating under a MoU in force: which MoUs, and what a nomination may choose
# --------------------------------------------------------------------------------------------------


def test_nominable_mous_are_those_in_force_of_the_callers_sending_organisation(db: Database) -> None:
    nl, be = make_party(db, "NL", "ROC Amsterdam"), make_party(db, "BE", "Hotel Brussel")
    in_force = active_mou(db, nl, be, countries=("NL", "BE"))
    with db.transaction() as s:  # a draft of the same school is not (yet) a MoU to nominate under
        mou.create_draft(s, actor=nl.actor, sending_organisation_id=nl.org_id, content=mou_content(nl, be))
    other_school = make_party(db, "NL", "Another school")
    admin = actor_for(db, make_user(db, is_admin=True).id)
    with db.transaction(write=False) as s:
        assert [m.id for m in nomination.nominable(s, actor=nl.actor)] == [in_force]
        assert nomination.nominable(s, actor=be.actor) == [], "the host signed it but does not send under it"
        assert nomination.nominable(s, actor=other_school.actor) == []
        assert [m.id for m in nomination.nominable(s, actor=admin)] == [in_force]

        terms = nomination.nomination_terms(s, actor=nl.actor, mou_id=in_force)
        assert [o.id for o in terms.hosting] == [be.org_id]
        assert [q["title"] for q in terms.qualifications] == ["Cook"]
        assert (terms.min_weeks, terms.max_weeks, terms.valid_until) == (3, 12, "2099-12-31")
        assert terms.file_code == "MoU-2027-001"
        with pytest.raises(Forbidden):
            nomination.nomination_terms(s, actor=be.actor, mou_id=in_force)
        with pytest.raises(NotFound):
            nomination.nomination_terms(s, actor=other_school.actor, mou_id=in_force)


def test_nomination_terms_of_a_mou_without_a_version_in_force_conflict(db: Database) -> None:
    nl, be = make_party(db, "NL", "ROC Amsterdam"), make_party(db, "BE", "Hotel Brussel")
    with db.transaction() as s:
        memorandum = mou.create_draft(s, actor=nl.actor, sending_organisation_id=nl.org_id, content=mou_content(nl, be))
        mou_id = memorandum.id
    with pytest.raises(Conflict, match="no version in force"), db.transaction(write=False) as s:
        nomination.nomination_terms(s, actor=nl.actor, mou_id=mou_id)
