"""Several hosting organisations per mobility (ecvet/mobility/periods.py): each period's host gets the
assessment of its own units in its inbox, cannot assess another period's units, and the transcript and
the Learning Agreement name each host's part."""
from __future__ import annotations

import copy
from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy import func, select

from ecvet.documents import service as documents
from ecvet.mobility import assessment, nomination, service, transcript, views
from ecvet.mobility.models import Mobility, MobilityStatus
from ecvet.partnership import approvals, mou
from engine import tasks
from engine.clock import FrozenClock
from engine.db import Database
from engine.errors import Forbidden, Invalid, NotFound
from tests.support.ecvet_factories import MOBILITY_UNITS, SIGNER, Party, make_party, mou_content
from tests.support.engine import actor_for
from tests.support.factories import make_user
from tests.support.mobility_driver import END, START, T0, Run, Scenario, start

__all__ = ["T0"]  # the frozen clock starts there
RESTAURANT_DAYS = (date(2027, 3, 22), END)


def _three_partner_mou(db: Database, sc: Scenario, second: Party) -> int:
    """The scenario's partners plus a second host, all signing one MoU in force."""
    content = mou_content(sc.sending, sc.hosting, countries=("NL", "BE"), qualifications=[{
        "title": "Cook", "country": "NL", "eqf_level": 4, "nqf_level": "4", "ecvet_points": 180,
        "units": copy.deepcopy(MOBILITY_UNITS)}])
    extra = copy.deepcopy(content["signing_organisations"][1])
    extra.update(organisation_id=second.org_id, name=f"Organisation {second.org_id}")
    content["signing_organisations"].append(extra)
    with db.transaction() as s:
        memorandum = mou.create_draft(s, actor=sc.sending.actor, sending_organisation_id=sc.sending.org_id,
                                      content=content)
        approvals.submit(s, actor=sc.sending.actor, mou_id=memorandum.id)
        digest = mou.current_version(memorandum).content_hash
        for party in (sc.sending, sc.hosting, second):
            approvals.approve(s, actor=party.actor, mou_id=memorandum.id, content_hash=digest, signer=SIGNER,
                              organisation_id=party.org_id)
        return memorandum.id


def _periods(sc: Scenario, second: Party, **changes: Any) -> list[dict[str, Any]]:
    periods = [{"hosting_organisation_id": sc.hosting.org_id, "start_date": START, "end_date": date(2027, 3, 21),
                "units": ["U1"]},
               {"hosting_organisation_id": second.org_id, "start_date": RESTAURANT_DAYS[0],
                "end_date": RESTAURANT_DAYS[1], "units": ["U2"]}]
    for index_field, value in changes.items():
        index, name = index_field.split("__")
        periods[int(index[1:])][name] = value
    return periods


def _sheet(code: str) -> dict[str, Any]:
    return {"unit": code, "criteria": f"Criteria of {code}", "method": "practical_task", "context": "Service",
            "assessor": {"name": "Mentor", "organisation": "Host"}, "date": "2027-04-05", "result": "achieved"}


def test_each_host_assesses_its_own_period(db: Database, frozen: FrozenClock) -> None:
    sc = start(db, frozen, "NL", "BE")
    restaurant = make_party(db, "BE", "Restaurant Brugge", member="Lotte Peeters")
    sc.mou_id = _three_partner_mou(db, sc, restaurant)
    learner = make_user(db, name="Daan de Vries")

    def nominate(periods: Any) -> Mobility:
        with db.transaction() as s:
            return nomination.nominate(
                s, actor=sc.sending.actor, mou_id=sc.mou_id, hosting_organisation_id=sc.hosting.org_id,
                qualification_title="Cook", start_date=START, end_date=END, periods=periods,
                learner={"name": "Daan de Vries", "date_of_birth": "2004-09-01", "email": learner.email})

    with db.transaction(write=False) as s:
        before = s.scalar(select(func.count(Mobility.id)))
    refused = [
        (_periods(sc, restaurant, p1__units=["U1"]), "periods.1.units"),  # U1 in two periods
        (_periods(sc, restaurant, p1__hosting_organisation_id=sc.outsider.org_id), "periods.1.hosting_organisation_id"),
        (_periods(sc, restaurant, p0__hosting_organisation_id=restaurant.org_id), "periods.0.hosting_organisation_id"),
        (_periods(sc, restaurant, p1__start_date=date(2027, 3, 20)), "periods"),  # overlapping
        (_periods(sc, restaurant)[:1], "periods"),
    ]
    for periods, key in refused:
        with pytest.raises(Invalid) as refusal:
            nominate(periods)
        assert key in refusal.value.errors, (key, refusal.value.errors)
    with db.transaction(write=False) as s:
        assert s.scalar(select(func.count(Mobility.id))) == before, "nothing half-applied"

    mobility = nominate(_periods(sc, restaurant))
    assert mobility.process_instance_id is not None
    run = Run(sc, mobility.id, mobility.process_instance_id, mobility.learner_id,
              actor_for(db, learner.id), None, "Daan de Vries")
    sc.runs.append(run)
    run.prepare()
    periods = run.la()["content"]["periods"]
    assert [(p["hosting_organisation"]["id"], p["units"]) for p in periods] == [
        (sc.hosting.org_id, ["U1"]), (restaurant.org_id, ["U2"])]
    assert run.la()["required_signatures"] == ["learner", "sending", "hosting", "hosting_period_2"]
    run.parties_sign()
    assert not run.la()["in_force"], "the second host signs too"
    (signing,) = [t for t in run.ready() if t.bpmn_id == "sign_hosting_period_2"]
    with pytest.raises(NotFound), db.transaction() as s:
        tasks.complete(s, actor=sc.hosting.actor, task_id=signing.id, data={})
    values = tasks_detail(db, restaurant, signing.id)
    with db.transaction() as s:
        tasks.complete(s, actor=restaurant.actor, task_id=signing.id, data={
            "la_hash": values["la_hash"], "decision": "sign", "signer": {"position": "Chef"}})
    assert run.la()["in_force"]
    with db.transaction(write=False) as s:  # the second host is a party: it sees the mobility
        assert service.get(s, actor=restaurant.actor, mobility_id=run.mobility_id).id == run.mobility_id
        assert [m.id for m in service.list_for(s, actor=restaurant.actor).items] == [run.mobility_id]
    frozen.set(datetime(2027, 3, 1, 0, 0, 1, tzinfo=UTC))
    sc.worker()
    assert run.status() == MobilityStatus.LIVE
    frozen.set(datetime(2027, 4, 5, 10, 0, tzinfo=UTC))
    values = run.values("hosting", "checkpoint")
    run.complete("hosting", "checkpoint", {"la_hash": values["la_hash"], "decision": "assess"})

    # Period 1's host assesses its unit only: U2 is the restaurant's (its form lists U1 alone).
    assert [u["code"] for u in run.values("hosting", "record_assessment")["la_units"]] == ["U1"]
    with pytest.raises(Invalid) as refusal:
        run.complete("hosting", "record_assessment", {"assessments": [_sheet("U1"), _sheet("U2")]})
    assert "assessments.1.unit" in refusal.value.errors
    run.complete("hosting", "record_assessment", {"assessments": [_sheet("U1")]})
    # The second period's assessment is the restaurant's task, in no other party's inbox.
    (task,) = [t for t in run.ready() if t.bpmn_id == "assess_period_2"]
    with db.transaction(write=False) as s:
        assert task.id in {t.id for t in tasks.list_for(s, actor=restaurant.actor).items}
        assert task.id not in {t.id for t in tasks.list_for(s, actor=sc.hosting.actor).items}
    assert [u["code"] for u in tasks_detail(db, restaurant, task.id)["la_units"]] == ["U2"]
    with pytest.raises(NotFound), db.transaction() as s:  # not its task: it does not exist for period 1's host
        tasks.complete(s, actor=sc.hosting.actor, task_id=task.id, data={"assessments": [_sheet("U2")]})
    with pytest.raises(Forbidden), db.transaction() as s:  # nor through the service, for the other period
        assessment.record(s, actor=sc.hosting.actor, mobility_id=run.mobility_id, assessments=[_sheet("U2")],
                          period=2)
    with pytest.raises(Invalid), db.transaction() as s:
        tasks.complete(s, actor=restaurant.actor, task_id=task.id, data={"assessments": [_sheet("U1")]})
    with db.transaction() as s:
        tasks.complete(s, actor=restaurant.actor, task_id=task.id, data={"assessments": [_sheet("U2")]})
    run.complete("learner", "acknowledge_assessment", {"agrees": True})
    run.issue_transcript()
    with db.transaction(write=False) as s:
        issued = views.personal_transcript(transcript.get(s, actor=sc.hosting.actor, mobility_id=run.mobility_id))
        by_unit = {u["code"]: u["assessed_by"]["organisation_id"] for u in issued["content"]["units"]}
        assert by_unit == {"U1": sc.hosting.org_id, "U2": restaurant.org_id}
        assert [p["position"] for p in issued["content"]["host_periods"]] == [1, 2]
        document = documents.build(s, actor=sc.hosting.actor, kind="transcript", record_id=issued["id"])
        section = next(x for x in document.sections if x.heading == "Hosting periods")
        assert section.table is not None
        assert [row[-1] for row in section.table.rows] == ["U1", "U2"]


def tasks_detail(db: Database, party: Party, task_id: str) -> dict[str, Any]:
    with db.transaction(write=False) as s:
        return dict(tasks.detail(s, actor=party.actor, task_id=task_id)["form"]["values"])
