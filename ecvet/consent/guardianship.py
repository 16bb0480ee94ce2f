"""The guardian's access ends at the learner's 18th birthday: the daily sweep that records it.

Who may see and sign is decided by the date already (:mod:`ecvet.mobility.guardians`: every check and SQL
filter asks whether the learner is a minor today), so access ends at midnight UTC whether or not this
sweep ran. The sweep does what a date cannot: once per learner it records ``guardian.access_ended``,
hands the guardian's lanes of the learner's running processes (and their ready tasks) to the sending
organisation, as for a guardian without an account, and e-mails the learner and the guardian.
"""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from ecvet.consent.models import GuardianHandOver
from ecvet.mail import MAIL
from ecvet.mobility import guardians
from ecvet.mobility.models import Learner, Mobility
from ecvet.review.models import Review
from engine import audit, instances, periodic
from engine.config import settings
from engine.mailer import DeliveryFailed, Mail, Mailer, configured_mailer
from engine.models import InstanceStatus, ProcessInstance, User

SWEEP = "guardian.access_ends"
MAIL_KIND = "guardian_access_ended"
_RUNNING = (InstanceStatus.COMPLETED, InstanceStatus.TERMINATED)


def due(session: Session) -> list[Learner]:
    """Learners who came of age with a guardian's account on record and no hand-over yet (oldest first)."""
    done = select(GuardianHandOver.learner_id)
    return list(session.scalars(select(Learner).where(guardians.came_of_age_with_guardian(),
                                                      Learner.id.not_in(done)).order_by(Learner.id)))


def _instances(session: Session, learner: Learner) -> list[tuple[ProcessInstance, int]]:
    """The learner's running instances (their mobilities' and reviews'), each with its sending organisation."""
    mobilities = list(session.scalars(select(Mobility).where(Mobility.learner_id == learner.id)
                                      .order_by(Mobility.id)))
    found: list[tuple[ProcessInstance, int]] = []
    for mobility in mobilities:
        ids = [mobility.process_instance_id] + list(session.scalars(
            select(Review.instance_id).where(Review.mobility_id == mobility.id).order_by(Review.id)))
        for instance_id in ids:
            instance = session.get(ProcessInstance, instance_id) if instance_id else None
            if instance is not None and instance.status not in _RUNNING:
                found.append((instance, mobility.sending_organisation_id))
    return found


def compose(user_name: str, email: str, language: str | None, *, learner: Learner, to_guardian: bool) -> Mail:
    """The message to the learner or to the guardian, in the reader's language."""
    _ = MAIL.writer(language)
    names = {"learner": learner.name, "day": guardians.eighteenth_birthday(learner).isoformat()}
    if to_guardian:
        lines = [_("{learner} came of age on {day}. From that day you no longer act for them on ECVET Flow: "
                   "you do not see their mobilities, documents or tasks any more, and you sign nothing for them.",
                   **names),
                 _("Anything still waiting for your signature has gone back to the sending organisation.")]
    else:
        lines = [_("You came of age on {day}. From that day you alone act for yourself on ECVET Flow: your "
                   "parent or guardian no longer sees your mobilities, documents or tasks.", **names),
                 _("You can read everything held about you, and who looked at it, on your page: {link}",
                   link=f"{settings().base_url.rstrip('/')}/achievements")]
    body = "\n".join([_("Hello {name},", name=user_name), "", *lines, "",
                      _("This message was sent automatically by ECVET Flow.")])
    return Mail(to=email, subject=_("[ECVET] {learner} has come of age: the guardian's access has ended", **names),
                body=body, kind=MAIL_KIND)


def _recipients(session: Session, learner: Learner) -> list[tuple[str, str, str | None, bool]]:
    out: list[tuple[str, str, str | None, bool]] = []
    learner_user = session.get(User, learner.user_id) if learner.user_id else None
    out.append((learner.name, learner.email, learner_user.language if learner_user else None, False))
    guardian = session.get(User, learner.guardian_user_id) if learner.guardian_user_id else None
    if guardian is not None:
        out.append((guardian.name, guardian.email, guardian.language, True))
    elif learner.guardian_email:
        out.append((learner.guardian_name or learner.guardian_email, learner.guardian_email, None, True))
    return out


def end_access(session: Session, learner: Learner, *, mailer: Mailer | None = None) -> GuardianHandOver:
    """Record that the learner's guardian no longer acts for them, hand the guardian's open work to the
    sending organisation, tell both; audited as ``guardian.access_ended``."""
    mailer = mailer or configured_mailer()
    guardian_id = learner.guardian_user_id
    moved: dict[str, list[str]] = {}
    if guardian_id is not None:
        for instance, sending_id in _instances(session, learner):
            roles = instances.hand_over_user_party(session, actor_id=None, instance=instance, user_id=guardian_id,
                                                   organisation_id=sending_id, reason="the learner came of age")
            if roles:
                moved[instance.id] = roles
    row = GuardianHandOver(learner_id=learner.id, guardian_user_id=guardian_id,
                           came_of_age_on=guardians.eighteenth_birthday(learner))
    session.add(row)
    session.flush()
    sent, failed = [], []
    for name, email, language, to_guardian in _recipients(session, learner):
        try:
            mailer.send(session, compose(name, email, language, learner=learner, to_guardian=to_guardian))
        except DeliveryFailed:
            failed.append(email)
            continue
        sent.append(email)
    audit.record(session, actor_id=None, action="guardian.access_ended", learner_id=learner.id,
                 guardian_user_id=guardian_id, came_of_age_on=row.came_of_age_on.isoformat(),
                 handed_over=moved, to=sent, failed=failed)
    return row


@periodic.register(SWEEP, every=timedelta(hours=1))
def sweep(session: Session) -> None:
    """Every learner who came of age since the last run (hourly, so the hand-over follows midnight closely)."""
    for learner in due(session):
        end_access(session, learner)
