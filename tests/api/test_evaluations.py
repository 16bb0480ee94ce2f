"""/api/evaluations: one evaluation sheet, for the parties of its review the MoU's policy lets read it
(default: each party its own; the partner organisations each other's when they chose so; the learner only
ever their own); 404 to anyone else."""
from __future__ import annotations

from typing import Any

from tests.api.conftest import Caller, Reviewed, assert_problem


def sheets_by_party(reviewed: Reviewed) -> dict[str, dict[str, Any]]:
    body = reviewed.admin.get(f"/api/reviews/{reviewed.review_id}").get_json()
    return {sheet["party"]: sheet for sheet in body["evaluations"]}


def readable(caller: Caller, sheets: dict[str, dict[str, Any]]) -> set[str]:
    return {party for party, sheet in sheets.items()
            if caller.get(f"/api/evaluations/{sheet['id']}").status_code == 200}


def test_by_default_each_party_reads_its_own_sheet_only(reviewed: Reviewed) -> None:
    r = reviewed
    sheets = sheets_by_party(r)
    assert set(sheets) == {"sending", "hosting", "learner"}
    assert readable(r.sender, sheets) == {"sending"}
    assert readable(r.host, sheets) == {"hosting"}
    assert readable(r.learner, sheets) == {"learner"}
    assert readable(r.admin, sheets) == {"sending", "hosting", "learner"}
    hosting = r.host.get(f"/api/evaluations/{sheets['hosting']['id']}").get_json()
    assert hosting == sheets["hosting"]
    assert (hosting["review_id"], hosting["outcomes_appropriate"], hosting["evidence_sufficient"]) == (
        r.review_id, "partly", "yes")
    assert_problem(r.learner.get(f"/api/evaluations/{sheets['hosting']['id']}"), 404)


def test_when_the_partners_choose_so_the_organisations_read_each_others_sheets(reviewed: Reviewed) -> None:
    r = reviewed
    sheets = sheets_by_party(r)
    mou_id = r.admin.get(f"/api/reviews/{r.review_id}").get_json()["mou_id"]
    changed = r.sender.put(f"/api/mous/{mou_id}/evaluation-visibility", json={"visibility": "partners"})
    assert changed.status_code == 200, changed.get_json()
    assert readable(r.sender, sheets) == {"sending", "hosting"}
    assert readable(r.host, sheets) == {"sending", "hosting"}
    assert readable(r.learner, sheets) == {"learner"}  # a learner only ever reads their own


def test_outsiders_and_unknown_ids_get_404(reviewed: Reviewed) -> None:
    r = reviewed
    sheet = sheets_by_party(r)["sending"]
    assert_problem(r.outsider.get(f"/api/evaluations/{sheet['id']}"), 404)
    assert_problem(r.admin.get("/api/evaluations/999999"), 404)
    assert_problem(r.sender.get("/api/evaluations/0"), 404)
    assert_problem(r.host.client.get(f"/api/evaluations/{sheet['id']}"), 401)
