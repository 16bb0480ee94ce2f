"""/api/evaluations: one evaluation sheet, for the parties of its review; 404 to anyone else."""
from __future__ import annotations

from tests.api.conftest import Reviewed, assert_problem


def test_each_party_reads_every_sheet_of_its_review(reviewed: Reviewed) -> None:
    r = reviewed
    sheets = r.sender.get(f"/api/reviews/{r.review_id}").get_json()["evaluations"]
    for caller in (r.sender, r.host, r.learner, r.admin):
        read = [caller.get(f"/api/evaluations/{sheet['id']}").get_json() for sheet in sheets]
        assert read == sheets
    hosting = next(sheet for sheet in sheets if sheet["party"] == "hosting")
    assert (hosting["review_id"], hosting["outcomes_appropriate"], hosting["evidence_sufficient"]) == (
        r.review_id, "partly", "yes")


def test_outsiders_and_unknown_ids_get_404(reviewed: Reviewed) -> None:
    r = reviewed
    sheet = r.sender.get(f"/api/reviews/{r.review_id}").get_json()["evaluations"][0]
    assert_problem(r.outsider.get(f"/api/evaluations/{sheet['id']}"), 404)
    assert_problem(r.admin.get("/api/evaluations/999999"), 404)
    assert_problem(r.sender.get("/api/evaluations/0"), 404)
    assert_problem(r.host.client.get(f"/api/evaluations/{sheet['id']}"), 401)
