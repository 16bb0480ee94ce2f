"""/api/process-definitions: deploying bundles over HTTP, versions, files, and refused bundles."""
from __future__ import annotations

import io
from typing import Any

import pytest

from engine.config import ROOT
from tests.api.conftest import TWO_LANE, Caller, World, assert_problem, deploy_files, post_bundle

FORMS = ROOT / "forms"
PROPOSE_FORM = FORMS / "two_lane_propose.json"
REVIEW_FORM = FORMS / "two_lane_review.json"
BUNDLE = [TWO_LANE, PROPOSE_FORM, REVIEW_FORM]
FILE_NAMES = ["two_lane_propose.json", "two_lane_review.bpmn", "two_lane_review.json"]
BPMN = TWO_LANE.read_bytes()
# the same process with one shape moved: a new version
MOVED = BPMN.replace(b'<dc:Bounds x="232" y="162"', b'<dc:Bounds x="233" y="162"', 1)

BPMN_NS = 'xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"'

BROKEN_XML = b'<?xml version="1.0"?>\n<bpmn:definitions ' + BPMN_NS.encode() + b">\n<unclosed>\n</bpmn:definitions>"

BILLION_LAUGHS = (
    b'<?xml version="1.0"?>\n<!DOCTYPE lolz [\n <!ENTITY lol "lol">\n'
    + b"".join(
        f' <!ENTITY lol{n} "{("&lol" + (str(n - 1) if n > 2 else "") + ";") * 10}">\n'.encode()
        for n in range(2, 10)
    )
    + b"]>\n<bpmn:definitions " + BPMN_NS.encode() + b'><bpmn:process id="p">'
    b"<bpmn:documentation>&lol9;</bpmn:documentation></bpmn:process></bpmn:definitions>"
)


def xxe(target: str) -> bytes:
    return (
        '<?xml version="1.0"?>\n'
        f'<!DOCTYPE bpmn:definitions [<!ENTITY xxe SYSTEM "{target}">]>\n'
        f"<bpmn:definitions {BPMN_NS}>"
        '<bpmn:process id="p" isExecutable="true"><bpmn:documentation>&xxe;</bpmn:documentation>'
        "</bpmn:process></bpmn:definitions>"
    ).encode()



def assert_bundle_errors(response: Any) -> list[dict[str, Any]]:
    """422 problem+json whose errors are a non-empty list of {file, element_id, message}."""
    body = assert_problem(response, 422)
    errors = body["errors"]
    assert isinstance(errors, list), body
    assert errors, body
    for error in errors:
        assert {"file", "element_id", "message"} <= set(error), error
        assert isinstance(error["message"], str)
        assert error["message"]
        assert error["file"] is None or isinstance(error["file"], str)
        assert error["element_id"] is None or isinstance(error["element_id"], str)
    assert "Traceback" not in response.get_data(as_text=True)
    return errors



def listing(caller: Caller) -> list[tuple[str, int, str]]:
    response = caller.get("/api/process-definitions", query_string={"limit": "200"})
    assert response.status_code == 200, response.get_json()
    return [(d["key"], d["version"], d["content_hash"]) for d in response.get_json()["items"]]


def only_definition(response: Any) -> dict[str, Any]:
    definitions = response.get_json()["definitions"]
    assert len(definitions) == 1, definitions
    return definitions[0]


# --------------------------------------------------------------------------------------------------
# deploying and versions
# --------------------------------------------------------------------------------------------------


def test_deploy_creates_version_1_then_identical_files_return_it(world: World) -> None:
    first = deploy_files(world.admin, BUNDLE)
    assert first.status_code == 201, first.get_json()
    created = only_definition(first)
    assert created["key"] == "two_lane_review"
    assert created["version"] == 1
    assert created["name"] == "Two-lane review"
    assert created["roles"] == {"sending": "Sending organisation", "hosting": "Hosting organisation"}
    assert created["files"] == FILE_NAMES
    assert created["created"] is True
    assert len(created["content_hash"]) == 64

    again = deploy_files(world.admin, BUNDLE)
    assert again.status_code == 200, again.get_json()
    same = only_definition(again)
    assert same["created"] is False
    assert (same["version"], same["content_hash"]) == (1, created["content_hash"])
    assert same["files"] == FILE_NAMES

    # forms taken from the server's forms directory give the same content, hence the same version
    bpmn_only = deploy_files(world.admin, [TWO_LANE])
    assert bpmn_only.status_code == 200
    assert only_definition(bpmn_only)["version"] == 1
    assert listing(world.admin) == [("two_lane_review", 1, created["content_hash"])]


def test_changed_file_makes_version_2(world: World) -> None:
    assert MOVED != BPMN
    assert deploy_files(world.admin, BUNDLE).status_code == 201
    changed = post_bundle(world.admin, {"two_lane_review.bpmn": MOVED})
    assert changed.status_code == 201, changed.get_json()
    v2 = only_definition(changed)
    assert (v2["key"], v2["version"], v2["created"]) == ("two_lane_review", 2, True)
    assert [v for _, v, _ in listing(world.admin)] == [1, 2]
    # a changed form alone is a change of the process too
    form = PROPOSE_FORM.read_bytes().replace(b'"minLength": 3', b'"minLength": 4')
    response = post_bundle(world.admin, {"two_lane_review.bpmn": MOVED, "two_lane_propose.json": form})
    assert response.status_code == 201
    assert only_definition(response)["version"] == 3
    # going back to the first content finds version 1 again
    back = deploy_files(world.admin, BUNDLE)
    assert back.status_code == 200
    assert only_definition(back)["version"] == 1


def test_get_definition_with_versions_and_instance_counts(world: World) -> None:
    assert deploy_files(world.admin, BUNDLE).status_code == 201
    started = world.sender.post("/api/process-instances", json={
        "process_key": "two_lane_review", "parties": {"sending": world.sending_org, "hosting": world.hosting_org},
    })
    assert started.status_code == 201, started.get_json()
    assert post_bundle(world.admin, {"two_lane_review.bpmn": MOVED}).status_code == 201

    for _ in range(2):
        on_v1 = world.sender.post("/api/process-instances", json={
            "process_key": "two_lane_review", "version": 1,
            "parties": {"sending": world.sending_org, "hosting": world.hosting_org},
        })
        assert on_v1.status_code == 201
        assert on_v1.get_json()["version"] == 1

    latest = world.sender.get("/api/process-definitions/two_lane_review")
    assert latest.status_code == 200
    detail = latest.get_json()
    assert detail["version"] == 2
    assert detail["instance_counts"] == {"1": 3}
    assert detail["files"] == FILE_NAMES
    assert [t["bpmn_id"] for t in detail["user_tasks"]] == ["propose", "review"]
    assert detail["user_tasks"][0]["role"] == "sending"

    v1 = world.outsider.get("/api/process-definitions/two_lane_review", query_string={"version": "1"})
    assert v1.status_code == 200
    assert v1.get_json()["version"] == 1
    assert v1.get_json()["content_hash"] != detail["content_hash"]
    assert v1.get_json()["instance_counts"] == {"1": 3}

    assert_problem(world.sender.get("/api/process-definitions/two_lane_review", query_string={"version": "9"}), 404)
    assert_problem(world.sender.get("/api/process-definitions/no_such_process"), 404)
    assert_problem(world.sender.get("/api/process-definitions/two_lane_review", query_string={"version": "x"}), 422)

    listed = world.host.get("/api/process-definitions").get_json()
    assert [(d["key"], d["version"]) for d in listed["items"]] == [("two_lane_review", 1), ("two_lane_review", 2)]
    assert listed["next_cursor"] is None
    by_key = world.host.get("/api/process-definitions", query_string={"key": "other"}).get_json()
    assert by_key["items"] == []


def test_reading_definitions_needs_a_token(world: World) -> None:
    assert deploy_files(world.admin, BUNDLE).status_code == 201
    for url in ("/api/process-definitions", "/api/process-definitions/two_lane_review",
                "/api/process-definitions/two_lane_review/versions/1/files/two_lane_review.bpmn"):
        assert_problem(world.client.get(url), 401)


def test_deployed_files_download_byte_for_byte(world: World) -> None:
    assert deploy_files(world.admin, BUNDLE).status_code == 201
    assert post_bundle(world.admin, {"two_lane_review.bpmn": MOVED}).status_code == 201
    base = "/api/process-definitions/two_lane_review/versions"

    bpmn = world.host.get(f"{base}/1/files/two_lane_review.bpmn")
    assert bpmn.status_code == 200
    assert bpmn.data == BPMN
    assert bpmn.mimetype == "application/xml"
    assert world.host.get(f"{base}/2/files/two_lane_review.bpmn").data == MOVED

    form = world.sender.get(f"{base}/1/files/two_lane_propose.json")
    assert form.status_code == 200
    assert form.data == PROPOSE_FORM.read_bytes()
    assert form.mimetype == "application/json"
    # the form version 2 uses came from the forms directory: stored as it was
    assert world.sender.get(f"{base}/2/files/two_lane_review.json").data == REVIEW_FORM.read_bytes()

    assert_problem(world.sender.get(f"{base}/1/files/nothing.json"), 404)
    assert_problem(world.sender.get(f"{base}/3/files/two_lane_review.bpmn"), 404)
    assert_problem(world.sender.get(f"{base}/1/files/../../../../etc/passwd"), 404)
    assert_problem(world.sender.get("/api/process-definitions/ghost/versions/1/files/two_lane_review.bpmn"), 404)


# --------------------------------------------------------------------------------------------------
# refused bundles
# --------------------------------------------------------------------------------------------------


def _missing_form_bpmn() -> bytes:
    changed = BPMN.replace(b'value="two_lane_propose.json"', b'value="nowhere.json"')
    assert changed != BPMN
    return changed


REFUSED = {
    "invalid-xml": ({"broken.bpmn": BROKEN_XML}, "broken.bpmn", None, "not well-formed XML"),
    "billion-laughs": ({"lol.bpmn": BILLION_LAUGHS}, "lol.bpmn", None, "DOCTYPE and entity declarations"),
    "xxe": ({"xxe.bpmn": xxe("file:///etc/passwd")}, "xxe.bpmn", None, "DOCTYPE and entity declarations"),
    "missing-form": ({"two_lane_review.bpmn": _missing_form_bpmn()}, "two_lane_review.bpmn", "propose",
                     "nowhere.json"),
}


@pytest.mark.parametrize("case", list(REFUSED))
def test_refused_bundle_gets_every_error_and_stores_nothing(world: World, case: str) -> None:
    files, file, element_id, message = REFUSED[case]
    assert deploy_files(world.admin, BUNDLE).status_code == 201
    before = listing(world.admin)

    response = post_bundle(world.admin, files)
    errors = assert_bundle_errors(response)
    mine = [e for e in errors if e["file"] == file]
    assert mine, errors
    assert any(message in e["message"] for e in mine), errors
    if element_id is not None:
        assert any(e["element_id"] == element_id for e in mine), errors
    assert "root:" not in response.get_data(as_text=True)
    assert listing(world.admin) == before


def test_xxe_reads_no_local_file(world: World, tmp_path: Any) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-4d1e")
    for target in (secret.as_uri(), "file:///etc/passwd", "http://127.0.0.1:9/evil"):
        response = post_bundle(world.admin, {"xxe.bpmn": xxe(target)})
        errors = assert_bundle_errors(response)
        assert [e["message"] for e in errors] == ["DOCTYPE and entity declarations are not allowed"]
        text = response.get_data(as_text=True)
        assert "TOP-SECRET" not in text
        assert "root:" not in text
    assert listing(world.admin) == []


def test_one_bad_file_refuses_the_whole_bundle(world: World) -> None:
    assert deploy_files(world.admin, BUNDLE).status_code == 201
    before = listing(world.admin)
    response = post_bundle(world.admin, {"two_lane_review.bpmn": MOVED, "broken.bpmn": BROKEN_XML,
                                         "lol.bpmn": BILLION_LAUGHS})
    errors = assert_bundle_errors(response)
    # every problem at once, each on its own file
    assert {e["file"] for e in errors} >= {"broken.bpmn", "lol.bpmn"}
    assert "two_lane_review.bpmn" not in {e["file"] for e in errors}
    # the valid changed process was not deployed as version 2 either
    assert listing(world.admin) == before
    assert_problem(world.admin.get("/api/process-definitions/two_lane_review", query_string={"version": "2"}), 404)


def test_deploy_without_files_is_422(world: World) -> None:
    no_files = world.admin.post("/api/process-definitions", data={"note": "hello"}, content_type="multipart/form-data")
    body = assert_problem(no_files, 422)
    assert "files" in body["errors"]
    json_body = world.admin.post("/api/process-definitions", json={"files": []})
    assert_problem(json_body, 415)  # a bundle is multipart: JSON is the wrong media type, not wrong content
    assert listing(world.admin) == []


def test_duplicate_file_names_are_refused(world: World) -> None:
    data = {"files[]": [(io.BytesIO(BPMN), "two_lane_review.bpmn"), (io.BytesIO(MOVED), "two_lane_review.bpmn")]}
    response = world.admin.post("/api/process-definitions", data=data, content_type="multipart/form-data")
    body = assert_problem(response, 422)
    assert "files" in body["errors"]
    assert listing(world.admin) == []


def test_only_admins_deploy(world: World) -> None:
    for caller in (world.sender, world.host, world.outsider):
        body = assert_problem(deploy_files(caller, BUNDLE), 403)
        assert "administrator" in body["detail"]
    assert_problem(world.client.post("/api/process-definitions", data={"files[]": [(io.BytesIO(BPMN), "a.bpmn")]},
                                     content_type="multipart/form-data"), 401)
    assert listing(world.admin) == []


def test_upload_over_the_request_limit_is_413(world: World, app: Any) -> None:
    limit = app.config["MAX_CONTENT_LENGTH"]
    response = post_bundle(world.admin, {"huge.json": b" " * (limit + 1000)})
    body = assert_problem(response, 413)
    assert "Traceback" not in response.get_data(as_text=True)
    assert body["detail"]
    assert listing(world.admin) == []


def test_file_over_the_per_file_limit_is_422(world: World) -> None:
    big = BPMN.replace(b"</bpmn:definitions>", b"<!--" + b"x" * 5_000_001 + b"-->\n</bpmn:definitions>")
    errors = assert_bundle_errors(post_bundle(world.admin, {"two_lane_review.bpmn": big}))
    assert any(e["file"] == "two_lane_review.bpmn" and "over the limit" in e["message"] for e in errors), errors
    assert listing(world.admin) == []


def test_bundle_over_the_total_limit_is_422(world: World, app: Any) -> None:
    total = app.extensions["ecvet_settings"].max_bundle_bytes
    part = total // 5 + 1  # five files under the per-file limit, together just over the bundle limit
    assert part < 5_000_000
    files = {f"pad{n}.json": b" " * (part - 2) + b"{}" for n in range(5)}
    assert sum(map(len, files.values())) > total
    errors = assert_bundle_errors(post_bundle(world.admin, files))
    assert any("exceeds" in e["message"] or "over the limit" in e["message"] for e in errors), errors
    assert listing(world.admin) == []
