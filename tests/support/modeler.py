"""What browser tests of the modeler share: the two-lane diagram, deploying files, the console watched for errors."""
from __future__ import annotations

from typing import Any

from engine import deployments
from engine.config import ROOT
from engine.db import Database

TWO_LANE = ROOT / "processes" / "two_lane_review.bpmn"


def deploy(db: Database, *paths: Any) -> None:
    with db.transaction() as s:
        deployments.deploy(s, actor=None, files={p.name: p.read_bytes() for p in paths}, forms_dir=ROOT / "forms")


KNOWN_NOISE = ("Failed to load resource",)


def watch_console(page: Any) -> list[str]:
    """Script errors and CSP violations the page logs: a page that works logs none. (Failed requests
    are logged too; their statuses are asserted where they matter, e.g. the 422 of a refused save.)"""
    problems: list[str] = []

    def on_console(message: Any) -> None:
        if message.type == "error" and not message.text.startswith(KNOWN_NOISE):
            problems.append(message.text)

    page.on("console", on_console)
    page.on("pageerror", lambda error: problems.append(str(error)))
    return problems
