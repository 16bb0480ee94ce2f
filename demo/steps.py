"""The steps the demo's scenarios take: a task completed by a person at a moment, and the answers of
signing forms (shared by :mod:`demo.seed` and :mod:`demo.consortium`)."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from ecvet.partnership.models import Decision


class StuckError(Exception):
    """A scenario cannot go on as planned (its instance moved elsewhere): it is left as it is."""


@dataclass(frozen=True)
class Step:
    """Complete the task `bpmn_id` as `who`, `at` after the scenario began, with data made from the
    form's current values (which carry the hash being signed)."""

    bpmn_id: str
    who: str
    at: timedelta
    data: Callable[[dict[str, Any]], dict[str, Any]]


# Signing steps send the form back as it came, as a person clicking "Approve" does: the signer in it is
# the signed-in person the platform filled in, with the position and place of their profile.


def approve(values: dict[str, Any]) -> dict[str, Any]:
    return {"mou_hash": values["mou_hash"], "decision": Decision.APPROVED, "signer": values["signer"]}


def sign(values: dict[str, Any]) -> dict[str, Any]:
    return {"la_hash": values["la_hash"], "decision": "sign", "signer": values["signer"]}
