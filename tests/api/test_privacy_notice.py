"""/api/privacy-notice (api/privacy_notice.py): the notice for anyone in the language asked for, and a
signed-in person acknowledging the current version (201), an older one refused (409)."""
from __future__ import annotations

from flask import Flask

from tests.api.conftest import World, assert_problem


def test_anyone_reads_the_notice_in_the_language_asked_for(app: Flask) -> None:
    client = app.test_client()
    english = client.get("/api/privacy-notice")
    assert english.status_code == 200
    body = english.get_json()
    assert body["language"] == "en"
    assert body["title"] == "Privacy notice"
    assert len(body["version"]) == 64
    assert [s["key"] for s in body["sections"]][:2] == ["controller", "data"]
    assert "sending organisation" in body["sections"][0]["text"]
    german = client.get("/api/privacy-notice", headers={"Accept-Language": "de-AT,de;q=0.9"}).get_json()
    assert (german["language"], german["title"], german["version"]) == ("de", "Datenschutzhinweis", body["version"])
    french = client.get("/api/privacy-notice?language=fr").get_json()
    assert french["title"].startswith("Notice d'information")
    assert_problem(client.get("/api/privacy-notice?language=xx"), 422)


def test_a_signed_in_person_acknowledges_the_current_version_once(app: Flask, world: World) -> None:
    version = app.test_client().get("/api/privacy-notice").get_json()["version"]
    assert_problem(world.client.post("/api/privacy-notice/acknowledgements", json={"version": version}), 401)
    created = world.sender.post("/api/privacy-notice/acknowledgements", json={"version": version, "language": "nl"})
    assert created.status_code == 201, created.get_json()
    assert (created.get_json()["notice_version"], created.get_json()["language"]) == (version, "nl")
    again = world.sender.post("/api/privacy-notice/acknowledgements", json={"version": version})
    assert again.get_json()["id"] == created.get_json()["id"]
    mine = world.sender.get("/api/privacy-notice/acknowledgements").get_json()
    assert [a["id"] for a in mine] == [created.get_json()["id"]]
    assert world.host.get("/api/privacy-notice/acknowledgements").get_json() == []
    assert_problem(world.host.post("/api/privacy-notice/acknowledgements", json={"version": "0" * 64}), 409)
    assert_problem(world.host.post("/api/privacy-notice/acknowledgements", json={"version": "short"}), 422)
