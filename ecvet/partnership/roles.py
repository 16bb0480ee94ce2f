"""Role maps: for each ECVET function and each country of a partnership, which organisation holds it.

The same function sits with a VET school in one country and with a ministry, chamber or awarding
body in another (the seeds' "national partners" note), so the partners write down who does what
before they draft the MoU. The map belongs to the partnership: it does **not** write
:class:`~ecvet.national_models.models.OrganisationCompetence`, the platform's registry of competent institutions
that administrators keep and that routes approvals (``ecvet.national_models.service.register_competence``).
Instead, every entry that names a registered organisation says whether the registry agrees
(``registered``), so a mismatch (the map says the chamber approves MoUs, the registry does not know
it) is visible before the MoU is submitted. A new mapping is a new :class:`~ecvet.partnership.models.RoleMap`;
the newest is current, earlier ones stay as history.
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ecvet.national_models.models import CompetenceFunction
from ecvet.partnership import service
from ecvet.partnership.models import Partnership, PartnershipSide, RoleMap, RoleMapEntry
from engine import audit
from engine.errors import Forbidden, Invalid
from engine.models import Organisation
from engine.parties import Actor

NAME_MAX = 300  # an organisation named in words (one not on the platform)


def _holder(value: Any, path: str, errors: dict[str, list[str]], session: Session) -> dict[str, Any] | None:
    if not isinstance(value, dict):
        errors[path] = ["Say which organisation holds this function (organisation_id or organisation_name)"]
        return None
    org_id = value.get("organisation_id")
    name = (value.get("organisation_name") or "").strip() or None
    notes = (value.get("notes") or "").strip() or None
    if org_id is not None:
        if isinstance(org_id, bool) or not isinstance(org_id, int) or session.get(Organisation, org_id) is None:
            errors[f"{path}.organisation_id"] = [f"No organisation {org_id}"]
            return None
    elif name is None:
        errors[path] = ["Say which organisation holds this function (organisation_id or organisation_name)"]
        return None
    if name is not None and len(name) > NAME_MAX:
        errors[f"{path}.organisation_name"] = ["At most 300 characters"]
        return None
    return {"organisation_id": org_id, "organisation_name": name, "notes": notes}


def save(
    session: Session,
    *,
    actor: Actor,
    partnership: Partnership,
    functions: Any,
    notes: str | None = None,
) -> RoleMap:
    """Store the partnership's role map: every function, for the home and the host country.

    ``functions`` is ``{function: {"home": holder, "host": holder}}`` where a holder is
    ``{"organisation_id": n}`` (a registered organisation) and/or ``{"organisation_name": "..."}``
    (one that is not on the platform), with optional ``notes``. The sending organisation maps the
    roles (it structures the national partnership, says the seeds' note)."""
    if not (actor.is_admin or partnership.sending_organisation_id in actor.organisation_ids):
        raise Forbidden("The sending organisation maps the roles of its partnership")
    if not isinstance(functions, dict):
        raise Invalid("The role map must be an object per function", errors={"ecvet_roles": ["Not an object"]})
    home, host = service.countries(session, partnership)
    errors: dict[str, list[str]] = {}
    for name in functions:
        if name not in CompetenceFunction.ALL:
            errors[f"ecvet_roles.{name}"] = [f"Not an ECVET function; one of {', '.join(CompetenceFunction.ALL)}"]
    rows: list[RoleMapEntry] = []
    for function in CompetenceFunction.ALL:
        sides = functions.get(function)
        if not isinstance(sides, dict):
            errors[f"ecvet_roles.{function}"] = ["Say who holds it in the home and in the host country"]
            continue
        for side, country in ((PartnershipSide.HOME, home), (PartnershipSide.HOST, host)):
            holder = _holder(sides.get(side), f"ecvet_roles.{function}.{side}", errors, session)
            if holder is not None:
                rows.append(RoleMapEntry(function=function, side=side, country=country, **holder))
    if errors:
        raise Invalid("The role map is not complete", errors=errors)
    role_map = RoleMap(partnership_id=partnership.id, notes=(notes or "").strip() or None, created_by=actor.user_id,
                       entries=rows)
    session.add(role_map)
    session.flush()
    audit.record(session, actor_id=actor.user_id, action="role_map.saved", instance_id=partnership.instance_id,
                 partnership_id=partnership.id, role_map_id=role_map.id,
                 entries=[[e.function, e.side, e.country, e.organisation_id, e.organisation_name] for e in rows])
    return role_map


def current(session: Session, partnership_id: int) -> RoleMap | None:
    return session.scalar(select(RoleMap).where(RoleMap.partnership_id == partnership_id)
                          .order_by(RoleMap.id.desc()).limit(1))


def get_current(session: Session, *, actor: Actor, partnership_id: int) -> RoleMap | None:
    """The partnership's current role map (parties and admins; 404 for anyone else)."""
    partnership = service.get(session, actor=actor, partnership_id=partnership_id)
    return current(session, partnership.id)
