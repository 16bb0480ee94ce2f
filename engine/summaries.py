"""The dashboard's aggregates, computed by the worker and read from one row.

Counting instances per status and phase means grouping every instance and ready task: at 100,000
instances that is most of a second, too much for each page view. The worker recomputes them every
REFRESH into `dashboard_summaries`: one row for administrators (every instance) and one per
organisation with members (the instances it is a party of), the latter at most every ORG_REFRESH. A
dashboard reads its row while it is younger than MAX_AGE (ORG_MAX_AGE), and counts live otherwise (no
worker running) and for the people whose view is no organisation's: members of several organisations,
or people bound to instances themselves (learners: their own few instances, through the party indexes).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from . import monitoring
from .models import DashboardSummary, InstanceParty, Membership, utcnow
from .parties import Actor

REFRESH = timedelta(seconds=10)
MAX_AGE = timedelta(seconds=60)
ORG_REFRESH = timedelta(seconds=60)  # an organisation's counts cost a pass over its instances: less often
ORG_MAX_AGE = timedelta(seconds=180)
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


def _organisation(organisation_id: int) -> str:
    return f"organisation:{organisation_id}"


def _store(session: Session, name: str, current: Dashboard) -> None:
    data = {
        "by_status": [asdict(r) for r in current.by_status],
        "phases": [asdict(r) for r in current.phases],
        "series": [{**asdict(r), "day": r.day.isoformat()} for r in current.series],
    }
    row = session.get(DashboardSummary, name)
    if row is None:
        session.add(DashboardSummary(name=name, computed_at=utcnow(), data=data))
    else:
        row.computed_at, row.data = utcnow(), data


def refresh(session: Session) -> None:
    """Recompute the administrators' aggregates, and every organisation's whose row is older than
    ORG_REFRESH, into their rows (the worker calls this every REFRESH)."""
    _store(session, _NAME, compute(session, actor=_EVERYONE))
    kept = {name: at for name, at in session.execute(select(DashboardSummary.name, DashboardSummary.computed_at))}
    now = utcnow()
    for organisation_id in sorted(set(session.scalars(select(Membership.organisation_id)))):
        name = _organisation(organisation_id)
        if name in kept and now - kept[name] < ORG_REFRESH:
            continue
        members = Actor(user_id=0, email="", organisation_ids=frozenset({organisation_id}))  # nobody bound
        _store(session, name, compute(session, actor=members))


def _row_for(session: Session, actor: Actor) -> tuple[str, timedelta] | None:
    """The summary row that is exactly what `actor` may see, and how old it may be; None: count live."""
    if actor.is_admin:
        return _NAME, MAX_AGE
    if len(actor.organisation_ids) != 1:
        return None
    bound = session.scalar(select(InstanceParty.id).where(InstanceParty.user_id == actor.user_id).limit(1))
    if bound is not None:  # the instances bound to them are theirs too: not the organisation's view
        return None
    (organisation_id,) = actor.organisation_ids
    return _organisation(organisation_id), ORG_MAX_AGE


def dashboard(session: Session, *, actor: Actor, days: int = DEFAULT_DAYS) -> Dashboard:
    """What the dashboard shows `actor`: the worker's row for their view when fresh, else live."""
    found = _row_for(session, actor) if days == DEFAULT_DAYS else None
    if found is not None:
        name, max_age = found
        row = session.get(DashboardSummary, name)
        if row is not None and utcnow() - row.computed_at <= max_age:
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
