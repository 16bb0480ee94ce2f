"""The retention policy: each kind of record, the tables it covers, and how long it is kept.

Evidence (signed texts, signatures, decisions) is kept a number of months after the mobility's end
(MoUs: after their expiry; the audit trail: after the event); the months come from the national
defaults of the organisation's country (``data/national_defaults.json``, defaults an organisation
must confirm), replaced by the organisation's own choice (``retention_policies``). Personal working
data is kept a short time after the mobility's end, and pseudonymised only once none of the learner's
evidence is left. Engine working data (sessions' throttle, tokens, outbox, jobs) has fixed periods.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ecvet.retention.models import RetentionPolicy
from engine import audit
from engine.errors import Invalid, NotFound
from engine.models import Organisation, utcnow
from engine.parties import Actor

EVIDENCE = "evidence"
PERSONAL = "personal_working_data"
ENGINE = "engine_working_data"

#: Longest period an organisation may set (months): beyond 30 years a period is a typing error.
MAX_MONTHS = 360


@dataclass(frozen=True)
class RecordKind:
    """One kind of record: its category, the tables it covers and, for working data, its fixed period."""

    name: str
    category: str
    tables: tuple[str, ...]
    since: str  # what the period counts from, as a catalogue key
    default_months: int | None = None  # personal working data: months after the mobility's end
    default_days: int | None = None  # engine working data


KINDS: tuple[RecordKind, ...] = (
    RecordKind("learning_agreement", EVIDENCE, ("la_versions", "la_signatures"), "retention.since.mobility_end"),
    RecordKind("assessment", EVIDENCE, ("assessment_records", "assessment_signatures", "assessment_acknowledgements",
                                        "evidence_files"), "retention.since.mobility_end"),
    RecordKind("transcript", EVIDENCE, ("personal_transcripts",), "retention.since.mobility_end"),
    RecordKind("recognition", EVIDENCE, ("validation_decisions", "recognition_decisions", "credit_awards",
                                         "practical_implications"), "retention.since.mobility_end"),
    RecordKind("europass", EVIDENCE, ("europass_mobilities", "europass_signatures"), "retention.since.mobility_end"),
    RecordKind("qualification_award", EVIDENCE, ("qualification_awards",), "retention.since.award"),
    RecordKind("mou", EVIDENCE, ("mou_versions", "mou_approvals"), "retention.since.mou_expiry"),
    RecordKind("audit_trail", EVIDENCE, ("audit_events",), "retention.since.event"),
    RecordKind("learner_profile", PERSONAL, ("learners",), "retention.since.last_evidence", default_months=0),
    RecordKind("mobility_free_text", PERSONAL, ("mobilities", "mobility_status_changes"),
               "retention.since.mobility_end", default_months=12),
    RecordKind("review", PERSONAL, ("evaluations", "action_plans", "action_plan_items"),
               "retention.since.mobility_end", default_months=24),
    RecordKind("sign_in_throttle", ENGINE, ("sign_in_throttle",), "retention.since.last_failure", default_days=1),
    RecordKind("api_tokens", ENGINE, ("api_tokens",), "retention.since.token_end", default_days=30),
    RecordKind("outbox", ENGINE, ("outbox",), "retention.since.sent", default_days=90),
    RecordKind("finished_jobs", ENGINE, ("jobs",), "retention.since.finished", default_days=30),
    RecordKind("pending_messages", ENGINE, ("pending_messages",), "retention.since.message_end", default_days=30),
)
BY_NAME = {kind.name: kind for kind in KINDS}
#: The kinds an organisation sets a period for (months): evidence and personal working data.
CONFIGURABLE = tuple(k.name for k in KINDS if k.category != ENGINE)


@cache
def national_defaults() -> dict[str, Any]:
    """The national defaults file, read once."""
    with (Path(__file__).parent / "data" / "national_defaults.json").open(encoding="utf-8") as f:
        data: dict[str, Any] = json.load(f)
    return data


def _national(country: str) -> dict[str, Any]:
    countries = national_defaults()["countries"]
    found: dict[str, Any] = countries.get(country.upper(), countries["*"])
    return found


@dataclass(frozen=True)
class Period:
    """How long one organisation keeps one kind: months, and where the figure comes from."""

    kind: str
    months: int
    source: str  # "organisation" | "national_default" | "platform_default"
    basis: str | None  # catalogue key of the legal basis of a national default
    set_by: int | None = None
    set_at: datetime | None = None


def _default(kind: RecordKind, country: str) -> Period:
    national = _national(country)
    if kind.category == EVIDENCE:
        return Period(kind.name, int(national["months"][kind.name]), "national_default", str(national["basis"]))
    return Period(kind.name, int(kind.default_months or 0), "platform_default", None)


def periods(session: Session, organisation: Organisation) -> dict[str, Period]:
    """The organisation's period of every configurable kind: its own choice, else the default."""
    chosen = {p.record_kind: p for p in session.scalars(
        select(RetentionPolicy).where(RetentionPolicy.organisation_id == organisation.id))}
    result = {}
    for name in CONFIGURABLE:
        own = chosen.get(name)
        default = _default(BY_NAME[name], organisation.country)
        result[name] = default if own is None else Period(name, own.keep_months, "organisation", default.basis,
                                                          own.set_by, own.set_at)
    return result


class Months:
    """Periods of many organisations, read once per purge run (organisation id -> kind -> months)."""

    def __init__(self, session: Session) -> None:
        self._session = session
        self._cache: dict[int, dict[str, Period]] = {}

    def of(self, organisation_id: int, kind: str) -> int:
        if organisation_id not in self._cache:
            organisation = self._session.get(Organisation, organisation_id)
            assert organisation is not None
            self._cache[organisation_id] = periods(self._session, organisation)
        return self._cache[organisation_id][kind].months


    def shortest(self, kinds: tuple[str, ...]) -> int:
        """The shortest period of these kinds anywhere: national defaults, platform defaults, any organisation's."""
        found = [int(n["months"][k]) for n in national_defaults()["countries"].values() for k in kinds
                 if k in n["months"]]
        found += [int(BY_NAME[k].default_months or 0) for k in kinds if BY_NAME[k].category == PERSONAL]
        own = self._session.scalar(select(func.min(RetentionPolicy.keep_months))
                                   .where(RetentionPolicy.record_kind.in_(kinds)))
        return min([*found, *([own] if own is not None else [])])


def add_months(day: date, months: int) -> date:
    """The same day ``months`` later (the month's last day when it has fewer days)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    for candidate in (day.day, 30, 29, 28):
        try:
            return date(year, month, min(day.day, candidate))
        except ValueError:
            continue
    raise AssertionError("unreachable")


def engine_period(kind: str) -> timedelta:
    days = BY_NAME[kind].default_days
    assert days is not None
    return timedelta(days=days)


# --- who may read and change an organisation's policy ----------------------------------------------

def _organisation(session: Session, actor: Actor, organisation_id: int) -> Organisation:
    """The organisation, for its members and platform administrators; 404 for anyone else."""
    organisation = session.get(Organisation, organisation_id)
    if organisation is None or not (actor.is_admin or organisation_id in actor.organisation_ids):
        raise NotFound(f"No organisation {organisation_id}")
    return organisation


def view(session: Session, *, actor: Actor, organisation_id: int) -> dict[str, Any]:
    """The organisation's retention policy as a reader sees it: every kind with its period and source."""
    organisation = _organisation(session, actor, organisation_id)
    chosen = periods(session, organisation)
    kinds = []
    for kind in KINDS:
        period = chosen.get(kind.name)
        kinds.append({
            "kind": kind.name, "category": kind.category, "tables": list(kind.tables), "since": kind.since,
            "keep_months": period.months if period else None,
            "keep_days": kind.default_days, "source": period.source if period else "platform_default",
            "basis": period.basis if period else None, "configurable": period is not None,
            "set_by": period.set_by if period else None,
            "set_at": period.set_at.isoformat() if period and period.set_at else None,
        })
    return {"organisation_id": organisation.id, "country": organisation.country,
            "note": national_defaults()["_note"], "kinds": kinds}


def change(session: Session, *, actor: Actor, organisation_id: int, keep_months: dict[str, Any]) -> dict[str, Any]:
    """Set the organisation's own periods (``{kind: months}``; ``None`` goes back to the default)."""
    organisation = _organisation(session, actor, organisation_id)
    errors: dict[str, list[str]] = {}
    for name, months in keep_months.items():
        if name not in CONFIGURABLE:
            errors[name] = [f"Not a record kind an organisation sets: one of {', '.join(CONFIGURABLE)}"]
        elif months is not None and (not isinstance(months, int) or isinstance(months, bool)
                                     or not 0 <= months <= MAX_MONTHS):
            errors[name] = [f"A whole number of months from 0 to {MAX_MONTHS}"]
    if errors:
        raise Invalid("Invalid retention periods", errors=errors)
    before = {k: p.months for k, p in periods(session, organisation).items()}
    for name, months in keep_months.items():
        row = session.scalar(select(RetentionPolicy).where(RetentionPolicy.organisation_id == organisation.id,
                                                           RetentionPolicy.record_kind == name))
        if months is None:
            if row is not None:
                session.delete(row)
        elif row is None:
            session.add(RetentionPolicy(organisation_id=organisation.id, record_kind=name, keep_months=months,
                                        set_by=actor.user_id, set_at=utcnow()))
        else:
            row.keep_months, row.set_by, row.set_at = months, actor.user_id, utcnow()
    session.flush()
    after = {k: p.months for k, p in periods(session, organisation).items()}
    audit.record(session, actor_id=actor.user_id, action="retention.policy_changed", organisation_id=organisation.id,
                 changes={k: [before[k], after[k]] for k in after if before[k] != after[k]})
    return view(session, actor=actor, organisation_id=organisation_id)
