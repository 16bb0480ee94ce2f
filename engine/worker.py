"""`ecvet worker`: a loop that claims due jobs and runs them until told to stop (SIGTERM/SIGINT)."""
from __future__ import annotations

import logging
import signal
import threading
from datetime import datetime, timedelta
from types import FrameType

from . import execution, jobs, periodic, services, summaries
from .config import settings
from .db import Database
from .errors import Conflict
from .models import utcnow

log = logging.getLogger("ecvet.worker")

#: How long the worker waits after a batch that drained the queue before it claims again (seconds).
GATHER_SECONDS = 0.05


class Worker:
    """Polls the jobs table; several workers (processes or machines) may share one database."""

    def __init__(
        self,
        db: Database,
        *,
        worker_id: str | None = None,
        batch: int = 10,
        poll_seconds: float = 1.0,
        lease: timedelta = timedelta(seconds=60),
    ) -> None:
        self.db = db
        self.worker_id = worker_id or jobs.default_worker_id()
        self.batch = batch
        self.poll_seconds = poll_seconds
        self.lease = lease
        self.stopping = threading.Event()
        self.summarised_at: datetime | None = None

    def run_once(self) -> int:
        """Claim and run one batch; returns how many jobs were claimed."""
        claims = jobs.claim(self.db, worker_id=self.worker_id, limit=self.batch, lease=self.lease)
        singles = jobs.run_together(self.db, claims, worker_id=self.worker_id)
        if len(singles) < len(claims):
            log.info("%s jobs ran together", len(claims) - len(singles))
        for item in singles:
            if self.stopping.is_set():
                break  # unclaimed remainder: its lease expires and another worker takes it
            result = jobs.run_claimed(self.db, item, worker_id=self.worker_id)
            log.info("job %s %s: %s", item.job_id, item.kind, result,
                     extra={"job_id": item.job_id, "job_kind": item.kind, "result": result})
        return len(claims)

    def run_forever(self) -> None:
        log.info("worker %s started", self.worker_id)
        while not self.stopping.is_set():
            try:
                ran = self.run_once()
            except KeyboardInterrupt:
                raise
            except BaseException:  # noqa: BLE001 - the database may blink, a job may fail: keep the worker alive
                log.exception("worker loop error")
                ran = 0
            self.refresh_summaries()
            if ran == 0:
                self.stopping.wait(self.poll_seconds)
            elif ran < self.batch:
                # The queue is drained: a moment's pause lets the next batch gather, so jobs arriving
                # under load run several to a unit of work (notices) instead of one each.
                self.stopping.wait(min(self.poll_seconds, GATHER_SECONDS))
        log.info("worker %s stopped", self.worker_id)

    def refresh_summaries(self) -> None:
        """Every summaries.REFRESH_SECONDS: the dashboard's aggregates, so no page view groups all rows."""
        now = utcnow()  # the engine's clock: tests move it instead of waiting
        if self.summarised_at is not None and now - self.summarised_at < summaries.REFRESH:
            return
        self.summarised_at = now
        try:
            with self.db.transaction() as session:
                summaries.refresh(session)
                periodic.ensure_scheduled(session)  # a sweep whose job failed for good starts again
        except Conflict:
            pass  # another worker wrote the row at the same moment: theirs is as fresh
        except Exception:  # noqa: BLE001 - a failed refresh leaves the dashboard live, never the worker down
            log.exception("dashboard summary refresh failed")

    def stop(self, *_args: object) -> None:
        self.stopping.set()


def serve(db: Database, *, poll_seconds: float = 1.0, time_limit: float | None = None) -> None:
    """Run a worker in the foreground; SIGTERM and SIGINT finish the current job, then stop."""
    services.load_configured_connectors()
    execution.configure(time_limit=time_limit)
    lease = timedelta(seconds=settings().job_lease_seconds)
    worker = Worker(db, poll_seconds=poll_seconds, lease=lease)

    def _graceful(signum: int, _frame: FrameType | None) -> None:
        log.info("signal %s: stopping after the current job", signum)
        worker.stop()

    signal.signal(signal.SIGTERM, _graceful)
    signal.signal(signal.SIGINT, _graceful)
    worker.run_forever()
