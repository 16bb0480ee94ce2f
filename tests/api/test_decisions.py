"""DMN-only bundles deploy; POST /api/decisions/{key}/evaluate answers from the latest or a named version."""
from __future__ import annotations

from tests.api.conftest import World, assert_problem, post_bundle
from tests.support.decisions import grade_table


def test_a_dmn_only_bundle_deploys_and_its_decision_is_evaluated(world: World) -> None:
    deployed = post_bundle(world.admin, {"grades.dmn": grade_table()})
    assert deployed.status_code == 201, deployed.get_json()
    assert deployed.get_json()["decisions"] == [{"key": "grade_of", "version": 1, "filename": "grades.dmn",
                                                 "created": True}]
    assert post_bundle(world.admin, {"grades.dmn": grade_table()}).status_code == 200  # same content
    answer = world.sender.post("/api/decisions/grade_of/evaluate", json={"inputs": {"score": 72}})
    assert answer.status_code == 200, answer.get_json()
    assert answer.get_json() == {"key": "grade_of", "version": 1, "outputs": {"grade": "pass"}}
    assert world.sender.post("/api/decisions/grade_of/evaluate",
                             json={"inputs": {"score": 12}}).get_json()["outputs"] == {"grade": "fail"}


def test_a_new_version_answers_and_the_old_one_stays_reachable(world: World) -> None:
    assert post_bundle(world.admin, {"grades.dmn": grade_table(50)}).status_code == 201
    assert post_bundle(world.admin, {"grades.dmn": grade_table(80)}).status_code == 201
    latest = world.sender.post("/api/decisions/grade_of/evaluate", json={"inputs": {"score": 72}}).get_json()
    assert (latest["version"], latest["outputs"]) == (2, {"grade": "fail"})
    first = world.sender.post("/api/decisions/grade_of/evaluate", json={"inputs": {"score": 72}, "version": 1})
    assert first.get_json()["outputs"] == {"grade": "pass"}


def test_unknown_decisions_and_inputs_the_table_cannot_read_are_problems(world: World) -> None:
    assert post_bundle(world.admin, {"grades.dmn": grade_table()}).status_code == 201
    assert_problem(world.sender.post("/api/decisions/nothing/evaluate", json={"inputs": {}}), 404)
    assert_problem(world.sender.post("/api/decisions/grade_of/evaluate", json={"inputs": {}}), 422)
    assert_problem(world.sender.post("/api/process-definitions", data={}, content_type="multipart/form-data"), 422)
