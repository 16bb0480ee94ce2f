"""The administrators' dashboard aggregates, computed by the worker and read from one row.

Counting instances per status and phase means grouping every instance and ready task: at 100,000
instances that is most of a second, too much for each page view. The worker recomputes them every
REFRESH into `dashboard_summaries`; an administrator's dashboard reads that row while it is
younger than MAX_AGE, and computes live otherwise (no worker running). Other people's dashboards are
always live: they count only the instances they are a party of, through the party indexes.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy.orm import Session

from . import monitoring
from .models import DashboardSummary, utcnow
from .parties import Actor

REFRESH = timedelta(seconds=10)
MAX_AGE = timedelta(seconds=60)
DEFAULT_DAYS = 30
_NAME = "administrators"
_EVERYONE = Actor(user_id=0, email="", is_admin=True)  # what an administrator sees: every instance


@dataclass(frozen=True)
class Dashboard:
    by_status: list[monitoring.StatusCount]
    phases: list[monitoring.PhaseCount]
    series: list[monitoring.DayCount]


def compute(session: Session, *, actor: Actor, days: int = DEFAULT_DAYS) -> Dashboard:
    """The aggregates as they are now (the GROUP BY queries of engine/monitoring.py)."""
    return Dashboard(
        by_status=monitoring.instances_by_status(session, actor=actor),
        phases=monitoring.instances_by_phase(session, actor=actor),
        series=monitoring.counts_over_time(session, actor=actor, days=days),
    )


def refresh(session: Session) -> None:
    """Recompute the administrators' aggregates into their row (the worker calls this)."""
    current = compute(session, actor=_EVERYONE)
    data = {
        "by_status": [asdict(r) for r in current.by_status],
        "phases": [asdict(r) for r in current.phases],
        "series": [{**asdict(r), "day": r.day.isoformat()} for r in current.series],
    }
    row = session.get(DashboardSummary, _NAME)
    if row is None:
        session.add(DashboardSummary(name=_NAME, computed_at=utcnow(), data=data))
    else:
        row.computed_at, row.data = utcnow(), data


def dashboard(session: Session, *, actor: Actor, days: int = DEFAULT_DAYS) -> Dashboard:
    """What the dashboard shows `actor`: the worker's row for administrators when fresh, else live."""
    if actor.is_admin and days == DEFAULT_DAYS:
        row = session.get(DashboardSummary, _NAME)
        if row is not None and utcnow() - row.computed_at <= MAX_AGE:
            return _restore(row.data, days)
    return compute(session, actor=actor, days=days)


def _restore(data: dict[str, Any], days: int) -> Dashboard:
    series = [monitoring.DayCount(date.fromisoformat(r["day"]), r["started"], r["completed"]) for r in data["series"]]
    today = utcnow().date()
    first = today - timedelta(days=days - 1)
    known = {d.day: d for d in series}
    # The row may be from before midnight: the window is today's, days the row does not know are zero.
    window = [known.get(first + timedelta(days=i)) or monitoring.DayCount(first + timedelta(days=i), 0, 0)
              for i in range(days)]
    return Dashboard(
        by_status=[monitoring.StatusCount(**r) for r in data["by_status"]],
        phases=[monitoring.PhaseCount(**r) for r in data["phases"]],
        series=window,
    )
