"""/api/national-models: what a country's national model requires, and tables the services cannot use."""
from __future__ import annotations

from engine.config import ROOT
from tests.api.conftest import World, assert_problem, post_bundle


def test_national_model_decision_endpoint(world: World) -> None:
    body = world.sender.get("/api/national-models/decision?country=DE&eqf_level=4").get_json()
    assert (body["model"], body["mou_approval"], body["recognition_by"]) == (
        "chamber_approval", "explicit", "competent_institution")
    assert body["source"].startswith("shipped")
    assert len(body["table_sha256"]) == 64
    nl = world.sender.get("/api/national-models/decision?country=nl").get_json()
    assert (nl["model"], nl["validation_recognition_merged"]) == ("provider_responsibility", True)
    es = world.host.get("/api/national-models/decision?country=ES").get_json()
    assert (es["la_approval"], es["la_approval_days"]) == ("implicit", 10)
    assert world.host.get("/api/national-models/decision?country=FR").get_json()["model"] == "default"
    assert_problem(world.sender.get("/api/national-models/decision?country=D1"), 422)
    assert_problem(world.sender.get("/api/national-models/decision?country=DE&eqf_level=9"), 422)
    assert_problem(world.client.get("/api/national-models/decision?country=DE"), 401)


def test_a_national_models_table_the_services_cannot_use_is_refused_on_every_deploy_path(world: World) -> None:
    """The engine accepts any valid DMN; the domain's check refuses a typo'd approval mode, via the API too."""
    table = (ROOT / "processes" / "national_models.dmn").read_bytes()
    process = (ROOT / "tests" / "fixtures" / "ecvet" / "uses_national_model.bpmn").read_bytes()
    typo = table.replace(b'<text>"implicit"</text>', b'<text>"implict"</text>', 1)
    assert typo != table
    refused = post_bundle(world.admin, {"uses_national_model.bpmn": process, "national_models.dmn": typo})
    body = assert_problem(refused, 422)
    assert "nothing was deployed" in body["detail"]
    assert any("implict" in e["message"] and e["file"] == "national_models.dmn" for e in body["errors"])
    assert world.admin.get("/api/process-definitions/uses_national_model").status_code == 404
    accepted = post_bundle(world.admin, {"uses_national_model.bpmn": process, "national_models.dmn": table})
    assert accepted.status_code == 201, accepted.get_json()
