"""The retention purge: what the policy lets go at ``now``, listed (dry run) or done.

Evidence rows of a finished mobility past their period are deleted through the ledger (their hashes
kept, so signed copies still verify); personal working data past its period is deleted or cleared;
a learner none of whose evidence is left is pseudonymised; engine working data goes after its short
period. One audit row per run: ``retention.purged`` (or ``retention.dry_run``) with the counts per kind.
The worker runs it daily (``retention.purge``); ``ecvet retention purge [--dry-run]`` runs it by hand.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from ecvet.mobility.models import EvidenceFile, LearningAgreement, Mobility
from ecvet.partnership.models import Attachment, AttachmentBlob, AttachmentReference
from ecvet.qualification.models import QualificationAward
from ecvet.retention import evidence, learners, ledger, working
from ecvet.retention.policy import Months, add_months, national_defaults
from engine import audit, periodic
from engine.models import utcnow
from engine.parties import Actor, require_admin

FINISHED = evidence.FINISHED


@dataclass
class Item:
    """What goes of one kind from one table: the rows' ids and the learners they are about."""

    kind: str
    table: str
    action: str  # "delete" | "delete_through_ledger" | "clear" | "pseudonymise"
    row_ids: list[Any] = field(default_factory=list)
    learner_ids: set[int] = field(default_factory=set)

    def as_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "table": self.table, "action": self.action, "row_ids": self.row_ids,
                "learner_ids": sorted(self.learner_ids)}


@dataclass
class PurgeReport:
    run: str
    now: datetime
    dry_run: bool
    items: dict[tuple[str, str, str], Item] = field(default_factory=dict)

    def add(self, kind: str, table: str, action: str, row_ids: list[Any], learner_id: int | None = None) -> None:
        if not row_ids:
            return
        item = self.items.setdefault((kind, table, action), Item(kind, table, action))
        item.row_ids.extend(row_ids)
        if learner_id is not None:
            item.learner_ids.add(learner_id)

    def counts(self) -> dict[str, int]:
        result: dict[str, int] = {}
        for item in self.items.values():
            result[item.kind] = result.get(item.kind, 0) + len(item.row_ids)
        return result

    def going(self) -> dict[str, set[Any]]:
        """Ids of the rows that go (or would go), per table."""
        result: dict[str, set[Any]] = {}
        for item in self.items.values():
            if item.action != "clear":
                result.setdefault(item.table, set()).update(item.row_ids)
        return result

    def as_dict(self) -> dict[str, Any]:
        return {"run": self.run, "now": self.now.isoformat(), "dry_run": self.dry_run, "counts": self.counts(),
                "items": [item.as_dict() for item in self.items.values()]}

    def lines(self) -> list[str]:
        """The report as text (the CLI prints it)."""
        head = f"{'Dry run' if self.dry_run else 'Purge'} {self.run} at {self.now.isoformat()}"
        body = [f"  {i.kind}: {i.action} {len(i.row_ids)} row(s) of {i.table}: {', '.join(map(str, i.row_ids))}"
                for i in self.items.values()]
        return [head, *(body or ["  nothing to purge"])]


def _mobility(session: Session, report: PurgeReport, mobility: Mobility, months: Months, today: date) -> None:
    due = [kind for kind, day in evidence.expiries(mobility, months).items() if day <= today]
    learner_id = mobility.learner_id
    for kind in evidence.ORDER:
        if kind not in due:
            continue
        if kind == "learning_agreement" and not report.dry_run:
            session.execute(update(LearningAgreement).where(LearningAgreement.mobility_id == mobility.id)
                            .values(current_version_id=None))
        if kind == "mobility_free_text" and mobility.cancel_reason is not None:
            report.add(kind, "mobilities", "clear", [mobility.id], learner_id)
            if not report.dry_run:
                mobility.cancel_reason = None
        for table_name, where in evidence.MOBILITY_TABLES[kind]:
            found = evidence.rows(session, table_name, where, [mobility.id])
            through_ledger = table_name in evidence.APPEND_ONLY
            report.add(kind, table_name, "delete_through_ledger" if through_ledger else "delete",
                       [r["id"] for r in found], learner_id)
            if not report.dry_run and found:
                if through_ledger:
                    ledger.remove(session, table_name=table_name, rows=found, kind=kind,
                                  run=report.run, now=report.now)
                else:
                    target = ledger.table(table_name)
                    session.execute(target.delete().where(target.c.id.in_([r["id"] for r in found])))
            if table_name == "evidence_files" and found:
                _files(session, report, kind, {r["attachment_id"] for r in found}, learner_id)


def _files(session: Session, report: PurgeReport, kind: str, attachment_ids: set[int], learner_id: int) -> None:
    """The files of purged evidence: each attachment no other record cites, and its bytes once no
    attachment shares them."""
    going = report.going().get("evidence_files", set())
    cited = set(session.scalars(select(EvidenceFile.attachment_id).where(
        EvidenceFile.attachment_id.in_(attachment_ids), EvidenceFile.id.not_in(going))))
    cited |= set(session.scalars(select(AttachmentReference.attachment_id).where(
        AttachmentReference.attachment_id.in_(attachment_ids))))
    orphans = sorted(attachment_ids - cited)
    if not orphans:
        return
    digests = set(session.scalars(select(Attachment.sha256).where(Attachment.id.in_(orphans))))
    shared = set(session.scalars(select(Attachment.sha256).where(Attachment.sha256.in_(digests),
                                                                 Attachment.id.not_in(orphans))))
    blobs = sorted(digests - shared)
    report.add(kind, "attachments", "delete", orphans, learner_id)
    report.add(kind, "attachment_blobs", "delete", blobs, learner_id)
    if not report.dry_run:
        session.execute(delete(Attachment).where(Attachment.id.in_(orphans)))
        session.execute(delete(AttachmentBlob).where(AttachmentBlob.sha256.in_(blobs)))


def _qualification_awards(session: Session, report: PurgeReport, months: Months, today: date) -> None:
    for award in session.scalars(select(QualificationAward).order_by(QualificationAward.id)):
        if add_months(award.awarded_at.date(), months.of(award.organisation_id, "qualification_award")) > today:
            continue
        report.add("qualification_award", "qualification_awards", "delete_through_ledger", [award.id], award.learner_id)
        if not report.dry_run:
            row = {c.name: getattr(award, c.name) for c in QualificationAward.__table__.columns}
            session.expunge(award)
            ledger.remove(session, table_name="qualification_awards", rows=[row], kind="qualification_award",
                          run=report.run, now=report.now)


def _audit_trail(session: Session, report: PurgeReport, today: date) -> None:
    """Audit events past the platform's audit period (events span organisations: the fallback default)."""
    keep = int(national_defaults()["countries"]["*"]["months"]["audit_trail"])
    cutoff = add_months(today, -keep)
    t = ledger.table("audit_events")
    found = [dict(r._mapping) for r in session.execute(select(*t.c).where(t.c.at < datetime(
        cutoff.year, cutoff.month, cutoff.day, tzinfo=report.now.tzinfo)).order_by(t.c.id))]
    report.add("audit_trail", "audit_events", "delete_through_ledger", [r["id"] for r in found])
    if found and not report.dry_run:
        ledger.remove(session, table_name="audit_events", rows=found, kind="audit_trail", run=report.run,
                      now=report.now)


def purge(session: Session, *, now: datetime | None = None, dry_run: bool, actor_id: int | None = None) -> PurgeReport:
    """Apply the retention policy at ``now`` (default: the clock), or only list what would go."""
    report = PurgeReport(str(uuid.uuid4()), now or utcnow(), dry_run)
    today = report.now.date()
    months = Months(session)
    # No mobility that ended more recently than the shortest period anywhere has anything to go (a few
    # days' margin for months of different lengths).
    latest_end = add_months(today, -months.shortest(evidence.ORDER)) + timedelta(days=3)
    finished = session.scalars(select(Mobility).where(Mobility.status.in_(FINISHED), Mobility.end_date < today,
                                                      Mobility.end_date <= latest_end).order_by(Mobility.id))
    for mobility in list(finished):
        _mobility(session, report, mobility, months, today)
    _qualification_awards(session, report, months, today)
    _audit_trail(session, report, today)
    for learner_id in learners.without_evidence(session, today=today, going=report.going()):
        report.add("learner_profile", "learners", "pseudonymise", [learner_id], learner_id)
        if not dry_run:
            learners.pseudonymise(session, learner_id)
    for sweep in working.SWEEPS:
        keys = working.expired(session, sweep, report.now)
        report.add(sweep.kind, sweep.model.__tablename__, "delete", keys)
        if not dry_run:
            working.remove(session, sweep, keys)
    session.flush()
    audit.record(session, actor_id=actor_id, action="retention.dry_run" if dry_run else "retention.purged",
                 run=report.run, counts=report.counts())
    return report


def dry_run(session: Session, *, actor: Actor) -> PurgeReport:
    """What a purge would remove now, for a platform administrator (403 for anyone else)."""
    require_admin(actor)
    return purge(session, dry_run=True, actor_id=actor.user_id)


@periodic.register("retention.purge", every=timedelta(days=1))
def daily_purge(session: Session) -> None:
    """The worker's daily run."""
    purge(session, dry_run=False)
