"""Connectors of the Mobility process, run by the worker: the mobility goes live at its start date, and
the competent institution's silence becomes an implicit approval of the Learning Agreement.

Connectors get only their parameters; the unit of work is the worker job's
(:func:`engine.services.current_session`). Importing this
module registers the connectors (see :mod:`records.wiring`).
"""
from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from engine import services

from . import learning_agreement as las
from . import mobility as mobilities
from .models import LearningAgreement


def _session() -> Session:
    return services.current_session()


@services.connector("mobility.go_live")
def go_live(mobility_id: int) -> str:
    """The start date has come with the Learning Agreement in force: the mobility is live."""
    return mobilities.go_live(_session(), mobility_id=mobility_id).status


@services.connector("mobility.start_missed")
def start_missed(mobility_id: int) -> dict[str, Any]:
    """The start date came without the agreement in force: record it and return where the signing stood
    (the sending coordinator's alert shows it)."""
    return mobilities.start_missed(_session(), mobility_id=mobility_id)


@services.connector("mobility.la_implicit_approval")
def la_implicit_approval(la_id: int) -> str:
    """The competent institution raised no objection within its period: record the implicit approval and
    return the agreement's status (``approved``)."""
    session = _session()
    las.implicit_approval(session, la_id=la_id)
    la = session.get(LearningAgreement, la_id)
    assert la is not None
    return la.status
