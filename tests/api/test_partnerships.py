"""/api/partnerships and /api/partner-profiles: the partnership records, driven over HTTP as its parties."""
from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

import pytest

from ecvet.national_models.models import CompetenceFunction
from engine.config import ROOT
from tests.api.conftest import Caller, World, assert_problem, deploy_files, sign_in
from tests.support.ecvet_factories import register
from tests.support.factories import make_org, make_user
from tests.support.partnership_driver import PDF


@dataclass
class Run:
    world: World
    instance_id: str
    chamber: Caller
    authority: Caller

    def task(self, caller: Caller, bpmn_id: str) -> dict[str, Any]:
        items = caller.get(f"/api/tasks?instance_id={self.instance_id}").get_json()["items"]
        (task,) = [t for t in items if t["bpmn_id"] == bpmn_id]
        return task

    def complete(self, caller: Caller, bpmn_id: str, data: dict[str, Any]) -> Any:
        return caller.post(f"/api/tasks/{self.task(caller, bpmn_id)['id']}/complete", json={"data": data})


def profile(name: str, country: str, **extra: Any) -> dict[str, Any]:
    return {
        "organisation": {"name": name, "country": country,
                         "contact_person": {"name": "Mia Jansen", "email": "mia@example.org"}},
        "qualifications_offered": [{"title": "Cook", "eqf_level": 4, "units": [
            {"code": "U1", "title": "Cold dishes", "learning_outcomes": [{"kind": "skills", "text": "Plates"}]}]}],
        "vet_system": "Dual system.",
        **extra,
    }


@pytest.fixture
def run(world: World) -> Run:
    """The world's DE school and ES company in a Partnership process, with the DE chamber and the ES
    regional authority bound to the competent-institution lanes."""
    db = world.db
    response = deploy_files(world.admin, [ROOT / "processes" / "partnership.bpmn",
                                          ROOT / "processes" / "national_models.dmn"])
    assert response.status_code == 201, response.get_json()
    chamber, authority = make_org(db, name="IHK", country="DE"), make_org(db, name="Junta", country="ES")
    register(db, chamber.id, "DE", CompetenceFunction.MOU_APPROVAL)
    register(db, authority.id, "ES", CompetenceFunction.MOU_APPROVAL)
    response = world.sender.post("/api/process-instances", json={
        "process_key": "partnership", "parties": {
            "sending": world.sending_org, "hosting": world.hosting_org,
            "competent-institution-home": chamber.id, "competent-institution-host": authority.id}})
    assert response.status_code == 201, response.get_json()
    return Run(world, response.get_json()["id"],
               sign_in(world.client, make_user(db, organisation_ids=[chamber.id])),
               sign_in(world.client, make_user(db, organisation_ids=[authority.id])))


def test_profiles_role_map_and_attachments_over_http(run: Run) -> None:
    w = run.world
    assert run.complete(w.sender, "describe_sending", {"sending_profile": profile("Berufsschule", "DE")}) \
        .status_code == 200

    supplement = w.host.post("/api/attachments", data={"file": (io.BytesIO(PDF), "cs-cocinero.pdf")},
                             content_type="multipart/form-data").get_json()["id"]
    assert_problem(run.chamber.get(f"/api/attachments/{supplement}"), 404)
    hosting = profile("Empresa", "ES", europass_certificate_supplements=[
        {"qualification": "Cocinero", "attachment_id": supplement}])
    assert run.complete(w.host, "describe_hosting", {"hosting_profile": hosting}).status_code == 200
    roles = {f: {"home": {"organisation_id": w.sending_org}, "host": {"organisation_name": "Empresa"}}
             for f in CompetenceFunction.ALL}
    assert run.complete(w.sender, "map_roles", {"ecvet_roles": roles}).status_code == 200

    (summary,) = w.sender.get("/api/partnerships").get_json()["items"]
    assert (summary["instance_id"], summary["sending_organisation_id"], summary["hosting_organisation_id"],
            summary["mou_id"]) == (run.instance_id, w.sending_org, w.hosting_org, None)
    detail = run.authority.get(f"/api/partnerships/{summary['id']}").get_json()
    assert (detail["home_country"], detail["host_country"]) == ("DE", "ES")
    assert [(p["side"], p["organisation_id"]) for p in detail["profiles"]] == [
        ("sending", w.sending_org), ("hosting", w.hosting_org)]
    (attached,) = detail["profiles"][1]["attachments"]
    assert {k: attached[k] for k in ("id", "filename", "media_type", "size", "organisation_id", "uploaded_by")} == {
        "id": supplement, "filename": "cs-cocinero.pdf", "media_type": "application/pdf", "size": len(PDF),
        "organisation_id": w.hosting_org, "uploaded_by": w.host.person.id}
    entry = next(e for e in detail["role_map"]["entries"] if (e["function"], e["side"]) == ("mou_approval", "home"))
    assert (entry["organisation_id"], entry["country"], entry["registered"]) == (w.sending_org, "DE", False)

    # Every party of the partnership reads the supplement now; an outsider still gets 404.
    for caller in (w.sender, run.chamber, run.authority, w.admin):
        download = caller.get(f"/api/attachments/{supplement}/content")
        assert download.status_code == 200
        assert download.data == PDF
    assert_problem(w.outsider.get(f"/api/attachments/{supplement}/content"), 404)

    role_map = w.host.get(f"/api/partnerships/{summary['id']}/role-map").get_json()
    assert role_map["id"] == detail["role_map"]["id"]
    assert len(role_map["entries"]) == 12
    history = w.sender.get(f"/api/partnerships/{summary['id']}/profiles").get_json()
    assert [p["side"] for p in history] == ["sending", "hosting"]
    one = run.chamber.get(f"/api/partner-profiles/{history[1]['id']}").get_json()
    assert one["content"]["europass_certificate_supplements"][0]["attachment_id"] == supplement

    for url in (f"/api/partnerships/{summary['id']}", f"/api/partnerships/{summary['id']}/role-map",
                f"/api/partnerships/{summary['id']}/profiles", f"/api/partner-profiles/{history[0]['id']}"):
        assert_problem(w.outsider.get(url), 404)
    assert w.outsider.get("/api/partnerships").get_json()["items"] == []


def test_a_form_referring_to_an_invisible_attachment_is_refused(run: Run) -> None:
    w = run.world
    run.complete(w.sender, "describe_sending", {"sending_profile": profile("Berufsschule", "DE")})
    foreign = w.outsider.post("/api/attachments", data={"file": (io.BytesIO(PDF), "x.pdf")},
                              content_type="multipart/form-data").get_json()["id"]
    response = run.complete(w.host, "describe_hosting", {"hosting_profile": profile(
        "Empresa", "ES", europass_certificate_supplements=[{"attachment_id": foreign}])})
    body = assert_problem(response, 422)
    assert body["errors"] == {
        "hosting_profile.europass_certificate_supplements.0.attachment_id": [f"No attachment {foreign}"]}
    assert run.task(w.host, "describe_hosting")["state"] == "ready"
    assert_problem(w.host.get(f"/api/attachments/{foreign}"), 404)


def test_no_role_map_yet_is_404(run: Run) -> None:
    w = run.world
    run.complete(w.sender, "describe_sending", {"sending_profile": profile("Berufsschule", "DE")})
    (summary,) = w.sender.get("/api/partnerships").get_json()["items"]
    body = assert_problem(w.sender.get(f"/api/partnerships/{summary['id']}/role-map"), 404)
    assert "no role map yet" in body["detail"]
