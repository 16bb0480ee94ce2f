"""/api/partner-profiles: one saved partner profile, for the parties of its partnership; 404 to anyone else."""
from __future__ import annotations

from engine.db import Database
from tests.api.conftest import Caller, World, assert_problem, sign_in
from tests.support import partnership_driver
from tests.support.ecvet_factories import Party
from tests.support.engine import actor_for
from tests.support.factories import PASSWORD, Person


def caller(world: World, party: Party) -> Caller:
    return sign_in(world.client, Person(party.user_id, party.email, PASSWORD))


def saved_profiles(world: World, db: Database) -> tuple[partnership_driver.PartnershipRun, list[int]]:
    run = partnership_driver.start(db, actor_for(db, world.admin.person.id), "NL", "BE")
    run.build()
    history = caller(world, run.sender).get(f"/api/partnerships/{run.partnership().id}/profiles").get_json()
    return run, [p["id"] for p in history]


def test_each_party_reads_a_saved_profile(world: World) -> None:
    run, (sending_id, hosting_id) = saved_profiles(world, world.db)
    for party in (run.sender, run.host, run.ci_home, run.ci_host):
        body = caller(world, party).get(f"/api/partner-profiles/{hosting_id}").get_json()
        assert (body["id"], body["side"], body["organisation_id"]) == (hosting_id, "hosting", run.host.org_id)
        assert body["partnership_id"] == run.partnership().id
        assert len(body["content_hash"]) == 64
    assert world.admin.get(f"/api/partner-profiles/{sending_id}").get_json()["side"] == "sending"


def test_outsiders_and_unknown_ids_get_404(world: World) -> None:
    _run, (sending_id, _hosting_id) = saved_profiles(world, world.db)
    assert_problem(world.outsider.get(f"/api/partner-profiles/{sending_id}"), 404)
    assert_problem(world.admin.get("/api/partner-profiles/999999"), 404)
    assert_problem(world.client.get(f"/api/partner-profiles/{sending_id}"), 401)
