"""Workers racing for due jobs, and a worker killed with SIGKILL mid-job."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

from sqlalchemy import func, select

from engine import audit, instances, jobs
from engine.config import ROOT
from engine.db import Database
from engine.models import AuditEvent, HumanTask, Job, JobStatus
from engine.parties import Actor
from engine.worker import Worker
from tests.support import connectors
from tests.support.bpmn import service_process
from tests.support.engine import deploy


@jobs.handler("probe")
def _probe(session, job) -> None:  # type: ignore[no-untyped-def]
    """A job whose whole effect is one audit row: counting rows counts effects."""
    audit.record(session, actor_id=None, action="probe.ran", job_id=job.id)


def test_two_workers_race_for_due_jobs_and_each_runs_exactly_once(db: Database) -> None:
    count = 1000 if not db.is_sqlite else 300
    with db.transaction() as s:
        for _ in range(count):
            jobs.enqueue(s, kind="probe")
    results: Counter[str] = Counter()
    lock = threading.Lock()
    barrier = threading.Barrier(2)

    def work(name: str) -> None:
        own_db = Database(db.url)
        worker = Worker(own_db, worker_id=name, batch=25)
        barrier.wait()
        while True:
            claims = jobs.claim(own_db, worker_id=name, limit=25)
            if not claims:
                break
            for item in claims:
                outcome = jobs.run_claimed(own_db, item, worker_id=name)
                with lock:
                    results[f"{name}:{outcome}"] += 1
        own_db.dispose()
        assert worker.worker_id == name

    threads = [threading.Thread(target=work, args=(f"w{i}",)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    with db.transaction(write=False) as s:
        ran = s.scalars(select(AuditEvent).where(AuditEvent.action == "probe.ran"))
        per_job = Counter(e.detail["job_id"] for e in ran)
        statuses = Counter(s.scalars(select(Job.status)))
    assert len(per_job) == count
    assert set(per_job.values()) == {1}
    assert statuses == {JobStatus.DONE: count}
    assert sum(results.values()) == count
    if not db.is_sqlite:  # SQLite serialises writers, so one worker may legitimately take everything
        assert results["w0:done"] > 0, results  # both really took part
        assert results["w1:done"] > 0, results


def test_worker_killed_mid_job_loses_nothing_and_the_job_runs_once_elsewhere(
    db_url: str, admin: Actor, tmp_path: Path
) -> None:
    assert "slow_probe" in connectors.CONNECTORS_REGISTERED  # the rescuer (this process) knows the connector
    db = Database(db_url)
    deploy(db, {"slow.bpmn": service_process("slow", "slow_probe", retries=0)})
    with db.transaction() as s:
        iid = instances.start(s, actor=admin, process_key="slow", parties={}).id
    marker = tmp_path / "started"
    env = {**os.environ, "DATABASE_URL": db.url, "ECVET_CONNECTORS": "tests.support.connectors",
           "ECVET_TEST_SLOW_MARKER": str(marker), "ECVET_JOB_LEASE_SECONDS": "2", "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-m", "api.cli", "worker", "--poll", "0.1"], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(600):
            if marker.exists():
                break
            time.sleep(0.05)
        assert marker.exists(), "the worker subprocess never reached the connector"
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
    with db.transaction(write=False) as s:
        job = s.scalars(select(Job).where(Job.kind == "service")).one()
        assert job.status == JobStatus.RUNNING
        assert job.attempts == 1
        assert s.scalar(select(func.count()).select_from(HumanTask)) == 0  # no effect was applied
    time.sleep(2.2)  # let the dead worker's lease run out (real clock: the lease is wall time)
    # the service task, then the mail telling the initiator of the task that follows it
    assert jobs.run_due(db, worker_id="rescuer") == 2
    with db.transaction(write=False) as s:
        job = s.scalars(select(Job).where(Job.kind == "service")).one()
        assert (job.status, job.attempts, job.locked_by) == (JobStatus.DONE, 2, "rescuer")
        done = s.scalars(select(AuditEvent).where(AuditEvent.action == "service.completed")).all()
        assert len(done) == 1
        assert [t.bpmn_id for t in s.scalars(select(HumanTask).where(HumanTask.instance_id == iid))] == ["after"]
    db.dispose()


def test_a_job_raising_base_exception_fails_alone_and_the_loop_goes_on(db: Database) -> None:
    """SystemExit (or any BaseException) from a job marks that job failed; it never ends the worker."""
    ran: list[int] = []

    @jobs.handler("escape_probe")
    def _escape(_session, job) -> None:  # type: ignore[no-untyped-def]
        ran.append(job.id)
        raise SystemExit("a job must not end the worker")

    try:
        with db.transaction() as s:
            for _ in range(3):
                jobs.enqueue(s, kind="escape_probe")
            jobs.enqueue(s, kind="probe")
        worker = Worker(db, worker_id="survivor", batch=10)
        assert worker.run_once() == 4
        with db.transaction(write=False) as s:
            rows = list(s.scalars(select(Job).order_by(Job.id)))
            probes = s.scalars(select(AuditEvent).where(AuditEvent.action == "probe.ran")).all()
        assert [(j.kind, j.status) for j in rows] == [("escape_probe", JobStatus.FAILED)] * 3 + [
            ("probe", JobStatus.DONE)]
        assert {j.last_error for j in rows[:3]} == {"SystemExit: a job must not end the worker"}
        assert len(ran) == 3
        assert len(probes) == 1
    finally:
        del jobs.HANDLERS["escape_probe"]
