"""Mobilities: one learner's stay abroad under a MoU in force, who takes part in it and who sees what.

A mobility is nominated by the sending organisation (:mod:`ecvet.mobility.nomination`), which starts
the Mobility process with every lane bound to its party. Status: ``nomination`` → ``live`` (the start
date came with the Learning Agreement in force, :mod:`ecvet.mobility.departure`) → ``recognized``; or
``cancelled``. Every change is a :class:`~ecvet.mobility.models.MobilityStatusChange` row and an audit
event. Who may see a mobility, its learner and its documents is decided here (:func:`is_party`,
:func:`home_side`, :func:`host_side`); everyone else gets 404.

The national model is evaluated once, at nomination, and kept on the mobility (``national_model``):
the Learning Agreement's signatures, the recogniser and the process gates all read that one answer.
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from ecvet.mobility import guardians
from ecvet.mobility.models import (
    LaStatus,
    Learner,
    LearningAgreement,
    Mobility,
    MobilityPeriod,
    MobilityStatus,
    MobilityStatusChange,
)
from ecvet.national_models.service import NationalModel, decide
from ecvet.partnership.models import Mou, MouVersion
from engine import audit, messages, operations
from engine.errors import Conflict, Forbidden, Invalid, NotFound
from engine.models import InstanceStatus, Organisation, ProcessInstance, utcnow
from engine.pagination import Page, paginate
from engine.parties import Actor

PROCESS_KEY = "mobility"

_TRANSITIONS = {
    MobilityStatus.NOMINATION: {MobilityStatus.LIVE, MobilityStatus.CANCELLED},
    MobilityStatus.LIVE: {MobilityStatus.RECOGNIZED, MobilityStatus.CANCELLED},
    MobilityStatus.RECOGNIZED: set(),
    MobilityStatus.CANCELLED: set(),
}

# --------------------------------------------------------------------------------------------------
# Who takes part, who sees what
# --------------------------------------------------------------------------------------------------


def home_organisation_ids(mobility: Mobility) -> set[int]:
    """The home side: the sending organisation and the competent institution (home)."""
    return {i for i in (mobility.sending_organisation_id, mobility.competent_institution_home_id) if i}


def host_organisation_ids(mobility: Mobility) -> set[int]:
    """The host side: the hosting organisation (every host of a mobility with several periods) and the
    competent institution (host)."""
    hosts = {mobility.hosting_organisation_id} | {p.hosting_organisation_id for p in mobility.periods}
    return hosts | ({mobility.competent_institution_host_id} if mobility.competent_institution_host_id else set())


def party_organisation_ids(mobility: Mobility) -> set[int]:
    ids = home_organisation_ids(mobility) | host_organisation_ids(mobility)
    if mobility.intermediary_organisation_id:
        ids.add(mobility.intermediary_organisation_id)
    return ids


def is_learner(actor: Actor, mobility: Mobility) -> bool:
    """The learner, or their parent or guardian while the learner is a minor today (each signed in with
    their own account): the guardian's access ends by itself on the 18th birthday."""
    learner = mobility.learner
    if learner.user_id is not None and actor.user_id == learner.user_id:
        return True
    return actor.user_id == learner.guardian_user_id and guardians.guardian_acts(learner)


def is_party(actor: Actor, mobility: Mobility) -> bool:
    """Admins, the learner (and guardian), and members of every organisation taking part."""
    if actor.is_admin or is_learner(actor, mobility):
        return True
    return bool(party_organisation_ids(mobility) & actor.organisation_ids)


def home_side(actor: Actor, mobility: Mobility) -> bool:
    return bool(home_organisation_ids(mobility) & actor.organisation_ids)


def host_side(actor: Actor, mobility: Mobility) -> bool:
    return bool(host_organisation_ids(mobility) & actor.organisation_ids)


def personal_fields(actor: Actor, mobility: Mobility) -> dict[str, bool]:
    """Which of the learner's personal fields the caller's part in the mobility needs (minimisation,
    issue 16): the date of birth the home side (which nominated the learner and signs the Learning
    Agreement), the learner and admins; the guardian's contact those, and the host side while the
    learner is a minor (its duty of care abroad). Everyone else sees name, e-mail and whether a minor."""
    home = actor.is_admin or is_learner(actor, mobility) or home_side(actor, mobility)
    minor_abroad = host_side(actor, mobility) and mobility.learner.is_minor(guardians.today())
    return {"birth": home, "guardian": home or minor_abroad}


def is_sender(actor: Actor, mobility: Mobility) -> bool:
    return mobility.sending_organisation_id in actor.organisation_ids


def is_host(actor: Actor, mobility: Mobility) -> bool:
    return mobility.hosting_organisation_id in actor.organisation_ids


def get(session: Session, *, actor: Actor, mobility_id: int) -> Mobility:
    """The mobility, for its parties and admins; to anyone else it does not exist (404)."""
    mobility = session.get(Mobility, mobility_id)
    if mobility is None or not is_party(actor, mobility):
        raise NotFound(f"No mobility {mobility_id}")
    return mobility


def locked(session: Session, mobility_id: int) -> Mobility:
    """The mobility row locked for this unit of work, so concurrent decisions on it serialise."""
    mobility = session.scalars(
        select(Mobility).where(Mobility.id == mobility_id).with_for_update(of=Mobility)
        .execution_options(populate_existing=True)
    ).one_or_none()
    if mobility is None:
        raise NotFound(f"No mobility {mobility_id}")
    return mobility


def list_for(
    session: Session,
    *,
    actor: Actor,
    status: str | None = None,
    mou_id: int | None = None,
    learner_id: int | None = None,
    cursor: str | None = None,
    limit: int = 50,
) -> Page[Mobility]:
    """The mobilities the caller takes part in (all of them for admins), oldest first."""
    stmt = select(Mobility)
    if not actor.is_admin:
        orgs = actor.organisation_ids or {-1}
        learner_ids = select(Learner.id).where(guardians.acts_for(actor.user_id))
        stmt = stmt.where(or_(
            Mobility.sending_organisation_id.in_(orgs),
            Mobility.hosting_organisation_id.in_(orgs),
            Mobility.competent_institution_home_id.in_(orgs),
            Mobility.competent_institution_host_id.in_(orgs),
            Mobility.intermediary_organisation_id.in_(orgs),
            Mobility.id.in_(select(MobilityPeriod.mobility_id).where(MobilityPeriod.hosting_organisation_id.in_(orgs))),
            Mobility.learner_id.in_(learner_ids),
        ))
    if status:
        if status not in MobilityStatus.ALL:
            raise Invalid("Unknown status", errors={"status": [f"One of {', '.join(MobilityStatus.ALL)}"]})
        stmt = stmt.where(Mobility.status == status)
    if mou_id is not None:
        stmt = stmt.where(Mobility.mou_id == mou_id)
    if learner_id is not None:
        stmt = stmt.where(Mobility.learner_id == learner_id)
    return paginate(session, stmt, [Mobility.id], cursor=cursor, limit=limit)


# --------------------------------------------------------------------------------------------------
# The MoU a mobility runs under
# --------------------------------------------------------------------------------------------------


def active_content(session: Session, mou: Mou) -> dict[str, Any] | None:
    if mou.active_version_id is None:
        return None
    version = session.get(MouVersion, mou.active_version_id)
    return version.content if version is not None else None


def same_title(a: Any, b: Any) -> bool:
    return isinstance(a, str) and isinstance(b, str) and a.strip().casefold() == b.strip().casefold()


def mou_qualification(session: Session, mobility: Mobility) -> dict[str, Any] | None:
    """The qualification of the MoU's version in force that the mobility is for, if there is one."""
    mou = session.get(Mou, mobility.mou_id)
    content = active_content(session, mou) if mou is not None else None
    for qualification in (content or {}).get("qualifications") or []:
        if same_title(qualification.get("title"), mobility.qualification_title):
            return qualification
    return None


def mou_units(session: Session, mobility: Mobility) -> dict[str, dict[str, Any]]:
    """Units the MoU in force covers for the mobility's qualification, by code: what an LA may contain."""
    qualification = mou_qualification(session, mobility) or {}
    return {u["code"]: u for u in qualification.get("units") or [] if isinstance(u.get("code"), str)}


def unit_choices(units: Any, key: str = "code") -> list[dict[str, str]]:
    """Units as a form's choice list (spiff dynamic enum ``options_from_task_data_var:``): the code is the
    value, "code — title" what the person picks from."""
    out = []
    for unit in units or []:
        code = unit.get(key) if isinstance(unit, dict) else None
        if isinstance(code, str) and code:
            title = unit.get("title")
            out.append({"value": code, "label": f"{code} — {title}" if isinstance(title, str) and title else code})
    return out


def assessor_choices(content: Any) -> list[dict[str, str]]:
    """The assessors a Learning Agreement names, as suggestions for who assessed a unit."""
    assessors = ((content or {}).get("assessment") or {}).get("assessors") or []
    names = [a.get("name") for a in assessors if isinstance(a, dict)]
    return [{"value": n, "label": n} for n in dict.fromkeys(n for n in names if isinstance(n, str) and n)]


def national_model(session: Session, mobility: Mobility) -> NationalModel:
    """The national model the mobility was nominated under (evaluated now for rows made without one)."""
    if mobility.national_model:
        return NationalModel(**mobility.national_model)
    country = session.scalar(select(Organisation.country).where(Organisation.id == mobility.sending_organisation_id))
    return decide(country or "", mobility.sector, mobility.qualification_eqf_level, session=session)


# --------------------------------------------------------------------------------------------------
# Status
# --------------------------------------------------------------------------------------------------


def transition(session: Session, mobility: Mobility, new: str, *, actor_id: int | None, reason: str) -> None:
    """Move the mobility to `new` (409 when the current status does not allow it), with its history row."""
    old = mobility.status
    if new not in _TRANSITIONS.get(old, set()):
        raise Conflict(f"The mobility is {old}; it cannot become {new}")
    now = utcnow()
    mobility.status = new
    mobility.updated_at = now
    session.add(MobilityStatusChange(mobility_id=mobility.id, old_status=old, new_status=new, reason=reason,
                                     changed_at=now, changed_by=actor_id))
    session.flush()
    audit.record(session, actor_id=actor_id, action="mobility.status_changed", mobility_id=mobility.id, old=old,
                 new=new, reason=reason)


def current_agreement(session: Session, mobility: Mobility) -> LearningAgreement | None:
    """The mobility's Learning Agreement (the one not deleted), if it has one."""
    return session.scalar(select(LearningAgreement).where(
        LearningAgreement.mobility_id == mobility.id, LearningAgreement.status != LaStatus.DELETED))


def cancel(session: Session, *, actor: Actor, mobility_id: int, reason: str) -> Mobility:
    """Cancel a mobility that is not recognised yet (the sending organisation, with a reason)."""
    mobility = get(session, actor=actor, mobility_id=mobility_id)
    mobility = locked(session, mobility.id)
    if not (actor.is_admin or is_sender(actor, mobility)):
        raise Forbidden("Only the sending organisation cancels a mobility")
    if not (reason or "").strip():
        raise Invalid("Say why the mobility is cancelled", errors={"reason": ["Required"]})
    transition(session, mobility, MobilityStatus.CANCELLED, actor_id=actor.user_id, reason=reason.strip())
    mobility.cancel_reason = reason.strip()
    session.flush()
    return mobility


def withdraw(session: Session, *, actor: Actor, mobility_id: int, reason: str) -> Mobility:
    """The sending organisation cancels a mobility at any time before recognition (the learner drops
    out, the host closes...): the mobility is cancelled and its process instance ends, its open tasks
    withdrawn. The instance is terminated by the platform on the sender's behalf; the audit trail
    names the person who withdrew the mobility."""
    mobility = cancel(session, actor=actor, mobility_id=mobility_id, reason=reason)
    instance = session.get(ProcessInstance, mobility.process_instance_id) if mobility.process_instance_id else None
    if instance is not None and instance.status not in (InstanceStatus.COMPLETED, InstanceStatus.TERMINATED):
        operations.terminate(session, actor=messages.SYSTEM, instance_id=instance.id,
                             reason=f"mobility {mobility.id} withdrawn by user {actor.user_id}: {reason.strip()}")
    audit.record(session, actor_id=actor.user_id, action="mobility.withdrawn", mobility_id=mobility.id,
                 instance_id=instance.id if instance is not None else None, reason=reason.strip())
    return mobility


def status_history(session: Session, mobility: Mobility) -> list[MobilityStatusChange]:
    return list(session.scalars(select(MobilityStatusChange).where(MobilityStatusChange.mobility_id == mobility.id)
                                .order_by(MobilityStatusChange.id)))




def visible_mobility_ids(session: Session, actor: Actor, learner_id: int) -> list[int]:
    """The learner's mobilities the caller is a party of (all for admins, the learner and guardian)."""
    mobilities = list(session.scalars(select(Mobility).where(Mobility.learner_id == learner_id)
                                      .order_by(Mobility.id)))
    return [m.id for m in mobilities if is_party(actor, m)]


def learner_ids_of(session: Session, actor: Actor) -> list[int]:
    """The learners the caller signs for personally (as the learner, or as the parent or guardian of a minor)
    who have a mobility: the achievements the caller may open as their own."""
    return list(session.scalars(select(Learner.id).where(
        guardians.acts_for(actor.user_id),
        select(Mobility.id).where(Mobility.learner_id == Learner.id).exists()).order_by(Learner.id)))


def get_learner(session: Session, *, actor: Actor, learner_id: int) -> Learner:
    """The learner, for the parties of one of their mobilities and admins; 404 for anyone else."""
    learner = session.get(Learner, learner_id)
    if learner is None or not (actor.is_admin or visible_mobility_ids(session, actor, learner_id)):
        raise NotFound(f"No learner {learner_id}")
    return learner

