"""Erase everything held about one learner, through the catalogue (:mod:`ecvet.privacy.holdings`), except
exactly the evidence rows a legal obligation still requires.

:func:`kept_evidence` says which rows stay and why: the evidence (kind ``evidence``) of every mobility
with signed evidence (a signature of its Learning Agreement, or a transcript) whose retention period
runs (GDPR Art. 17(3)(b) legal obligation and (e) legal claims), the audit trail (Art. 5(2)) and the
erasure requests themselves. :func:`erase_learner` does the rest: rows whose treatment is ``delete``
are deleted (files' bytes too, unless another file shares them), the learner's identifying values are
replaced in every personal column of the other rows (inside JSON too), free texts of working data are
cleared, the learner's profile and the learner's and guardian's accounts are pseudonymised, the
accounts deactivated and their tokens deleted. ``ecvet.retention`` calls it with ``keep={}`` once all
of a learner's evidence has expired.
"""
from __future__ import annotations

import json
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import JSON, Date, String, Table, Text, and_, delete, func, select, update
from sqlalchemy.engine import RowMapping
from sqlalchemy.orm import Session

from ecvet.mobility.models import (
    AssessmentRecord,
    LaSignature,
    Learner,
    LearningAgreement,
    Mobility,
    PersonalTranscript,
)
from ecvet.privacy import holdings
from ecvet.privacy.holdings import Holding, Kind, Treatment
from ecvet.privacy.models import AppendOnlyUnlock
from ecvet.retention import evidence as retention_evidence
from engine import audit
from engine.models import Base, User

#: ``learners.date_of_birth`` is NOT NULL and printed by documents and credentials: an erased learner's
#: becomes this date, which no learner has and which makes them adult (no guardian keeps access).
ERASED_BIRTH_DATE = date(1900, 1, 1)
ERASED = "[erased]"
_SHORTEST = 3  # shorter values (initials) would rewrite unrelated text

Keep = Mapping[str, Collection[Any]]
"""Rows an erasure leaves untouched: table name → primary keys (a tuple for a composite key)."""


class KeptReason:
    """Why rows were kept (keys of the answer's texts in the catalogues)."""

    EVIDENCE = "evidence"  # signed evidence within its retention period: Art. 17(3)(b) and (e)
    AUDIT = "audit"  # the audit trail: Art. 5(2) accountability
    REQUEST = "request"  # the record of the erasure request and its answer: Art. 5(2), 12


@dataclass
class ErasureResult:
    """What an erasure did: ``erased`` ``[{"what": table, "count": n, "how": "deleted"|"pseudonymised"}]``,
    ``kept`` ``[{"what": table, "count": n, "reason": KeptReason, "until": ISO date or None}]``."""

    erased: list[dict[str, Any]] = field(default_factory=list)
    kept: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class KeptEvidence:
    keep: dict[str, set[Any]]
    until: dict[str, str]  # table → latest end of retention of its kept rows


def pseudonym(learner_id: int) -> str:
    return f"Learner L-{learner_id} (erased)"


def _table(name: str) -> Table:
    return Base.metadata.tables[name]


def _key(table: Table, row: RowMapping) -> Any:
    values = tuple(row[c.name] for c in table.primary_key.columns)
    return values[0] if len(values) == 1 else values


def _mobility_of(table: str, row: RowMapping, maps: dict[str, dict[Any, int]]) -> set[int]:
    """The mobilities an evidence row belongs to."""
    if table == "mobilities":
        return {row["id"]}
    if table in ("la_versions", "la_signatures"):
        return {maps["la"][row["la_id"]]}
    if table == "assessment_signatures":
        return {maps["sheet"][row["assessment_id"]]}
    if table == "europass_signatures":
        return {maps["europass"][row["europass_id"]]}
    if table == "qualification_awards":
        return {int(m) for m in row["mobility_ids"] or []}
    return {row["mobility_id"]} if "mobility_id" in row else set()


def kept_evidence(session: Session, learner_id: int, *, today: date,
                  rows: dict[str, list[RowMapping]] | None = None) -> KeptEvidence:
    """The evidence rows of the learner's mobilities with signed evidence whose retention period runs
    on `today`, and until when each table's rows are kept."""
    rows = rows if rows is not None else holdings.rows_about(session, learner_id)
    mobilities = {m.id: m for m in session.scalars(select(Mobility).where(Mobility.learner_id == learner_id))}
    signed = set(session.scalars(select(LearningAgreement.mobility_id).join(
        LaSignature, LaSignature.la_id == LearningAgreement.id).where(LearningAgreement.mobility_id.in_(mobilities))))
    signed |= set(session.scalars(select(PersonalTranscript.mobility_id).where(
        PersonalTranscript.learner_id == learner_id)))
    until = {m: retention_evidence.kept_until(session, mobilities[m]) for m in signed}
    running = {m: day for m, day in until.items() if day >= today}
    maps: dict[str, dict[Any, int]] = {
        "la": {la: m for la, m in session.execute(select(LearningAgreement.id, LearningAgreement.mobility_id).where(
            LearningAgreement.mobility_id.in_(mobilities)))},
        "sheet": {a: m for a, m in session.execute(select(AssessmentRecord.id, AssessmentRecord.mobility_id).where(
            AssessmentRecord.mobility_id.in_(mobilities)))},
        "europass": {r["id"]: r["mobility_id"] for r in rows.get("europass_mobilities", [])},
    }
    keep: dict[str, set[Any]] = {}
    latest: dict[str, str] = {}
    for entry in holdings.about_learners():
        if entry.kind != Kind.EVIDENCE or entry.table in ("audit_events", "erasure_requests"):
            continue
        table = _table(entry.table)
        for row in rows.get(entry.table, []):
            owners = _mobility_of(entry.table, row, maps) & set(running)
            if owners:
                keep.setdefault(entry.table, set()).add(_key(table, row))
                day = max(running[m] for m in owners).isoformat()
                latest[entry.table] = max(latest.get(entry.table, day), day)
    return KeptEvidence(keep, latest)


# Pseudonymisation of values -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Identity:
    """The learner's (and the guardian's) identifying values, each with what replaces it."""

    needles: tuple[tuple[re.Pattern[str], str], ...]

    @classmethod
    def of(cls, learner: Learner, accounts: list[User]) -> Identity:
        pairs: list[tuple[str | None, str]] = [
            (learner.name, pseudonym(learner.id)), (learner.email, ERASED), (learner.guardian_name, ERASED),
            (learner.guardian_email, ERASED), (learner.european_student_identifier, ERASED),
            (learner.date_of_birth.isoformat(), ERASED),
            (learner.date_of_birth.strftime("%d.%m.%Y"), ERASED), (learner.date_of_birth.strftime("%d/%m/%Y"), ERASED),
        ]
        pairs += [(u.name, pseudonym(learner.id) if u.id == learner.user_id else ERASED) for u in accounts]
        pairs += [(u.email, ERASED) for u in accounts]
        # Longest first, so "Sanne Bakker" goes before a shorter value it contains.
        values = sorted({(v, r) for v, r in pairs if v and len(v.strip()) >= _SHORTEST}, key=lambda p: -len(p[0]))
        return cls(tuple((re.compile(re.escape(v), re.IGNORECASE), r) for v, r in values))

    def scrub(self, value: Any) -> Any:
        if isinstance(value, str):
            if value[:1] in "{[":
                try:
                    parsed = json.loads(value)
                except ValueError:
                    parsed = None
                if isinstance(parsed, dict | list):
                    return json.dumps(self.scrub(parsed), ensure_ascii=False)
            for pattern, replacement in self.needles:
                value = pattern.sub(replacement, value)
            return value
        if isinstance(value, dict):
            return {self.scrub(k): self.scrub(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.scrub(v) for v in value]
        return value


def _new_values(entry: Holding, table: Table, row: RowMapping, identity: Identity) -> dict[str, Any]:
    changes: dict[str, Any] = {}
    for name in entry.personal:
        column = table.columns[name]
        value = row[name]
        if value is None:
            continue
        if isinstance(column.type, Date):
            new: Any = None if column.nullable else ERASED_BIRTH_DATE
        elif entry.kind == Kind.WORKING and column.nullable and isinstance(column.type, String | Text) \
                and not isinstance(column.type, JSON):
            new = None  # free text of working data goes whole
        else:
            new = identity.scrub(value)
        if new != value:
            changes[name] = new
    return changes


def _update(session: Session, table: Table, key: Any, values: dict[str, Any]) -> None:
    keys = key if isinstance(key, tuple) else (key,)
    session.execute(update(table).where(and_(*[c == k for c, k in zip(table.primary_key.columns, keys, strict=True)]))
                    .values(**values))


def _delete(session: Session, table: Table, keys: list[Any]) -> None:
    (column, *rest) = table.primary_key.columns
    assert not rest, f"{table.name}: deleting by a composite key is not supported"
    session.execute(delete(table).where(column.in_(keys)))


def _accounts(session: Session, learner: Learner) -> list[User]:
    """The learner's account, and the guardian's unless the guardian still acts for another learner."""
    accounts = [session.get_one(User, learner.user_id)] if learner.user_id else []
    if learner.guardian_user_id and not session.scalar(select(func.count(Learner.id)).where(
            Learner.guardian_user_id == learner.guardian_user_id, Learner.id != learner.id)):
        accounts.append(session.get_one(User, learner.guardian_user_id))
    return accounts


def erase_learner(session: Session, *, learner_id: int, actor_id: int | None, keep: Keep) -> ErasureResult:
    """Erase or pseudonymise every row about the learner except the rows in `keep`; audited
    (``learner.erased``). The caller decides what to keep (:func:`kept_evidence`, or nothing)."""
    learner = session.get_one(Learner, learner_id)
    accounts = _accounts(session, learner)
    identity = Identity.of(learner, accounts)
    rows = holdings.rows_about(session, learner_id)  # all found before anything changes
    result = ErasureResult()
    unlock = AppendOnlyUnlock(reason=f"erasure of learner {learner_id}")
    session.add(unlock)
    session.flush()
    for entry in reversed(holdings.about_learners()):  # children before parents
        table = _table(entry.table)
        kept_keys = set(keep.get(entry.table, ()))
        found = rows[entry.table]
        stays = [r for r in found if _key(table, r) in kept_keys]
        goes = [r for r in found if _key(table, r) not in kept_keys]
        if stays:
            result.kept.append({"what": entry.table, "count": len(stays), "reason": KeptReason.EVIDENCE})
        if not goes:
            continue
        if entry.table in ("audit_events", "erasure_requests"):
            reason = KeptReason.AUDIT if entry.table == "audit_events" else KeptReason.REQUEST
            result.kept.append({"what": entry.table, "count": len(goes), "reason": reason})
            continue
        if entry.treatment == Treatment.DELETE:
            keys = [_key(table, r) for r in goes]
            if entry.table == "attachment_blobs":  # bytes another file still uses stay
                shared = set(session.scalars(select(table.c.sha256).where(table.c.sha256.in_(keys)).where(
                    table.c.sha256.in_(select(_table("attachments").c.sha256)))))
                keys = [k for k in keys if k not in shared]
            if keys:
                _delete(session, table, keys)
                result.erased.append({"what": entry.table, "count": len(keys), "how": "deleted"})
            continue
        for row in goes:
            special = _special(entry.table, row, learner, accounts)
            values = special if special is not None else _new_values(entry, table, row, identity)
            if values:
                _update(session, table, _key(table, row), values)
        result.erased.append({"what": entry.table, "count": len(goes), "how": "pseudonymised"})
    session.delete(unlock)
    session.flush()
    session.expire_all()
    audit.record(session, actor_id=actor_id, action="learner.erased", learner_id=learner_id,
                 erased=result.erased, kept=result.kept)
    return result


def _special(table: str, row: RowMapping, learner: Learner, accounts: list[User]) -> dict[str, Any] | None:
    """The learner's profile and accounts: every personal field replaced, the accounts closed."""
    if table == "learners":
        return {"name": pseudonym(learner.id), "email": f"erased-learner-{learner.id}@erased.invalid",
                "date_of_birth": ERASED_BIRTH_DATE, "guardian_name": None, "guardian_email": None,
                "european_student_identifier": None}
    if table == "users":
        if row["id"] not in {u.id for u in accounts}:
            return {}  # a guardian who still acts for another learner keeps the account
        name = pseudonym(learner.id) if row["id"] == learner.user_id else f"Guardian of L-{learner.id} (erased)"
        return {"name": name, "email": f"erased-user-{row['id']}@erased.invalid", "password_hash": "!erased",
                "position": None, "place": None, "language": None, "is_active": False}
    return None
