"""Sending e-mail: one small interface, two transports, picked by configuration.

`OutboxMailer` (the default) only records each message in the `outbox` table: the development
mailbox, readable through GET /api/outbox. `SmtpMailer` hands each message to an SMTP server and
records it in the same table with transport 'smtp', so the outbox is also the delivery record.
`configured_mailer()` picks SMTP when the setting ``smtp_host`` is set.
"""
from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Any, Protocol

from sqlalchemy import insert
from sqlalchemy.orm import Session

from . import jobqueue
from .config import Settings, settings
from .models import OutboxMessage, utcnow


@dataclass(frozen=True)
class Mail:
    """One message to one recipient, with what it is about (for the outbox and its filters)."""

    to: str
    subject: str
    body: str
    kind: str
    task_id: str | None = None
    instance_id: str | None = None


class DeliveryFailed(jobqueue.RetryLater):
    """The transport refused or could not take the message; a later attempt may succeed.

    `record` is the outbox row that notes the failed attempt (transport and error).
    """

    def __init__(self, message: str, record: OutboxMessage) -> None:
        super().__init__(message)
        self.record = record


class Mailer(Protocol):
    transport: str

    def send(self, session: Session, mail: Mail) -> OutboxMessage:
        """Deliver `mail` and add its outbox row to the caller's unit of work (raises DeliveryFailed)."""
        ...


def _values(mail: Mail, *, transport: str, sent: bool, error: str | None = None) -> dict[str, Any]:
    """The outbox row of one message, as column values."""
    now = utcnow()
    return {"to_email": mail.to, "subject": mail.subject[:300], "body": mail.body, "kind": mail.kind,
            "task_id": mail.task_id, "instance_id": mail.instance_id, "created_at": now,
            "sent_at": now if sent else None, "transport": transport, "error": error}


def _record(session: Session, mail: Mail, *, transport: str, sent: bool, error: str | None = None) -> OutboxMessage:
    row = OutboxMessage(**_values(mail, transport=transport, sent=sent, error=error))
    session.add(row)
    session.flush()  # the id goes into the audit trail
    return row


class OutboxMailer:
    """Development and test transport: the outbox table is the mailbox."""

    transport = "outbox"

    def send(self, session: Session, mail: Mail) -> OutboxMessage:
        return _record(session, mail, transport=self.transport, sent=True)

    def record_many(self, session: Session, mails: list[Mail]) -> list[int]:
        """Many messages at once, in one INSERT on every database; returns their outbox ids in the order of
        `mails` (for the audit trail). The ids come back unordered (ordering them would cost SQLite one
        statement per row), so they are matched by recipient, task and kind: rows alike in those are
        the same message, and either id names either."""
        if not mails:
            return []
        values = [_values(mail, transport=self.transport, sent=True) for mail in mails]
        session.flush()
        stmt = insert(OutboxMessage).returning(OutboxMessage.id, OutboxMessage.to_email, OutboxMessage.task_id,
                                               OutboxMessage.kind)
        ids: dict[tuple[str, str | None, str], list[int]] = {}
        for row_id, to, task_id, kind in session.execute(stmt, values):
            ids.setdefault((to, task_id, kind), []).append(row_id)
        return [ids[(m.to, m.task_id, m.kind)].pop() for m in mails]


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int = 25
    user: str | None = None
    password: str | None = None
    sender: str = "ECVET Flow <ecvet-flow@localhost>"
    starttls: bool = False
    timeout: float = 10.0

    @classmethod
    def of(cls, current: Settings) -> SmtpSettings:
        """The SMTP part of the settings (``smtp_host`` must be set)."""
        return cls(
            host=current.smtp_host or "",
            port=current.smtp_port,
            user=current.smtp_user or None,
            password=current.smtp_password or None,
            sender=current.smtp_from,
            starttls=current.smtp_starttls,
            timeout=current.smtp_timeout,
        )


# Python folds a long Subject right after "Subject:", which some clients show with a leading blank;
# RFC 5322 allows 998 characters per line, and our subjects are at most 300.
_POLICY = policy.SMTP.clone(max_line_length=998)


class SmtpMailer:
    """Sends through an SMTP server (one connection per message) and records each attempt.

    A failure records the attempt with its error and raises DeliveryFailed (a jobqueue.RetryLater),
    so a job that lets it propagate is retried by the worker with backoff.
    """

    transport = "smtp"

    def __init__(self, settings: SmtpSettings) -> None:
        self.settings = settings

    def message(self, mail: Mail) -> EmailMessage:
        msg = EmailMessage(policy=_POLICY)
        msg["From"] = self.settings.sender
        msg["To"] = mail.to
        msg["Subject"] = mail.subject
        msg["Date"] = formatdate(utcnow().timestamp(), usegmt=True)
        msg["Message-ID"] = make_msgid(domain="ecvet-flow")
        if mail.task_id:
            msg["X-ECVET-Task"] = mail.task_id
        msg.set_content(mail.body)
        return msg

    def deliver(self, msg: EmailMessage) -> None:
        s = self.settings
        with smtplib.SMTP(s.host, s.port, timeout=s.timeout) as smtp:
            if s.starttls:
                smtp.starttls(context=ssl.create_default_context())
            if s.user:
                smtp.login(s.user, s.password or "")
            smtp.send_message(msg)

    def send(self, session: Session, mail: Mail) -> OutboxMessage:
        try:
            self.deliver(self.message(mail))
        except (smtplib.SMTPException, OSError) as exc:
            error = f"{type(exc).__name__}: {exc}"[:2000]
            row = _record(session, mail, transport=self.transport, sent=False, error=error)
            raise DeliveryFailed(f"SMTP delivery to {mail.to} failed: {error}", row) from exc
        return _record(session, mail, transport=self.transport, sent=True)


def configured_mailer() -> Mailer:
    """SMTP when the setting ``smtp_host`` is set, else the outbox table only."""
    current = settings()
    if current.smtp_host:
        return SmtpMailer(SmtpSettings.of(current))
    return OutboxMailer()
