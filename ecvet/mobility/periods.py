"""Several hosting organisations per mobility, one after the other: each period has its host, its dates
and the units its host assesses (and no other host does).

Period 1's host is the mobility's hosting organisation: it agrees the assessment, signs the Learning
Agreement and issues the Learner's Personal Transcript, which names for every unit the host that
assessed it. The Mobility process gives each later period's assessment to that period's host (lanes
"Hosting organisation (period 2)" and "(period 3)" of processes/mobility.bpmn), so a mobility has at
most :data:`MAX_PERIODS`. Without periods, one host assesses every unit, as before.
"""
from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from ecvet.mobility.models import Mobility, MobilityPeriod
from engine.errors import Conflict
from engine.models import Organisation

#: The lanes of the Mobility process: the host of period 1 and two more.
MAX_PERIODS = 3
MIN_PERIODS = 2  # one period is a mobility with one host: no periods at all
#: Lane role of the task → the period whose host assesses in it.
ROLE_PERIOD = {"hosting": 1, "hosting-period-2": 2, "hosting-period-3": 3}


def _day(value: Any) -> date | None:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        return None


def _period(index: int, entry: Any, *, partners: set[int], units: set[str], taken: set[str],
            errors: dict[str, list[str]]) -> dict[str, Any]:
    path = f"periods.{index}"
    entry = entry if isinstance(entry, dict) else {}
    host = entry.get("hosting_organisation_id")
    if host not in partners:
        errors[f"{path}.hosting_organisation_id"] = ["A hosting partner that signed the MoU"]
    start, end = _day(entry.get("start_date")), _day(entry.get("end_date"))
    if start is None or end is None or end < start:
        errors[f"{path}.start_date"] = ["ISO dates (YYYY-MM-DD), the end not before the start"]
    codes = entry.get("units")
    if not isinstance(codes, list) or not codes or not all(isinstance(c, str) for c in codes):
        errors[f"{path}.units"] = ["The codes of the units this host assesses (at least one)"]
        codes = []
    wrong = sorted({c for c in codes if c not in units} | {c for c in codes if c in taken}
                   | {c for c in codes if codes.count(c) > 1})
    if wrong:
        errors[f"{path}.units"] = [f"Units of the MoU's qualification, each in one period only: {wrong}; "
                                   f"the MoU offers {sorted(units)}"]
    taken.update(codes)
    return {"hosting_organisation_id": host, "start_date": start, "end_date": end, "unit_codes": list(codes)}


def check(periods: Any, *, partners: set[int], host: int, start: date, end: date, units: set[str],
          errors: dict[str, list[str]]) -> list[dict[str, Any]]:
    """The periods as recorded, or entries in `errors` (``periods.<i>.<field>``): two to
    :data:`MAX_PERIODS` periods, one after the other from the mobility's first day to its last, the first
    with the mobility's host, each host a hosting partner of the MoU and each unit in one period."""
    if not isinstance(periods, list) or not MIN_PERIODS <= len(periods) <= MAX_PERIODS:
        errors["periods"] = [f"Two to {MAX_PERIODS} periods, or none (one host for the whole mobility)"]
        return []
    taken: set[str] = set()
    checked = [_period(i, p, partners=partners, units=units, taken=taken, errors=errors) for i, p in enumerate(periods)]
    if checked[0]["hosting_organisation_id"] != host:
        errors["periods.0.hosting_organisation_id"] = ["Period 1 is with the mobility's hosting organisation"]
    days = [(p["start_date"], p["end_date"]) for p in checked]
    if not all(s and e for s, e in days):
        return checked
    in_order = all(days[i][0] > days[i - 1][1] for i in range(1, len(days)))
    if not (days[0][0] == start and days[-1][1] == end and in_order):
        errors["periods"] = ["One after the other, from the mobility's first day to its last, not overlapping"]
    return checked


def attach(mobility: Mobility, checked: list[dict[str, Any]]) -> None:
    """Record the checked periods on the (new) mobility."""
    mobility.periods = [MobilityPeriod(position=i + 1, **p) for i, p in enumerate(checked)]


def host_ids(mobility: Mobility) -> set[int]:
    """Every organisation hosting the learner during the mobility."""
    return {mobility.hosting_organisation_id} | {p.hosting_organisation_id for p in mobility.periods}


def bindings(mobility: Mobility) -> dict[str, int]:
    """Lane roles of the later periods → their hosts (the mobility's host where there is no such period:
    that lane then never gets a task)."""
    hosts = {p.position: p.hosting_organisation_id for p in mobility.periods}
    return {role: hosts.get(position, mobility.hosting_organisation_id)
            for role, position in ROLE_PERIOD.items() if position > 1}


def assessor(mobility: Mobility, position: int) -> int:
    """The host that assesses in period `position` (409 when the mobility has no such period)."""
    if position == 1:
        return mobility.hosting_organisation_id
    period = next((p for p in mobility.periods if p.position == position), None)
    if period is None:
        raise Conflict(f"The mobility has no period {position}")
    return period.hosting_organisation_id


def may_assess(mobility: Mobility, position: int, unit: str) -> bool:
    """Whether the host of period `position` assesses `unit`: a later period's host its own units; period
    1's host every other unit (so a unit a change adds during the mobility is the main host's)."""
    later = {p.position: set(p.unit_codes) for p in mobility.periods if p.position > 1}
    if position == 1:
        return not any(unit in codes for codes in later.values())
    return unit in later.get(position, set())


def host_of_unit(mobility: Mobility) -> dict[str, int]:
    """Unit code → the host that assesses it (empty when there is one host)."""
    return {code: p.hosting_organisation_id for p in mobility.periods for code in p.unit_codes}


def described(session: Session, mobility: Mobility) -> list[dict[str, Any]]:
    """The periods as the Learning Agreement states them (host named, dates, units)."""
    out = []
    for p in mobility.periods:
        org = session.get(Organisation, p.hosting_organisation_id)
        out.append({"position": p.position, "start_date": p.start_date.isoformat(), "end_date": p.end_date.isoformat(),
                    "units": list(p.unit_codes),
                    "hosting_organisation": {"id": p.hosting_organisation_id, "name": org.name if org else None,
                                             "country": org.country if org else None}})
    return out
