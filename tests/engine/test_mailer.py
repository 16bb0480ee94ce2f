"""engine/mailer.py: two transports behind one interface, picked by the settings; every attempt recorded."""
from __future__ import annotations

import socket

import pytest

from engine.db import Database
from engine.jobqueue import RetryLater
from engine.mailer import DeliveryFailed, Mail, OutboxMailer, SmtpMailer, SmtpSettings, configured_mailer
from engine.models import OutboxMessage
from tests.support.settings import environment


@pytest.fixture(autouse=True)
def _no_smtp(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests choose their transport; the developer's environment must not choose it for them."""
    for name in ("ECVET_SMTP_HOST", "ECVET_SMTP_PORT", "ECVET_SMTP_STARTTLS"):
        monkeypatch.delenv(name, raising=False)

def test_configured_mailer_picks_smtp_only_when_a_host_is_set(monkeypatch: pytest.MonkeyPatch) -> None:
    assert isinstance(configured_mailer(), OutboxMailer)
    environment(monkeypatch, ECVET_SMTP_HOST="mail.school.example", ECVET_SMTP_PORT="587",
                ECVET_SMTP_STARTTLS="true")
    mailer = configured_mailer()
    assert isinstance(mailer, SmtpMailer)
    assert (mailer.settings.host, mailer.settings.port, mailer.settings.starttls) == ("mail.school.example", 587, True)
    message = mailer.message(Mail(to="a@b.example", subject="Hello", body="Text", kind="assigned"))
    assert (message["To"], message["Subject"]) == ("a@b.example", "Hello")


def _closed_port() -> int:
    with socket.socket() as probe:  # a port nobody listens on: connection refused
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


MAIL = Mail(to="coordinator@school.example", subject="[ECVET] New task", body="A task waits.", kind="assigned",
            task_id="t-1")


def test_the_outbox_transport_records_the_mail_as_sent(db: Database) -> None:
    with db.transaction() as s:
        row = OutboxMailer().send(s, MAIL)
        assert row.id is not None
    with db.transaction(write=False) as s:
        kept = s.get(OutboxMessage, row.id)
        assert kept is not None
        assert (kept.to_email, kept.transport, kept.error, kept.task_id) == (MAIL.to, "outbox", None, "t-1")
        assert kept.sent_at is not None


def test_an_smtp_failure_records_the_attempt_and_asks_to_retry(db: Database) -> None:
    mailer = SmtpMailer(SmtpSettings(host="127.0.0.1", port=_closed_port(), timeout=2.0))
    with db.transaction() as s:
        with pytest.raises(DeliveryFailed) as failed:
            mailer.send(s, MAIL)
        assert isinstance(failed.value, RetryLater)
        recorded = failed.value.record
        assert (recorded.transport, recorded.sent_at) == ("smtp", None)
        assert "ConnectionRefusedError" in (recorded.error or "")


def test_a_message_carries_sender_task_and_date_headers() -> None:
    mailer = SmtpMailer(SmtpSettings(host="mail.example", sender="ECVET Flow <noreply@ecvet.example>"))
    message = mailer.message(MAIL)
    assert (message["From"], message["To"], message["X-ECVET-Task"]) == \
        ("ECVET Flow <noreply@ecvet.example>", MAIL.to, "t-1")
    assert message["Date"]
    assert message["Message-ID"]
    assert message.get_content().strip() == MAIL.body
