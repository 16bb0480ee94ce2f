"""Partnerships: the record that ties one Partnership process instance to its profiles, role map and MoU.

A partnership is opened by the first record action of its process instance (:func:`for_instance`),
from the organisations bound to the instance's ``sending`` and ``hosting`` roles. Its parties are
those two partners, every organisation bound to a role of the instance (the competent institutions
read the profiles before they approve), and the parties of its MoU. Parties and administrators read
everything of it; to anyone else it does not exist (404).
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import exists, or_, select
from sqlalchemy.orm import Session

from engine import audit
from engine.errors import Invalid, NotFound
from engine.models import InstanceParty, Organisation, ProcessInstance
from engine.pagination import Page, paginate
from engine.parties import Actor

from . import mou as mous
from .models import Mou, Partnership


def for_instance(session: Session, *, actor: Actor | None, instance: ProcessInstance) -> Partnership:
    """The partnership run by this process instance, opened on first use (same unit of work)."""
    partnership = session.scalar(select(Partnership).where(Partnership.instance_id == instance.id))
    if partnership is not None:
        return partnership
    bound = {p.role: p.organisation_id for p in instance.parties}
    errors = {f"parties.{role}": ["The partnership needs an organisation in this role"]
              for role in ("sending", "hosting") if not isinstance(bound.get(role), int)}
    if errors:
        raise Invalid("This process instance does not bind a sending and a hosting organisation", errors=errors)
    if bound["sending"] == bound["hosting"]:
        raise Invalid("A partnership needs two different organisations",
                      errors={"parties.hosting": ["The same organisation as the sending one"]})
    partnership = Partnership(instance_id=instance.id, sending_organisation_id=bound["sending"],
                              hosting_organisation_id=bound["hosting"],
                              created_by=actor.user_id if actor else None)
    session.add(partnership)
    session.flush()
    audit.record(session, actor_id=actor.user_id if actor else None, action="partnership.opened",
                 instance_id=instance.id, partnership_id=partnership.id,
                 sending_organisation_id=partnership.sending_organisation_id,
                 hosting_organisation_id=partnership.hosting_organisation_id)
    return partnership


def party_ids(session: Session, partnership: Partnership) -> set[int]:
    """Organisations that may read the partnership's records."""
    ids = {partnership.sending_organisation_id, partnership.hosting_organisation_id}
    if partnership.instance_id is not None:
        ids.update(i for i in session.scalars(select(InstanceParty.organisation_id).where(
            InstanceParty.instance_id == partnership.instance_id)) if i is not None)
    if partnership.mou_id is not None:
        mou = session.get(Mou, partnership.mou_id)
        if mou is not None:
            ids |= mous.party_ids(session, mou)
    return ids


def is_party(session: Session, actor: Actor, partnership: Partnership) -> bool:
    return actor.is_admin or bool(party_ids(session, partnership) & actor.organisation_ids)


def get(session: Session, *, actor: Actor, partnership_id: int) -> Partnership:
    """The partnership, for its parties and administrators; 404 for anyone else."""
    partnership = session.get(Partnership, partnership_id)
    if partnership is None or not is_party(session, actor, partnership):
        raise NotFound(f"No partnership {partnership_id}")
    return partnership


def of_mou(session: Session, mou_id: int) -> Partnership | None:
    return session.scalar(select(Partnership).where(Partnership.mou_id == mou_id))


def attach_mou(session: Session, partnership: Partnership, mou_id: int, *, actor: Actor) -> None:
    """Record which MoU formalises the partnership (once; a partnership has one MoU with versions)."""
    if partnership.mou_id == mou_id:
        return
    if partnership.mou_id is not None:
        raise Invalid("This partnership already has its MoU; revise it instead of drafting another",
                      errors={"mou_id": [f"The partnership's MoU is {partnership.mou_id}"]})
    partnership.mou_id = mou_id
    session.flush()
    audit.record(session, actor_id=actor.user_id, action="partnership.mou_attached",
                 instance_id=partnership.instance_id, partnership_id=partnership.id, mou_id=mou_id)


def list_for(session: Session, *, actor: Actor, cursor: str | None = None, limit: int = 50) -> Page[Partnership]:
    """Partnerships the caller is a party of (administrators: all), oldest first."""
    stmt = select(Partnership)
    if not actor.is_admin:
        orgs = actor.organisation_ids or frozenset({-1})
        bound = exists().where(InstanceParty.instance_id == Partnership.instance_id,
                               InstanceParty.organisation_id.in_(orgs))
        stmt = stmt.where(or_(Partnership.sending_organisation_id.in_(orgs),
                              Partnership.hosting_organisation_id.in_(orgs), bound))
    return paginate(session, stmt, [Partnership.id], cursor=cursor, limit=limit)


def countries(session: Session, partnership: Partnership) -> tuple[str, str]:
    """(home, host): the registered countries of the sending and the hosting organisation."""
    home = session.get(Organisation, partnership.sending_organisation_id)
    host = session.get(Organisation, partnership.hosting_organisation_id)
    assert home is not None and host is not None
    return home.country, host.country


def detail(session: Session, *, actor: Actor, partnership_id: int) -> dict[str, Any]:
    """The partnership with its current profiles, role map and MoU summary (parties and admins)."""
    from . import profiles, roles

    partnership = get(session, actor=actor, partnership_id=partnership_id)
    home, host = countries(session, partnership)
    current = [profiles.describe(session, p) for p in profiles.current_profiles(session, partnership)]
    role_map = roles.current(session, partnership.id)
    mou_summary = None
    if partnership.mou_id is not None:
        mou = session.get(Mou, partnership.mou_id)
        assert mou is not None
        version = mous.current_version(mou)
        mou_summary = {"id": mou.id, "status": mou.status, "version": version.number,
                       "content_hash": version.content_hash, "valid_until": version.content.get("valid_until")}
    return {
        "id": partnership.id,
        "instance_id": partnership.instance_id,
        "sending_organisation_id": partnership.sending_organisation_id,
        "hosting_organisation_id": partnership.hosting_organisation_id,
        "home_country": home,
        "host_country": host,
        "parties": sorted(party_ids(session, partnership)),
        "created_at": partnership.created_at,
        "profiles": current,
        "role_map": roles.describe(session, role_map) if role_map is not None else None,
        "mou": mou_summary,
    }
