"""Who still has a Europass Mobility to sign off, and telling them.

A Europass Mobility needs no process task (``service`` explains why), so its sign-off reaches people two
ways: the inbox lists, for each organisation of the signed-in person, the Europass Mobility documents that
organisation has not signed off yet (:func:`waiting_for`, one SQL query, gone once signed), and issuing one
e-mails every active member of the host and of the sending organisation through the configured mailer
(:func:`announce`; the outbox keeps each message, a failed delivery is noted there and audited).
"""
from __future__ import annotations

from typing import TypedDict

from sqlalchemy import ColumnElement, and_, exists, select
from sqlalchemy.orm import Session

from ecvet.europass.models import EuropassMobility, EuropassParty, EuropassSignature
from ecvet.mail import MAIL
from ecvet.mobility.models import Learner
from engine import audit
from engine.config import settings
from engine.mailer import DeliveryFailed, Mail, Mailer, configured_mailer
from engine.models import Membership, Organisation, User
from engine.parties import Actor

MAIL_KIND = "europass_sign_off"


class WaitingSignOff(TypedDict):
    """One Europass Mobility an organisation of the reader has still to sign off."""

    europass_id: int
    mobility_id: int
    number: str
    learner: str
    party: str
    organisation: str


def _unsigned(party: str) -> ColumnElement[bool]:
    return ~exists().where(EuropassSignature.europass_id == EuropassMobility.id, EuropassSignature.party == party)


def waiting_for(session: Session, *, actor: Actor) -> list[WaitingSignOff]:
    """The Europass Mobility documents one of the caller's organisations has not signed off yet (oldest first)."""
    organisations = sorted(actor.organisation_ids)
    if not organisations:
        return []
    found: list[WaitingSignOff] = []
    for party, column in ((EuropassParty.HOSTING, EuropassMobility.hosting_organisation_id),
                          (EuropassParty.SENDING, EuropassMobility.sending_organisation_id)):
        rows = session.execute(
            select(EuropassMobility.id, EuropassMobility.mobility_id, EuropassMobility.content, Learner.name,
                   Organisation.name)
            .join(Learner, Learner.id == EuropassMobility.learner_id)
            .join(Organisation, Organisation.id == column)
            .where(and_(column.in_(organisations), _unsigned(party)))
            .order_by(EuropassMobility.id))
        for europass_id, mobility_id, content, learner, organisation in rows:
            found.append({"europass_id": europass_id, "mobility_id": mobility_id,
                          "number": str(content.get("europass_mobility_number") or europass_id),
                          "learner": learner, "party": party, "organisation": organisation})
    return sorted(found, key=lambda w: (w["europass_id"], w["party"]))


def _members(session: Session, organisation_ids: tuple[int, ...]) -> list[User]:
    return list(session.scalars(
        select(User).join(Membership, Membership.user_id == User.id)
        .where(Membership.organisation_id.in_(organisation_ids), User.is_active.is_(True))
        .distinct().order_by(User.id)))


def _link(row: EuropassMobility) -> str:
    return f"{settings().base_url.rstrip('/')}/mobilities/{row.mobility_id}/europass-mobility"


def compose(user: User, row: EuropassMobility) -> Mail:
    """The message for one member of the host or the sending organisation, in their language."""
    _ = MAIL.writer(user.language)
    content = row.content
    names = {"number": content.get("europass_mobility_number") or row.id,
             "holder": (content.get("holder") or {}).get("name") or "-",
             "host": (content.get("host_organisation") or {}).get("name") or "-",
             "sending": (content.get("sending_organisation") or {}).get("name") or "-"}
    body = "\n".join([
        _("Hello {name},", name=user.name),
        "",
        _("The Europass Mobility {number} of {holder} has been issued and waits for the sign-off of the host "
          "({host}) and of the sending organisation ({sending}).", **names),
        _("Please read it and sign it off for your organisation; it shows in your task inbox until it is signed."),
        "",
        _("Europass Mobility: {number}", **names),
        _("SHA-256 of the text: {hash}", hash=row.content_hash),
        _("Open it: {link}", link=_link(row)),
        "",
        _("This message was sent automatically by ECVET Flow; you receive it as a member of the host or of the "
          "sending organisation of this mobility."),
    ])
    return Mail(to=user.email, subject=_("[ECVET] Europass Mobility to sign off: {number} ({holder})", **names),
                body=body, kind=MAIL_KIND)


def announce(session: Session, row: EuropassMobility, *, actor_id: int | None,
             mailer: Mailer | None = None) -> list[str]:
    """E-mail every active member of the host and of the sending organisation that the Europass Mobility
    waits for their sign-off; audited with who was written to. Returns the addresses written to."""
    mailer = mailer or configured_mailer()
    sent: list[str] = []
    failed: list[str] = []
    for user in _members(session, (row.hosting_organisation_id, row.sending_organisation_id)):
        try:
            mailer.send(session, compose(user, row))
        except DeliveryFailed:
            failed.append(user.email)  # the outbox row keeps the error
            continue
        sent.append(user.email)
    audit.record(session, actor_id=actor_id, action="europass_mobility.sign_off_requested",
                 mobility_id=row.mobility_id, europass_id=row.id, to=sent, failed=failed)
    return sent

