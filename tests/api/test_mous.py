"""/api/mous: parties see and sign MoUs, outsiders see nothing."""
from __future__ import annotations

from dataclasses import dataclass

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from ecvet import evidence
from ecvet.partnership import approvals, mou
from engine.db import Database
from engine.models import AuditEvent
from tests.api.conftest import Caller, Reviewed, World, assert_problem, sign_in
from tests.support.ecvet_factories import SIGNER, Party, mou_content, register
from tests.support.engine import actor_for
from tests.support.factories import make_org, make_user


@dataclass
class Partnership:
    """The world's DE school and ES company, the DE chamber and ES authority, one MoU in approval."""

    world: World
    mou_id: int
    content_hash: str
    chamber: Caller
    chamber_org: int
    authority_org: int


def _party(world: World, org_id: int, caller: Caller) -> Party:
    return Party(org_id, actor_for(world.db, caller.person.id), caller.person.id, caller.person.email)


def _member_of(db: Database, client: FlaskClient, org_id: int) -> Caller:
    return sign_in(client, make_user(db, organisation_ids=[org_id]))


@pytest.fixture
def partnership(world: World) -> Partnership:
    db = world.db
    chamber = make_org(db, name="IHK Köln", country="DE")
    authority = make_org(db, name="Junta de Andalucía", country="ES")
    chamber_caller = _member_of(db, world.client, chamber.id)
    register(db, chamber.id, "DE")
    register(db, authority.id, "ES")
    sender = _party(world, world.sending_org, world.sender)
    host = _party(world, world.hosting_org, world.host)
    with db.transaction() as s:
        memorandum = mou.create_draft(s, actor=sender.actor, sending_organisation_id=sender.org_id,
                                content=mou_content(sender, host, countries=("DE", "ES")),
                                business_key="MoU-DE-ES-7")
        approvals.submit(s, actor=sender.actor, mou_id=memorandum.id)
        digest = mou.current_version(memorandum).content_hash
    return Partnership(world, memorandum.id, digest, chamber_caller, chamber.id, authority.id)


def test_parties_and_admins_read_the_mou_others_get_404(partnership: Partnership) -> None:
    p, w = partnership, partnership.world
    for caller in (w.sender, w.host, p.chamber, w.admin):
        response = caller.get(f"/api/mous/{p.mou_id}")
        assert response.status_code == 200, response.get_json()
    body = w.host.get(f"/api/mous/{p.mou_id}").get_json()
    assert body["status"] == "in_approval"
    assert body["version"] == 1
    assert body["content_hash"] == p.content_hash
    assert body["content"]["file_code"] == "MoU-2027-001"
    assert body["business_key"] == "MoU-DE-ES-7"
    assert [r["if_silent"] for r in body["required_approvals"]] == [None, None, "escalated", "approved_by_silence"]
    keys = ("organisation_id", "role", "mode", "days", "decision")
    assert [{k: r[k] for k in keys} for r in body["required_approvals"]] == [
        {"organisation_id": w.sending_org, "role": "partner", "mode": "explicit", "days": 0, "decision": None},
        {"organisation_id": w.hosting_org, "role": "partner", "mode": "explicit", "days": 0, "decision": None},
        {"organisation_id": p.chamber_org, "role": "competent_institution", "mode": "explicit", "days": 28,
         "decision": None},
        {"organisation_id": p.authority_org, "role": "competent_institution", "mode": "implicit", "days": 20,
         "decision": None},
    ]
    assert {party["organisation_id"] for party in body["parties"]} == {
        w.sending_org, w.hosting_org, p.chamber_org, p.authority_org,
    }
    assert body["national_models"]["DE"]["model"] == "chamber_approval"
    assert body["approvals"] == []
    assert body["is_active"] is False
    assert body["problems"] == []

    assert_problem(w.outsider.get(f"/api/mous/{p.mou_id}"), 404)
    assert_problem(w.outsider.get(f"/api/mous/{p.mou_id}/versions/1"), 404)
    assert_problem(w.sender.get("/api/mous/999999"), 404)
    assert_problem(w.client.get(f"/api/mous/{p.mou_id}"), 401)


def test_a_version_is_read_by_number(partnership: Partnership) -> None:
    p, w = partnership, partnership.world
    body = w.sender.get(f"/api/mous/{p.mou_id}/versions/1").get_json()
    assert (body["number"], body["content_hash"]) == (1, p.content_hash)
    assert evidence.content_hash(body["content"]) == p.content_hash
    assert_problem(w.sender.get(f"/api/mous/{p.mou_id}/versions/2"), 404)


def test_approve_with_the_current_hash_201(partnership: Partnership) -> None:
    p, w = partnership, partnership.world
    response = w.host.post(f"/api/mous/{p.mou_id}/approvals",
                           json={"content_hash": p.content_hash, "signer": SIGNER})
    assert response.status_code == 201, response.get_json()
    approval = response.get_json()
    assert approval["organisation_id"] == w.hosting_org
    assert approval["role"] == "partner"
    assert approval["decision"] == "approved"
    assert approval["mode"] == "explicit"
    assert approval["counts"] is True
    # Signed by the caller's account, for the organisation the caller is a member of.
    me = w.host.get("/api/users/me").get_json()
    assert approval["signer"] == {"user_id": me["id"], "name": me["name"], "email": me["email"],
                                  "position": SIGNER["position"], "place": None}
    assert approval["version"] == 1
    assert approval["content_hash"] == p.content_hash

    response = p.chamber.post(f"/api/mous/{p.mou_id}/approvals",
                              json={"content_hash": p.content_hash, "signer": SIGNER,
                                    "as_role": "competent_institution"})
    assert response.status_code == 201, response.get_json()
    body = w.sender.get(f"/api/mous/{p.mou_id}").get_json()
    decisions = {(r["organisation_id"], r["role"]): r["decision"] for r in body["required_approvals"]}
    assert decisions[(w.hosting_org, "partner")] == "approved"
    assert decisions[(p.chamber_org, "competent_institution")] == "approved"
    assert decisions[(w.sending_org, "partner")] is None
    assert [a["organisation_id"] for a in body["approvals"]] == [w.hosting_org, p.chamber_org]


def test_a_stale_approval_is_409_and_nothing_is_stored(partnership: Partnership) -> None:
    p, w = partnership, partnership.world
    stale = "f" * 64
    body = assert_problem(w.host.post(f"/api/mous/{p.mou_id}/approvals",
                                      json={"content_hash": stale, "signer": SIGNER}), 409)
    assert body["detail"] == "stale: the MoU changed since you read it"
    assert p.content_hash in body["errors"]["content_hash"][0]
    assert w.host.get(f"/api/mous/{p.mou_id}").get_json()["approvals"] == []


def test_who_may_not_approve(partnership: Partnership) -> None:
    p, w = partnership, partnership.world
    url = f"/api/mous/{p.mou_id}/approvals"
    good = {"content_hash": p.content_hash, "signer": SIGNER}
    assert_problem(w.outsider.post(url, json=good), 404)
    assert_problem(w.host.post(url, json={**good, "as_role": "competent_institution"}), 403)
    assert_problem(w.admin.post(url, json=good), 403)
    invalid = assert_problem(w.host.post(url, json={"content_hash": p.content_hash,
                                                    "signer": {"position": "x" * 201, "seal": "yes"}}), 422)
    assert set(invalid["errors"]["signer"]) == {"position", "seal"}
    assert w.sender.get(f"/api/mous/{p.mou_id}").get_json()["approvals"] == []


def test_an_approval_in_another_persons_name_is_422_and_nothing_is_recorded(partnership: Partnership) -> None:
    """Issue 9: a Dutch college's member approved "as" the German coordinator by typing her name."""
    p, w = partnership, partnership.world
    url = f"/api/mous/{p.mou_id}/approvals"
    sender = w.sender.get("/api/users/me").get_json()
    forged = {"name": sender["name"], "email": sender["email"], "position": "VET coordinator"}
    body = assert_problem(w.host.post(url, json={"content_hash": p.content_hash, "signer": forged}), 422)
    assert set(body["errors"]) == {"signer.name", "signer.email"}
    assert "signed-in person" in body["errors"]["signer.name"][0]
    assert w.sender.get(f"/api/mous/{p.mou_id}").get_json()["approvals"] == []
    # The same request naming the caller (an older client sending its own name) is the caller's approval.
    me = w.host.get("/api/users/me").get_json()
    own = {"name": me["name"].upper(), "email": me["email"], "position": "Director"}
    approval = w.host.post(url, json={"content_hash": p.content_hash, "signer": own})
    assert approval.status_code == 201, approval.get_json()
    assert approval.get_json()["signer"]["name"] == me["name"], "the account's spelling is recorded"


def test_position_and_place_come_from_the_profile_when_the_form_leaves_them_out(partnership: Partnership) -> None:
    p, w = partnership, partnership.world
    url = f"/api/mous/{p.mou_id}/approvals"
    body = assert_problem(w.host.post(url, json={"content_hash": p.content_hash}), 422)
    assert set(body["errors"]) == {"signer.position"}
    profile = w.host.patch("/api/users/me", json={"position": "Jefe de cocina", "place": "Sevilla"})
    assert profile.status_code == 200, profile.get_json()
    assert (profile.get_json()["position"], profile.get_json()["place"]) == ("Jefe de cocina", "Sevilla")
    approval = w.host.post(url, json={"content_hash": p.content_hash})
    assert approval.status_code == 201, approval.get_json()
    assert (approval.get_json()["signer"]["position"], approval.get_json()["signer"]["place"]) == (
        "Jefe de cocina", "Sevilla")


def test_the_endpoints_are_documented(world: World) -> None:
    spec = world.client.get("/api/openapi.json").get_json()
    assert {"/api/mous/{mou_id}", "/api/mous/{mou_id}/versions/{number}", "/api/mous/{mou_id}/approvals",
            "/api/national-models/decision"} <= set(spec["paths"])
    responses = spec["paths"]["/api/mous/{mou_id}/approvals"]["post"]["responses"]
    assert {"201", "403", "404", "409", "422"} <= set(responses)
    assert responses["409"]["$ref"].endswith("/CONFLICT")
    assert "stale" in spec["paths"]["/api/mous/{mou_id}/approvals"]["post"]["description"]
    schemas = spec["components"]["schemas"]
    assert {"Mou", "Approval", "ApprovalRequest", "NationalModel"} <= set(schemas)
    assert "content_hash" in schemas["ApprovalRequest"]["required"]


def test_the_partnership_review_is_the_partners_only(partnership: Partnership) -> None:
    p, w = partnership, partnership.world
    url = f"/api/mous/{p.mou_id}/review"
    for caller in (w.sender, w.host, w.admin):
        body = caller.get(url).get_json()
        assert (body["mou_id"], body["mobilities"], body["reviews"], body["conclusions"]) == (p.mou_id, 0, 0, [])
        assert [q["question"] for q in body["questions"]] == ["outcomes_appropriate", "evidence_sufficient"]
    for caller in (p.chamber, w.outsider):  # a competent institution of the MoU is no partner of it
        assert_problem(caller.get(url), 404)
    conclude = f"/api/mous/{p.mou_id}/review-conclusions"
    assert_problem(w.host.post(conclude, json={"conclusions": "Longer stays", "request_revision": True}), 409)
    assert_problem(w.host.post(conclude, json={"conclusions": ""}), 422)
    assert_problem(w.admin.post(conclude, json={"conclusions": "Longer stays"}), 403)
    assert_problem(p.chamber.post(conclude, json={"conclusions": "Longer stays"}), 404)
    done = w.host.post(conclude, json={"conclusions": "Longer stays"})
    assert done.status_code == 201, done.get_json()
    assert (done.get_json()["organisation_id"], done.get_json()["revision_requested"]) == (w.hosting_org, False)
    assert [c["conclusions"] for c in w.sender.get(url).get_json()["conclusions"]] == ["Longer stays"]


def test_a_signing_partner_sets_who_reads_the_evaluation_sheets(reviewed: Reviewed) -> None:
    """PUT /api/mous/{id}/evaluation-visibility: a member of a signing partner (audited); 404 for whoever
    does not see the MoU, 403 for an administrator (the partners decide), 422 for an unknown policy."""
    r = reviewed
    mou_id = r.admin.get(f"/api/reviews/{r.review_id}").get_json()["mou_id"]
    url = f"/api/mous/{mou_id}/evaluation-visibility"
    assert r.host.get(url).get_json()["visibility"] == "own"
    assert_problem(r.learner.put(url, json={"visibility": "partners"}), 404)
    assert_problem(r.outsider.put(url, json={"visibility": "partners"}), 404)
    assert_problem(r.admin.put(url, json={"visibility": "partners"}), 403)
    assert_problem(r.host.put(url, json={"visibility": "everyone"}), 422)
    changed = r.host.put(url, json={"visibility": "partners"})
    assert changed.status_code == 200
    assert (changed.get_json()["visibility"], changed.get_json()["set_by"]) == ("partners", r.host.person.id)
    assert r.sender.get(url).get_json()["visibility"] == "partners"
    with r.run.db.transaction(write=False) as s:
        events = s.scalars(select(AuditEvent).where(AuditEvent.action == "review.evaluation_visibility_set")).all()
        assert [(e.actor_id, e.detail["old"], e.detail["new"]) for e in events] == [
            (r.host.person.id, "own", "partners")]
