"""The answer to an erasure request, in the learner's language (texts in ``ecvet/locale/*/mail.po``): what
was erased, what was kept, why and until when, or why the request was refused. Shown on the learner's
page and e-mailed to the addresses held before the erasure; it names nobody, so its outbox record holds
no more than the address it went to."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy.orm import Session

from ecvet.mail import MAIL
from ecvet.privacy.models import ErasureRequest, ErasureStatus
from engine.mailer import DeliveryFailed, Mail, Mailer

MAIL_KIND = "erasure_answer"


def _kept_line(_: Callable[..., str], entry: dict[str, Any]) -> str:
    if entry["reason"] == "evidence":
        return _("{count} records of signed evidence of your mobility (Learning Agreement, assessment, transcript, "
                 "recognition, Europass Mobility) are kept until {until}: the law obliges the organisations to keep "
                 "them (GDPR Art. 17(3)(b)) and they may be needed for legal claims (Art. 17(3)(e)).",
                 count=entry["count"], until=entry.get("until") or "-")
    if entry["reason"] == "audit":
        return _("{count} entries of the audit trail (who did or read what, and when) are kept to show that your "
                 "data was handled lawfully (GDPR Art. 5(2)).", count=entry["count"])
    return _("This request and its answer are kept as the record of your request (GDPR Art. 5(2)).")


def lines(row: ErasureRequest) -> list[str]:
    """The answer's paragraphs (empty while the request waits)."""
    _ = MAIL.writer(row.language)
    if row.status == ErasureStatus.RECEIVED:
        return []
    if row.status == ErasureStatus.REFUSED:
        if row.refusal_reason == "running_mobility":
            return [_("Your data was not erased: one of your mobilities is still running. The sending organisation "
                      "has to cancel or finish it first; then ask again.")]
        return [_("Your sending organisation refused to erase your data, for this reason: {reason}",
                  reason=row.refusal_note or "-")]
    deleted = sum(e["count"] for e in row.erased if e["how"] == "deleted")
    pseudonymised = sum(e["count"] for e in row.erased if e["how"] != "deleted")
    out = [_("Your personal data was erased: {deleted} records were deleted (e-mails, files, sign-in data) and "
             "{pseudonymised} were pseudonymised (your profile, your accounts, process data, comments, "
             "evaluations); your accounts are closed.", deleted=deleted, pseudonymised=pseudonymised)]
    kept = sorted(row.kept, key=lambda e: ("evidence", "audit", "request").index(e["reason"]))
    merged: dict[str, dict[str, Any]] = {}
    for entry in kept:
        into = merged.setdefault(entry["reason"], {"reason": entry["reason"], "count": 0, "until": None})
        into["count"] += entry["count"]
        into["until"] = max(filter(None, (into["until"], entry.get("until"))), default=None)
    out += [_kept_line(_, entry) for entry in merged.values()]
    return out


def compose(row: ErasureRequest, to: str) -> Mail:
    _ = MAIL.writer(row.language)
    body = "\n\n".join([_("Hello,"), *lines(row),
                        _("This message was sent automatically by ECVET Flow in answer to the erasure request "
                          "number {number}.", number=row.id)])
    return Mail(to=to, subject=_("[ECVET] Answer to your erasure request {number}", number=row.id), body=body,
                kind=MAIL_KIND)


def send(session: Session, row: ErasureRequest, addresses: list[str], mailer: Mailer) -> None:
    for address in addresses:
        try:
            mailer.send(session, compose(row, address))
        except DeliveryFailed:
            continue  # the outbox row keeps the error; the answer stays on the learner's page
