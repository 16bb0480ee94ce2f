"""api/web/audit_text.py: audit entries read as sentences with labelled details, never as Python structures."""
from __future__ import annotations

from api.web import audit_text


def test_a_known_action_is_a_sentence_naming_the_task_and_the_colleague() -> None:
    said = audit_text.sentence("task.assigned", {"bpmn_id": "prepare_la", "claimed_by": 7}, task="Prepare the LA",
                               names={7: "Marta Gil"})
    assert said == "Handed “Prepare the LA” to Marta Gil"
    assert audit_text.details("task.assigned", {"bpmn_id": "prepare_la", "claimed_by": 7}) == []


def test_structures_codes_and_hashes_read_as_words() -> None:
    detail = {"parties": {"sending": {"organisation_id": 1}, "hosting": {"organisation_id": 2}},
              "new": "in_force", "content_hash": "ab" * 32, "reason": None, "units": ["U1", "U2"], "mou_id": 3}
    pairs = dict(audit_text.details("instance.started", detail))
    assert pairs == {"Parties": "Sending, Hosting", "New": "in force", "Content hash": "abababababab…",
                     "Reason": "—", "Units": "U1, U2"}
    said = audit_text.sentence("mou.status_changed", {"new": "in_force"}, task=None, names={})
    assert said == "The MoU is now in force"
    assert "{" not in " ".join(v for _, v in pairs.items())


def test_an_action_the_catalogue_does_not_know_is_said_in_words() -> None:
    assert audit_text.sentence("widget.polished", {}, task=None, names={}) == "Widget polished"
    assert audit_text.sentence("mou.status_changed", {}, task=None, names={}) == "The MoU is now —"
