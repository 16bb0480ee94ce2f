"""api/web/messages.py: every key the pages use is in the catalogue, fields are filled in, keys read as words;
the pages in the reader's language: the catalogues are complete in every language, the profile's choice wins
over the browser's Accept-Language, and a page rendered in German shows no English text of the catalogue."""
from __future__ import annotations

import html
import re
from pathlib import Path

import pytest
from flask import Flask, g

from api.web import inbox, messages
from ecvet.documents.catalogue import CATALOGUE as DOCUMENT_TEXTS
from ecvet.mobility import la_content
from ecvet.mobility.vocabulary import LaChange
from engine import parties
from tests.api.conftest import World
from tests.api.web.conftest import Browser, browser_for, ready_task, start_two_lane

FIELD = re.compile(r"\{([a-z_0-9]*)\}")
TAG = re.compile(r"<(script|style)\b.*?</\1>|<[^>]+>", re.S)

API = Path(messages.__file__).resolve().parent.parent
USED = re.compile(r"""\bt\(\s*["']([a-z_.]+)["']""")


def used_keys() -> set[str]:
    found: set[str] = set()
    for path in [*API.glob("templates/**/*.html"), *API.glob("web/*.py")]:
        found |= set(USED.findall(path.read_text(encoding="utf-8")))
    return found


def test_every_key_the_pages_use_is_in_the_catalogue() -> None:
    keys = used_keys()
    assert "work.claim" in keys
    assert sorted(k for k in keys if not k.endswith(".") and not messages.has(k)) == []
    for choices in (inbox.STATES, inbox.OVERDUE, inbox.ORDERS):
        assert all(messages.has(key) for key in choices.values())
    assert all(messages.has(f"task.state.{state}") for state in ("ready", "completed", "cancelled"))


def test_fields_are_filled_in_and_a_missing_key_is_an_error() -> None:
    assert messages.t("work.assigned", name="Marta Gil") == "Marta Gil works on this task now."
    with pytest.raises(KeyError):
        messages.t("no.such.key")


def test_keys_without_a_schema_title_read_as_words() -> None:
    assert messages.field_label("ecvet_points") == "ECVET points"
    assert messages.field_label("due_date") == "Due date"


def test_code_values_in_read_only_tables_read_as_words() -> None:
    """What changed in a Learning Agreement version: its sections and kinds of change, never their codes."""
    assert messages.value_label("assessment", "section") == "Assessment arrangements"
    assert messages.value_label("replaced", "change") == "replaced"
    assert all(messages.has(f"value.section.{name}") for name in la_content.SECTIONS)
    assert all(messages.has(f"value.change.{kind}") for kind in LaChange.ALL)
    assert messages.value_label("U1", "unit") == "U1"  # what is not a code stays as it is
    assert messages.value_label(12, "ecvet_points") == 12


@pytest.mark.parametrize(("noun", "expected"), [
    ("item", "an item"), ("assessor", "an assessor"), ("unit", "a unit"), ("learning outcome", "a learning outcome"),
    ("ECVET point", "an ECVET point"), ("user", "a user"), ("hour", "an hour"),
])
def test_the_indefinite_article_fits_the_word(noun: str, expected: str) -> None:
    assert messages.with_article(noun) == expected


def test_the_pages_speak_the_languages_a_profile_may_choose() -> None:
    assert set(messages.LANGUAGE_NAMES) == set(parties.LANGUAGES)
    assert all(messages.po_path(language).exists() for language in messages.TRANSLATED)


@pytest.mark.parametrize("language", messages.TRANSLATED)
def test_every_message_is_translated_with_the_same_fields(language: str) -> None:
    english = messages.english()
    entries = {str(m.context): m for m in messages.read_catalog(language) if m.context}
    assert sorted(set(entries) - set(english)) == []  # nothing stale: `ecvet catalogue update` removes it
    untranslated = [k for k in english if k not in entries or not entries[k].string or entries[k].fuzzy
                    or entries[k].id != english[k]]
    assert untranslated == []
    fields = [k for k in english if sorted(FIELD.findall(english[k])) != sorted(FIELD.findall(str(entries[k].string)))]
    assert fields == []


def test_a_message_follows_the_language_and_falls_back_to_english_outside_a_request() -> None:
    assert messages.t("task.back", "de") == "Zurück zu meinen Aufgaben"
    assert messages.t("task.back", "it") == "Torna ai miei compiti"
    assert messages.t("task.back") == "Back to my tasks"
    assert messages.t("start.process_choice", "fr", name="Mobilité", key="mobility", version=3) == \
        "Mobilité (mobility, version 3)"


def test_form_errors_are_said_in_the_readers_language(app: Flask) -> None:
    errors = {"weeks": ["Enter 2 or more"], "email": ["Enter an e-mail address, such as name@example.org"],
              "units": ["Add at least 1 entry", "Something the catalogue does not know"]}
    with app.test_request_context("/tasks"):
        assert messages.field_errors(errors) == errors  # English: as the validation wrote it
        g.language = "de"
        assert messages.field_errors(errors) == {
            "weeks": ["Geben Sie 2 oder mehr ein"],
            "email": ["Geben Sie eine E-Mail-Adresse ein, z. B. name@example.org"],
            "units": ["Fügen Sie mindestens 1 Eintrag hinzu", "Something the catalogue does not know"]}


@pytest.mark.parametrize(("profile", "accepted", "expected"), [
    (None, ["de-AT", "en"], "de"), (None, ["pt", "es"], "es"), (None, ["pt"], "en"), (None, [], "en"),
    ("it", ["de"], "it"), ("xx", ["nl"], "nl"),
])
def test_the_profile_wins_then_the_browser_then_english(profile: str | None, accepted: list[str],
                                                        expected: str) -> None:
    assert messages.negotiate(profile, accepted) == expected


def test_the_sign_in_page_follows_accept_language(app: Flask) -> None:
    browser = browser_for(app)
    german = browser.get("/sign-in", headers={"Accept-Language": "de-DE,de;q=0.9,en;q=0.5"}).get_data(as_text=True)
    assert '<html lang="de">' in german
    assert "Anmelden" in german
    assert "Passwort" in german
    spanish = browser.get("/sign-in", headers={"Accept-Language": "es"}).get_data(as_text=True)
    assert '<html lang="es">' in spanish
    assert "Contraseña" in spanish
    unknown = browser.get("/sign-in", headers={"Accept-Language": "pt-BR"}).get_data(as_text=True)
    assert '<html lang="en">' in unknown
    assert "Password" in unknown


def test_a_language_chosen_on_the_profile_beats_the_browser(world: World, pages: dict[str, Browser]) -> None:
    sender = pages["sender"]
    german = {"Accept-Language": "de"}
    assert "Meine Aufgaben" in sender.get("/tasks", headers=german).get_data(as_text=True)
    saved = sender.post("/profile", {"position": "", "place": "", "language": "it"}, headers=german)
    assert saved.status_code == 302
    page = sender.get("/profile", headers=german).get_data(as_text=True)
    assert '<html lang="it">' in page
    assert "Il tuo profilo è salvato" in page  # the confirmation already in the language chosen
    assert '<option value="it" lang="it" selected>Italiano</option>' in page
    refused = sender.post("/profile", {"position": "", "place": "", "language": "tlh"})
    assert refused.status_code == 422
    assert world.sender.get("/api/users/me").get_json()["language"] == "it"
    sender.post("/profile", {"position": "", "place": "", "language": ""})
    assert '<html lang="de">' in sender.get("/tasks", headers=german).get_data(as_text=True)


#: What process owners wrote (BPMN instructions, the form's titles and help): their text, as typed.
OWNERS_TEXT = re.compile(
    r'<section class="instructions".*?</section>|<form[^>]*class="generated-form">.*?</form>', re.S)


def _visible_text(page: str) -> str:
    """The page's text as a person reads it, without the process owners' own words."""
    return " ".join(html.unescape(TAG.sub(" ", OWNERS_TEXT.sub(" ", page))).split())


def _english_leftovers(text: str) -> list[str]:
    """English catalogue texts of more than one word found in `text` that German words differently;
    texts of the documents' catalogue are left out (documents are bilingual on purpose)."""
    german = messages.catalogue("de")
    found = []
    for key, english in messages.english().items():
        said = english if "{" not in english else max(FIELD.split(english)[::2], key=len).strip(" :·,.")
        if " " not in said or said in german[key] or said in DOCUMENT_TEXTS:
            continue
        if said in text:
            found.append(f"{key}: {said}")
    return found


def test_every_page_renders_in_german_without_english_catalogue_text(app: Flask, world: World,
                                                                     pages: dict[str, Browser]) -> None:
    instance_id = start_two_lane(world)
    task = ready_task(world.sender, instance_id)
    german = {"Accept-Language": "de"}
    admin, sender = pages["admin"], pages["sender"]
    urls = [(admin, ["/tasks", "/documents", "/start", "/start/partnership", "/start/mobility", "/start/instance",
                    "/start/instance?process_key=two_lane_review", "/profile", "/monitor", "/monitor/instances",
                    "/monitor/heatmap/two_lane_review", "/definitions", "/definitions/two_lane_review",
                    "/definitions/two_lane_review/versions/1", f"/instances/{instance_id}", "/verify",
                    "/no-such-page", "/tasks?state=nonsense"]),
            (sender, [f"/tasks/{task['id']}", "/tasks", f"/instances/{instance_id}"])]
    for browser, paths in urls:
        for path in paths:
            response = browser.get(path, headers=german)
            page = response.get_data(as_text=True)
            assert '<html lang="de">' in page, path
            left = _english_leftovers(_visible_text(page))
            assert left == [], (path, left)
    signed_out = browser_for(app).get("/sign-in", headers=german).get_data(as_text=True)
    assert _english_leftovers(_visible_text(signed_out)) == []
