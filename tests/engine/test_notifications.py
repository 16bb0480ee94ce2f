"""Notifications: who is told about a task, when reminders go out, and delivery through SMTP."""
from __future__ import annotations

import asyncio
import email
import email.policy
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from sqlalchemy import select

from engine import instances, jobs, notifications, tasks
from engine.clock import FrozenClock
from engine.config import ROOT
from engine.db import Database
from engine.models import AuditEvent, HumanTask, Job, JobStatus, OutboxMessage, User
from engine.parties import Actor
from tests.support.engine import actor_for, deploy, row
from tests.support.factories import make_org, make_user
from tests.support.settings import environment
from tests.support.statements import counted

T0 = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)
DUE = T0 + timedelta(hours=48)  # the fixture's first task has dueDate PT48H
FIXTURE = ROOT / "tests" / "fixtures" / "notifications" / "due_date_review.bpmn"


@pytest.fixture(autouse=True)
def _no_smtp(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests choose their transport; the developer's environment must not choose it for them."""
    for name in ("ECVET_SMTP_HOST", "ECVET_SMTP_PORT", "ECVET_SMTP_USER", "ECVET_SMTP_PASSWORD",
                 "ECVET_SMTP_FROM", "ECVET_SMTP_STARTTLS", "ECVET_REMINDER_LEAD_HOURS", "ECVET_BASE_URL"):
        monkeypatch.delenv(name, raising=False)


@dataclass
class Mobility:
    """A sending school with two active members and one inactive, a hosting company, a bystander."""

    db: Database
    admin: Actor
    sending: int
    hosting: int
    alice: Actor
    bob: Actor
    carol: str  # inactive member of the sending school
    dave: Actor  # hosting company
    eve: str  # member of an unrelated organisation


@pytest.fixture
def mobility(db: Database, frozen: FrozenClock) -> Mobility:  # noqa: ARG001 - the clock is frozen before the scene
    sending, hosting, other = make_org(db, sending_school=True), make_org(db, hosting_company=True), make_org(db)
    admin = actor_for(db, make_user(db, is_admin=True, email="admin@platform.example").id)
    alice = make_user(db, organisation_ids=[sending.id], email="alice@school.example")
    bob = make_user(db, organisation_ids=[sending.id], email="bob@school.example")
    carol = make_user(db, organisation_ids=[sending.id], email="carol@school.example")
    dave = make_user(db, organisation_ids=[hosting.id], email="dave@hotel.example")
    eve = make_user(db, organisation_ids=[other.id], email="eve@elsewhere.example")
    with db.transaction() as s:
        row(s, User, carol.id).is_active = False
    deploy(db, {FIXTURE.name: FIXTURE.read_bytes()})
    return Mobility(db, admin, sending.id, hosting.id, actor_for(db, alice.id), actor_for(db, bob.id),
                    carol.email, actor_for(db, dave.id), eve.email)


def start(m: Mobility, parties: dict[str, Any] | None = None) -> tuple[str, str]:
    """Start the fixture process; returns the instance id and its first (ready) task id."""
    with m.db.transaction() as s:
        instance = instances.start(s, actor=m.admin, process_key="due_date_review", business_key="M-2027-001",
                                   parties=parties or {"sending": m.sending, "hosting": m.hosting})
        task = s.scalars(select(HumanTask).where(HumanTask.instance_id == instance.id)).one()
        return instance.id, task.id


def outbox(db: Database) -> list[OutboxMessage]:
    with db.transaction(write=False) as s:
        return list(s.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def sent(db: Database, kind: str | None = None) -> list[tuple[str, str]]:
    return sorted((m.to_email, m.kind) for m in outbox(db) if kind is None or m.kind == kind)


def complete(m: Mobility, actor: Actor, task_id: str) -> None:
    with m.db.transaction() as s:
        tasks.complete(s, actor=actor, task_id=task_id, data={})


def test_assignment_goes_to_every_active_member_of_the_bound_organisation_only(mobility: Mobility) -> None:
    m = mobility
    iid, tid = start(m)
    assert outbox(m.db) == []  # the request only enqueues; the worker sends
    assert jobs.run_due(m.db) == 1  # one 'assigned' job, however many recipients
    assert sent(m.db) == [("alice@school.example", "assigned"), ("bob@school.example", "assigned")]
    message = outbox(m.db)[0]
    assert (message.task_id, message.instance_id, message.transport) == (tid, iid, "outbox")
    assert message.sent_at == T0
    assert message.error is None
    assert message.subject == "[ECVET] New task: Sign learning agreement (due_date_review / M-2027-001)"
    for expected in ("Hello alice,", "Task:         Sign learning agreement", "Business key: M-2027-001",
                     "Due:          2027-03-03 09:00 UTC", f"Open it:      /api/tasks/{tid}",
                     "Your role:    Sending organisation\nOrganisation: Berufsschule", "Sign the learning agreement"):
        assert expected in message.body
    with m.db.transaction(write=False) as s:
        audits = s.scalars(select(AuditEvent).where(AuditEvent.action == "notification.sent")
                           .order_by(AuditEvent.id)).all()
    assert [(a.task_id, a.detail["to"], a.detail["event"], a.actor_id) for a in audits] == [
        (tid, "alice@school.example", "assigned", None), (tid, "bob@school.example", "assigned", None)]
    # The hosting company hears about its own task only once the sending school is done.
    complete(m, m.alice, tid)
    jobs.run_due(m.db)
    assert sent(m.db, "assigned")[-1] == ("dave@hotel.example", "assigned")
    assert {to for to, _ in sent(m.db)} == {"alice@school.example", "bob@school.example", "dave@hotel.example"}


def test_each_recipient_reads_the_notices_in_their_own_language_else_english(
        mobility: Mobility, frozen: FrozenClock) -> None:
    m = mobility
    with m.db.transaction() as s:
        row(s, User, m.alice.user_id).language = "de"
        row(s, User, m.bob.user_id).language = "pt"  # not one we translate into: English
    _iid, tid = start(m)
    frozen.set(DUE + timedelta(seconds=1))
    jobs.run_due(m.db)
    mail = {(x.to_email, x.kind): x for x in outbox(m.db)}
    german, english = mail["alice@school.example", "assigned"], mail["bob@school.example", "assigned"]
    assert german.subject == "[ECVET] Neue Aufgabe: Sign learning agreement (due_date_review / M-2027-001)"
    assert german.body.startswith("Hallo alice,\n\nEine neue Aufgabe „Sign learning agreement“ wartet auf "
                                  "Berufsschule")
    for expected in ("Aufgabe:            Sign learning agreement", "Geschäftsschlüssel: M-2027-001",
                     "Fällig:             2027-03-03 09:00 UTC", f"Öffnen:             /api/tasks/{tid}",
                     "Anweisungen:", "Diese Nachricht wurde automatisch von ECVET Flow gesendet"):
        assert expected in german.body
    assert "Hello" not in german.body
    assert "Task:" not in german.body
    assert english.subject == "[ECVET] New task: Sign learning agreement (due_date_review / M-2027-001)"
    assert english.body.startswith("Hello bob,")
    assert mail["alice@school.example", "due_soon"].subject == \
        "[ECVET] Bald fällig: Sign learning agreement (due_date_review / M-2027-001) ist fällig am 2027-03-03 09:00 UTC"
    late = mail["alice@school.example", "overdue"]
    assert late.subject.startswith("[ECVET] ÜBERFÄLLIG: Sign learning agreement")
    assert "ist überfällig: Sie war am 2027-03-03 09:00 UTC fällig" in late.body
    assert mail["bob@school.example", "overdue"].subject.startswith("[ECVET] OVERDUE: ")


def test_a_task_bound_to_one_user_notifies_that_user_alone(mobility: Mobility) -> None:
    m = mobility
    start(m, {"sending": {"user_id": m.bob.user_id}, "hosting": m.hosting})
    jobs.run_due(m.db)
    assert sent(m.db) == [("bob@school.example", "assigned")]


def test_reminders_go_only_when_the_clock_passes_them(mobility: Mobility, frozen: FrozenClock) -> None:
    m = mobility
    _iid, tid = start(m)
    jobs.run_due(m.db)
    members = ["alice@school.example", "bob@school.example"]
    frozen.set(DUE - timedelta(hours=24, seconds=1))
    assert jobs.run_due(m.db) == 0
    assert sent(m.db, "due_soon") == []
    frozen.set(DUE - timedelta(hours=24))
    assert jobs.run_due(m.db) == 1
    assert sent(m.db, "due_soon") == [(to, "due_soon") for to in members]
    soon = [x for x in outbox(m.db) if x.kind == "due_soon"][0]
    assert soon.subject.startswith("[ECVET] Due soon: Sign learning agreement")
    assert "is due on 2027-03-03 09:00 UTC" in soon.body
    frozen.set(DUE - timedelta(seconds=1))
    assert jobs.run_due(m.db) == 0
    assert sent(m.db, "overdue") == []
    frozen.set(DUE + timedelta(seconds=1))
    assert jobs.run_due(m.db) == 1
    assert sent(m.db, "overdue") == [(to, "overdue") for to in members]
    late = [x for x in outbox(m.db) if x.kind == "overdue"][0]
    assert late.subject == "[ECVET] OVERDUE: Sign learning agreement (due_date_review / M-2027-001) " \
                           "was due 2027-03-03 09:00 UTC"
    assert "is overdue" in late.body
    assert late.task_id == tid
    frozen.advance(days=30)
    assert jobs.run_due(m.db) == 0  # each reminder goes once
    assert len(outbox(m.db)) == 6


def test_no_reminder_once_the_task_is_completed(mobility: Mobility, frozen: FrozenClock) -> None:
    m = mobility
    _iid, tid = start(m)
    jobs.run_due(m.db)
    frozen.advance(hours=1)
    complete(m, m.bob, tid)
    frozen.set(DUE + timedelta(days=1))
    jobs.run_due(m.db)
    mine = [(x.to_email, x.kind) for x in outbox(m.db) if x.task_id == tid]
    assert sorted(mine) == [("alice@school.example", "assigned"), ("bob@school.example", "assigned")]
    with m.db.transaction(write=False) as s:
        reminders = {j.payload["event"]: j.status
                     for j in s.scalars(select(Job).where(Job.kind == "notify", Job.task_id == tid))}
    # Completing the task cancelled its pending reminders in the same unit of work.
    assert reminders == {"assigned": JobStatus.DONE, "due_soon": JobStatus.CANCELLED, "overdue": JobStatus.CANCELLED}
    # And a reminder that escaped (e.g. already claimed by a worker) sends nothing for finished work.
    with m.db.transaction() as s:
        stray = jobs.enqueue(s, kind="notify", task_id=tid, payload={"event": "overdue", "due_at": DUE.isoformat()})
    assert jobs.run_due(m.db) == 1
    with m.db.transaction(write=False) as s:
        assert row(s, Job, stray.id).status == JobStatus.DONE
    assert len([x for x in outbox(m.db) if x.task_id == tid]) == 2


@pytest.mark.usefixtures("frozen")
def test_lead_time_is_configurable_and_a_past_reminder_is_skipped(
    mobility: Mobility, monkeypatch: pytest.MonkeyPatch
) -> None:
    m = mobility
    environment(monkeypatch, ECVET_REMINDER_LEAD_HOURS="6")
    _iid, tid = start(m)
    with m.db.transaction(write=False) as s:
        due = {j.payload["event"]: j.due_at for j in s.scalars(select(Job).where(Job.task_id == tid))}
    assert due == {"assigned": T0, "due_soon": DUE - timedelta(hours=6), "overdue": DUE}
    environment(monkeypatch, ECVET_REMINDER_LEAD_HOURS="72")  # longer than the task has: no 'due soon'
    _iid, tid2 = start(m)
    with m.db.transaction(write=False) as s:
        events = sorted(j.payload["event"] for j in s.scalars(select(Job).where(Job.task_id == tid2)))
    assert events == ["assigned", "overdue"]


def test_a_changed_due_date_silences_the_old_reminders(mobility: Mobility, frozen: FrozenClock) -> None:
    m = mobility
    _iid, tid = start(m)
    jobs.run_due(m.db)
    later = DUE + timedelta(days=7)
    with m.db.transaction() as s:
        task = row(s, HumanTask, tid)
        task.due_at = later
        notifications.schedule_reminders(s, task)
    frozen.set(DUE + timedelta(hours=1))  # past both old reminders
    jobs.run_due(m.db)
    assert sent(m.db, "due_soon") == []
    assert sent(m.db, "overdue") == []
    frozen.set(later + timedelta(seconds=1))
    jobs.run_due(m.db)
    assert len(sent(m.db, "due_soon")) == 2
    overdue = [x for x in outbox(m.db) if x.kind == "overdue"]
    assert len(overdue) == 2
    assert "2027-03-10 09:00 UTC" in overdue[0].subject


# --- SMTP ------------------------------------------------------------------------------------------

class FakeMailServer:
    """aiosmtpd handler: keeps what it accepts; recipients in `busy` get a temporary failure."""

    def __init__(self) -> None:
        self.received: list[tuple[str, list[str], EmailMessage]] = []
        self.busy: set[str] = set()

    async def handle_RCPT(  # noqa: N802 - the name aiosmtpd calls
            self, _server: Any, _session: Any, envelope: Any, address: str, _options: Any) -> str:
        if address in self.busy:
            return "451 4.3.0 Mailbox busy, try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, _server: Any, _session: Any, envelope: Any) -> str:  # noqa: N802 - aiosmtpd's name
        self.received.append((envelope.mail_from, list(envelope.rcpt_tos),
                              email.message_from_bytes(envelope.original_content,
                                                     policy=email.policy.default)))
        return "250 Message accepted for delivery"


class _EphemeralPortController(Controller):
    """Listens on a port the OS picks (port=0), then learns which one before its readiness check."""

    def _trigger_server(self) -> None:
        assert isinstance(self.server, asyncio.Server)
        self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()


def _authenticate(_server: Any, _session: Any, _envelope: Any, _mechanism: str, auth_data: Any) -> AuthResult:
    ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (b"ecvet", b"s3cret")
    return AuthResult(success=ok)


@pytest.fixture
def smtp_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeMailServer]:
    handler = FakeMailServer()
    controller = _EphemeralPortController(handler, hostname="127.0.0.1", port=0, authenticator=_authenticate,
                                          auth_require_tls=False)
    controller.start()
    environment(monkeypatch, ECVET_SMTP_HOST="127.0.0.1", ECVET_SMTP_PORT=str(controller.port),
                ECVET_SMTP_USER="ecvet", ECVET_SMTP_PASSWORD="s3cret",
                ECVET_SMTP_FROM="ECVET Flow <noreply@ecvet.example>")
    try:
        yield handler
    finally:
        controller.stop()


def test_smtp_transport_delivers_to_a_local_server_and_records_it(
    mobility: Mobility, smtp_server: FakeMailServer
) -> None:
    m = mobility
    _iid, tid = start(m)
    jobs.run_due(m.db)
    assert sorted(rcpt[0] for _f, rcpt, _m in smtp_server.received) == ["alice@school.example", "bob@school.example"]
    sender, _rcpt, message = smtp_server.received[0]
    assert sender == "noreply@ecvet.example"
    assert message["Subject"] == "[ECVET] New task: Sign learning agreement (due_date_review / M-2027-001)"
    assert message["X-ECVET-Task"] == tid
    assert f"/api/tasks/{tid}" in message.get_content()
    rows = outbox(m.db)
    assert [(r.transport, r.sent_at, r.error) for r in rows] == [("smtp", T0, None)] * 2


def test_smtp_failure_is_recorded_and_retried_for_the_failed_recipient_only(
    mobility: Mobility, smtp_server: FakeMailServer, frozen: FrozenClock
) -> None:
    m = mobility
    smtp_server.busy.add("bob@school.example")
    _iid, tid = start(m)
    jobs.run_due(m.db)
    assert [rcpt for _f, rcpt, _m in smtp_server.received] == [["alice@school.example"]]
    failed = [r for r in outbox(m.db) if r.error]
    assert [(r.to_email, r.transport, r.sent_at) for r in failed] == [("bob@school.example", "smtp", None)]
    assert "451" in (failed[0].error or "")
    with m.db.transaction(write=False) as s:
        retry = s.scalars(select(Job).where(Job.kind == "notify", Job.status == JobStatus.PENDING,
                                            Job.due_at <= T0 + timedelta(minutes=5))).one()
        assert retry.payload == {"event": "assigned", "only": ["bob@school.example"], "attempt": 2}
        assert s.scalars(select(AuditEvent).where(AuditEvent.action == "notification.failed")).one().detail["to"] \
            == "bob@school.example"
    smtp_server.busy.clear()
    frozen.advance(seconds=30)
    jobs.run_due(m.db)
    assert len(smtp_server.received) == 1  # backoff: not yet
    frozen.advance(seconds=31)
    jobs.run_due(m.db)
    assert sorted(rcpt[0] for _f, rcpt, _m in smtp_server.received) == ["alice@school.example", "bob@school.example"]
    delivered = [(r.to_email, r.kind) for r in outbox(m.db) if r.sent_at is not None]
    assert sorted(delivered) == [("alice@school.example", "assigned"), ("bob@school.example", "assigned")]


def test_smtp_unreachable_gives_up_after_the_configured_attempts(
    mobility: Mobility, frozen: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    m = mobility
    with socket.socket() as probe:  # a port nobody listens on: connection refused
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    environment(monkeypatch, ECVET_SMTP_HOST="127.0.0.1", ECVET_SMTP_PORT=str(closed_port),
                ECVET_MAIL_MAX_ATTEMPTS="2")
    start(m)
    jobs.run_due(m.db)
    frozen.advance(hours=2)
    jobs.run_due(m.db)
    frozen.advance(hours=2)
    assert jobs.run_due(m.db) == 0  # two attempts, then no more
    rows = outbox(m.db)
    assert len(rows) == 4
    assert all(r.sent_at is None and r.transport == "smtp" for r in rows)
    assert all("ConnectionRefusedError" in (r.error or "") for r in rows)




def test_a_notification_job_reads_no_workflow_state_and_sends_few_statements(mobility: Mobility) -> None:
    """Issue 15: the worker's cost per assignment. The job, the task with its owners, the instance's
    status and keys (not its serialised workflow, not its definition or parties), the recipients (not
    their memberships), the organisation's name; per recipient its outbox row and audit row; the job's
    'done'. Two recipients: eleven statements."""
    m = mobility
    start(m)
    claims = jobs.claim(m.db, worker_id="counting")
    assert len(claims) == 1
    with counted(m.db.engine) as statements:
        assert jobs.run_claimed(m.db, claims[0], worker_id="counting") == "done"
    sent_statements = [text for text in statements if not text.startswith("BEGIN")]
    listing = "\n".join(text[:150] for text in sent_statements)
    assert len(sent_statements) <= 7 + 2 * 2, listing
    # First lines only (tests/support/statements.py): what a read selects, hence what it loads.
    instance_reads = [text for text in sent_statements if text.startswith("SELECT process_instances.")]
    assert len(instance_reads) == 1, listing
    assert "process_instances.state" not in instance_reads[0]
    assert "process_definitions." not in instance_reads[0]
    assert not any(text.startswith(("SELECT instance_parties.", "SELECT memberships."))
                   for text in sent_statements), listing
    assert sent(m.db) == [("alice@school.example", "assigned"), ("bob@school.example", "assigned")]


def _notices_of(db: Database) -> list[tuple[str | None, str, str]]:
    with db.transaction(write=False) as s:
        audits = s.scalars(select(AuditEvent).where(AuditEvent.action == "notification.sent").order_by(AuditEvent.id))
        return sorted((a.task_id, a.detail["to"], a.detail["event"]) for a in audits)


def test_notices_of_many_jobs_run_together_with_as_many_statements_as_two(mobility: Mobility) -> None:
    """Issue 15: the worker's cost per assignment falls with the batch. Two jobs and six jobs take the
    same statements (no more per job), and every recipient gets exactly what one job at a time gives."""
    m = mobility
    counts = []
    for size in (2, 6):
        task_ids = [start(m)[1] for _ in range(size)]
        claims = jobs.claim(m.db, worker_id="together")
        assert len(claims) == size
        with counted(m.db.engine) as statements:
            assert jobs.run_claimed_together(m.db, claims, worker_id="together") == []
        counts.append(len([text for text in statements if not text.startswith("BEGIN")]))
        assert {to for tid, to, _ in _notices_of(m.db) if tid in task_ids} == {
            "alice@school.example", "bob@school.example"}
        assert sorted(tid for tid, _to, _ in _notices_of(m.db) if tid in task_ids) == sorted(task_ids * 2)
    assert counts[0] == counts[1], counts
    with m.db.transaction(write=False) as s:
        assert {j.status for j in s.scalars(select(Job).where(Job.payload["event"].as_string() == "assigned"))} \
            == {JobStatus.DONE}
    # Outbox rows and audit rows match one to one (the audit row names its outbox row).
    with m.db.transaction(write=False) as s:
        ids = {a.detail["outbox_id"] for a in s.scalars(select(AuditEvent)
                                                         .where(AuditEvent.action == "notification.sent"))}
    assert ids == {r.id for r in outbox(m.db)}


def test_a_failure_inside_the_batch_loses_nothing_and_each_job_then_runs_alone(
        mobility: Mobility, monkeypatch: pytest.MonkeyPatch) -> None:
    m = mobility
    _good_iid, good = start(m)
    _bad_iid, bad = start(m)
    original = notifications.compose

    def broken_for_one(event: str, task: HumanTask, *args: Any) -> Any:
        if task.id == bad:
            raise RuntimeError("cannot write this one")
        return original(event, task, *args)

    monkeypatch.setattr(notifications, "compose", broken_for_one)
    claims = jobs.claim(m.db, worker_id="together")
    left = jobs.run_claimed_together(m.db, claims, worker_id="together")
    assert left == claims  # rolled back: nothing of the batch stays
    assert outbox(m.db) == []
    assert [jobs.run_claimed(m.db, item, worker_id="together") for item in left] == ["done", "failed"]
    assert sorted({to for tid, to, _ in _notices_of(m.db) if tid == good}) == [
        "alice@school.example", "bob@school.example"]
    assert [tid for tid, _to, _ in _notices_of(m.db) if tid == bad] == []


def test_over_smtp_or_with_a_handler_of_ones_own_each_job_keeps_its_own_unit_of_work(
        mobility: Mobility, smtp_server: FakeMailServer) -> None:
    m = mobility
    start(m)
    start(m)
    claims = jobs.claim(m.db, worker_id="together")
    assert jobs.run_claimed_together(m.db, claims, worker_id="together") == claims  # SMTP: declined
    assert outbox(m.db) == []
    assert smtp_server.received == []
    assert [jobs.run_claimed(m.db, item, worker_id="together") for item in claims] == ["done", "done"]
    assert len(smtp_server.received) == 4


def test_a_handler_registered_over_the_engines_own_runs_one_job_at_a_time(
        mobility: Mobility, monkeypatch: pytest.MonkeyPatch) -> None:
    m = mobility
    start(m)
    start(m)
    seen: list[int] = []
    monkeypatch.setitem(jobs.HANDLERS, notifications.JOB_KIND, lambda _session, job: seen.append(job.id))
    claims = jobs.claim(m.db, worker_id="together")
    assert jobs.run_claimed_together(m.db, claims, worker_id="together") == claims
    for item in claims:
        jobs.run_claimed(m.db, item, worker_id="together")
    assert sorted(seen) == sorted(item.job_id for item in claims)
    assert outbox(m.db) == []
