"""The evidence-purge ledger: an evidence row leaves only after its hash is written here, and a hash
found here still answers "authentic, signed on ..., purged on ..." to anyone checking a signed copy."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Table, delete, select
from sqlalchemy.orm import Session

from ecvet.evidence import content_hash
from ecvet.retention.models import EvidencePurge
from engine.models import Base

#: The columns that date a signed row, first found wins.
_DATED = ("signed_at", "issued_at", "decided_at", "awarded_at", "acknowledged_at", "recorded_at", "uploaded_at",
          "changed_at", "created_at", "at")


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def row_hash(row: dict[str, Any]) -> str:
    """The row's own hash when it carries one (signed texts, signatures), else the SHA-256 of its content."""
    own = row.get("content_hash")
    return str(own) if own else content_hash({k: _jsonable(v) for k, v in row.items()})


def _signed_at(row: dict[str, Any]) -> datetime | None:
    for column in _DATED:
        value = row.get(column)
        if isinstance(value, datetime):
            return value
    return None


def table(name: str) -> Table:
    found = Base.metadata.tables[name]
    assert isinstance(found, Table)
    return found


def remove(session: Session, *, table_name: str, rows: list[dict[str, Any]], kind: str,
           run: str, now: datetime) -> None:
    """Write the ledger rows for ``rows`` of ``table_name``, then delete them (the triggers check the ledger)."""
    if not rows:
        return
    session.add_all([EvidencePurge(table_name=table_name, row_id=row["id"], record_kind=kind,
                                   content_hash=row_hash(row), signed_at=_signed_at(row), purged_at=now,
                                   purge_run=run)
                     for row in rows])
    session.flush()
    target = table(table_name)
    session.execute(delete(target).where(target.c.id.in_([row["id"] for row in rows])))


@dataclass(frozen=True)
class PurgedEvidence:
    """What the ledger says of a hash: the record existed, was signed then, and was purged later."""

    table_name: str
    record_kind: str
    signed_at: datetime | None
    purged_at: datetime


def lookup(session: Session, sha256: str) -> PurgedEvidence | None:
    """The purged record whose hash is ``sha256`` (the first purged, when several signatures quote it)."""
    found = session.scalars(select(EvidencePurge).where(EvidencePurge.content_hash == sha256.lower())
                            .order_by(EvidencePurge.id)).first()
    if found is None:
        return None
    return PurgedEvidence(found.table_name, found.record_kind, found.signed_at, found.purged_at)


#: Signed texts whose SHA-256 a printed document shows, with the column that dates them.
_SIGNED_TEXTS = (("la_versions", "created_at"), ("personal_transcripts", "issued_at"),
                 ("europass_mobilities", "created_at"), ("mou_versions", "created_at"))
HASH = re.compile(r"^[0-9a-fA-F]{64}$")


@dataclass(frozen=True)
class HashCheck:
    """What the platform knows of a SHA-256: a text it holds, one it held and purged, or nothing."""

    found: str  # "held" | "purged" | "unknown"
    record_kind: str | None = None
    signed_at: datetime | None = None
    purged_at: datetime | None = None


def check(session: Session, sha256: str) -> HashCheck:
    """Whether a signed text with this SHA-256 is held, or was purged under the retention policy (then when
    it was signed and when purged): a printed copy stays verifiable after its record is gone."""
    digest = sha256.strip().lower()
    if not HASH.match(digest):
        return HashCheck("unknown")
    for table_name, dated in _SIGNED_TEXTS:
        t = table(table_name)
        found = session.execute(select(t.c[dated]).where(t.c.content_hash == digest).limit(1)).first()
        if found is not None:
            return HashCheck("held", table_name, found[0])
    purged = lookup(session, digest)
    if purged is None:
        return HashCheck("unknown")
    return HashCheck("purged", purged.record_kind, purged.signed_at, purged.purged_at)
