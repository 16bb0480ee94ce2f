"""Connectors used by tests (loaded in worker subprocesses through ECVET_CONNECTORS)."""
from __future__ import annotations

import os
import time
from pathlib import Path

from engine.services import CONNECTORS as CONNECTORS_REGISTERED  # noqa: F401  (re-exported for tests)
from engine.services import connector

CALLS: list[str] = []


@connector("learner_lookup")
def learner_lookup(learner: str) -> dict[str, str]:
    """Fails while CALLS is shorter than the FAILS_BEFORE_SUCCESS threshold kept in FAILS."""
    CALLS.append(learner)
    if len(CALLS) <= FAILS[0]:
        raise ConnectionError(f"registry unreachable (call {len(CALLS)})")
    return {"learner": learner, "eqf_level": "4"}


FAILS = [0]


@connector("slow_probe")
def slow_probe(learner: str) -> dict[str, str]:
    """In a worker subprocess (ECVET_TEST_SLOW_MARKER set): announce the call, then hang to be killed."""
    marker = os.environ.get("ECVET_TEST_SLOW_MARKER")
    if marker:
        Path(marker).write_text("started")
        time.sleep(120)
    return {"learner": learner, "handled_by": str(os.getpid())}
