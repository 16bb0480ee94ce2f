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

from ecvet import signing
from ecvet.national_models.models import CompetenceFunction
from ecvet.national_models.service import institutions_for
from ecvet.partnership import service
from ecvet.partnership.models import (
    Partnership,
    PartnershipSide,
    RoleMap,
    RoleMapConfirmation,
    RoleMapEntry,
    RoleMapFunction,
)
from engine import audit
from engine.errors import Conflict, Forbidden, Invalid, NotFound
from engine.models import Organisation
from engine.parties import Actor

NAME_MAX = 300  # an organisation named in words (one not on the platform)
TEXT_MAX = 10_000


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
        if name not in RoleMapFunction.ALL:
            errors[f"ecvet_roles.{name}"] = [f"Not an ECVET function; one of {', '.join(RoleMapFunction.ALL)}"]
    rows: list[RoleMapEntry] = []
    for function in RoleMapFunction.ALL:
        sides = functions.get(function)
        if sides is None and function in RoleMapFunction.OPTIONAL:
            continue  # who defines outcomes and designs units: said where the partners know it
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


# --------------------------------------------------------------------------------------------------
# Confirmations: every partner and competent institution confirms the map, within its jurisdiction
# --------------------------------------------------------------------------------------------------


def confirmations(session: Session, role_map: RoleMap) -> list[RoleMapConfirmation]:
    return list(session.scalars(select(RoleMapConfirmation).where(RoleMapConfirmation.role_map_id == role_map.id)
                                .order_by(RoleMapConfirmation.id)))


def confirming_parties(session: Session, partnership: Partnership) -> list[int]:
    """Who confirms the role map: every party of the partnership (the partners, those its MoU adds, and
    the competent institutions bound to it or its MoU requires), in id order."""
    return sorted(service.party_ids(session, partnership))


def _text(value: Any, field: str, errors: dict[str, list[str]], *, required: bool) -> str | None:
    if value is not None and not isinstance(value, str):
        errors[field] = ["Text"]
        return None
    text = (value or "").strip() or None
    if required and text is None:
        errors[field] = ["Say what of this role map lies within your organisation's jurisdiction"]
    elif text is not None and len(text) > TEXT_MAX:
        errors[field] = [f"At most {TEXT_MAX} characters"]
    return text


def confirm(
    session: Session,
    *,
    actor: Actor,
    partnership_id: int,
    role_map_id: int,
    jurisdiction: Any,
    beyond: Any = None,
    organisation_id: int | None = None,
    signer: Any = None,
) -> RoleMapConfirmation:
    """The signed-in member confirms the current role map for their organisation, a party of the
    partnership: what lies within its jurisdiction and what beyond it. 404 for a non-party, 409 when the
    quoted map is not the current one (the map changed: read it again) or the organisation confirmed it
    already, 422 for a missing statement or an organisation the caller may not speak for."""
    partnership = service.get(session, actor=actor, partnership_id=partnership_id)
    role_map = current(session, partnership.id)
    if role_map is None:
        raise NotFound(f"Partnership {partnership_id} has no role map yet")
    if role_map_id != role_map.id:
        raise Conflict("The role map changed since you read it: read the current one and confirm that",
                       errors={"role_map_id": [f"The current role map is {role_map.id}"]})
    parties = confirming_parties(session, partnership)
    mine = [i for i in parties if i in actor.organisation_ids and (organisation_id is None or i == organisation_id)]
    if not mine:
        raise Forbidden("Only members of a partner or a competent institution of this partnership confirm its "
                        "role map")
    if len(mine) > 1:
        raise Invalid("You belong to several parties of this partnership: say for which you confirm",
                      errors={"organisation_id": [f"One of {mine}"]})
    errors: dict[str, list[str]] = {}
    within = _text(jurisdiction, "jurisdiction", errors, required=True)
    outside = _text(beyond, "beyond", errors, required=False)
    if errors:
        raise Invalid("The confirmation is not complete", errors=errors)
    assert within is not None
    if session.scalar(select(RoleMapConfirmation.id).where(RoleMapConfirmation.role_map_id == role_map.id,
                                                           RoleMapConfirmation.organisation_id == mine[0])):
        raise Conflict("Your organisation has confirmed this role map already")
    signed = signing.for_organisation(session, actor=actor, organisation_id=mine[0], submitted=signer)
    row = RoleMapConfirmation(role_map_id=role_map.id, organisation_id=mine[0], jurisdiction=within,
                              beyond=outside, signed_at=signed.signed_at, **signed.columns())
    session.add(row)
    session.flush()
    audit.record(session, actor_id=actor.user_id, action="role_map.confirmed", instance_id=partnership.instance_id,
                 partnership_id=partnership.id, role_map_id=role_map.id, organisation_id=mine[0],
                 confirmation_id=row.id, jurisdiction=within, beyond=outside, signer_user_id=row.signer_user_id)
    return row


# --------------------------------------------------------------------------------------------------
# Routing: the MoU draft takes who does what from the role map where the sender left it open
# --------------------------------------------------------------------------------------------------

#: Which arrangement of the MoU template each ECVET function of the role map fills, and in which country.
ARRANGEMENT_FUNCTIONS = {
    "assessment": (CompetenceFunction.ASSESSMENT, PartnershipSide.HOST),
    "documentation": (CompetenceFunction.ASSESSMENT, PartnershipSide.HOST),
    "validation": (CompetenceFunction.VALIDATION, PartnershipSide.HOME),
    "recognition": (CompetenceFunction.RECOGNITION, PartnershipSide.HOME),
}


def route_mou(session: Session, partnership: Partnership, content: dict[str, Any]) -> dict[str, Any]:
    """The MoU text with what the current role map says filled in where the sender left it open: who
    assesses, documents, validates and recognises (``arrangements.*.organisation_ids``) and, when no
    competent institution is named, the registered organisations the map gives MoU approval to in each
    country (so the approval goes to them, not to another institution registered for the same place).
    What the sender wrote stays as written; the result is what the partners approve (its hash)."""
    role_map = current(session, partnership.id)
    if role_map is None:
        return content
    holders = {(e.function, e.side): e.organisation_id for e in role_map.entries if e.organisation_id is not None}
    routed = dict(content)
    arrangements = dict(routed.get("arrangements") or {})
    for name, (function, side) in ARRANGEMENT_FUNCTIONS.items():
        entry = dict(arrangements.get(name) or {})
        holder = holders.get((function, side))
        if holder is not None and not entry.get("organisation_ids"):
            entry["organisation_ids"] = [holder]
            arrangements[name] = entry
    if arrangements:
        routed["arrangements"] = arrangements
    if "competent_institutions" not in routed:
        named = _registered_approvers(session, partnership, holders, routed.get("sector") or None)
        if named:
            routed["competent_institutions"] = [{"organisation_id": i} for i in named]
    return routed


def _registered_approvers(session: Session, partnership: Partnership, holders: dict[tuple[str, str], int],
                          sector: str | None) -> list[int]:
    """The role map's MoU-approval holders that the registry knows as such for their partner's country
    and region: the map chooses among registered institutions, it never makes one."""
    found: list[int] = []
    countries, regions = service.countries(session, partnership), service.regions(session, partnership)
    places = zip(PartnershipSide.COUNTRIES, countries, regions, strict=True)
    for side, country, region in places:
        holder = holders.get((CompetenceFunction.MOU_APPROVAL, side))
        if holder is not None and holder not in found and holder in institutions_for(
                session, country=country, function=CompetenceFunction.MOU_APPROVAL, region=region, sector=sector):
            found.append(holder)
    return found


# --------------------------------------------------------------------------------------------------
# The confirmed map routes the mobilities under the partnership's MoU; the inbox lists maps to confirm
# --------------------------------------------------------------------------------------------------


def confirmed_holders(session: Session, mou_id: int) -> dict[tuple[str, str], int]:
    """``{(function, side): organisation id}`` from the current role map of the partnership the MoU
    formalises, once every party has confirmed it (an unconfirmed map routes nothing); only entries
    naming a registered organisation."""
    partnership = service.of_mou(session, mou_id)
    role_map = current(session, partnership.id) if partnership is not None else None
    if partnership is None or role_map is None:
        return {}
    done = {c.organisation_id for c in confirmations(session, role_map)}
    if not set(confirming_parties(session, partnership)) <= done:
        return {}
    return {(e.function, e.side): e.organisation_id for e in role_map.entries if e.organisation_id is not None}


def to_confirm(session: Session, *, actor: Actor) -> list[dict[str, Any]]:
    """The current role maps the caller's organisations are parties to and have not confirmed yet, one row
    per partnership and organisation (the inbox shows them as "role map to confirm")."""
    if not actor.organisation_ids:
        return []
    rows: list[dict[str, Any]] = []
    maps = session.scalars(select(RoleMap).order_by(RoleMap.partnership_id, RoleMap.id.desc()))
    latest: dict[int, RoleMap] = {}
    for role_map in maps:
        latest.setdefault(role_map.partnership_id, role_map)
    for partnership_id, role_map in latest.items():
        partnership = session.get(Partnership, partnership_id)
        if partnership is None:
            continue
        mine = set(confirming_parties(session, partnership)) & actor.organisation_ids
        done = {c.organisation_id for c in confirmations(session, role_map)}
        for org_id in sorted(mine - done):
            organisation = session.get(Organisation, org_id)
            rows.append({"partnership_id": partnership_id, "role_map_id": role_map.id, "organisation_id": org_id,
                         "organisation_name": organisation.name if organisation else str(org_id)})
    return rows


def for_mou(session: Session, *, actor: Actor, mou_id: int) -> Partnership:
    """The partnership a MoU formalises, for its parties (404 for anyone else, or a MoU of none)."""
    partnership = service.of_mou(session, mou_id)
    if partnership is None:
        raise NotFound(f"MoU {mou_id} formalises no partnership with a role map")
    return service.get(session, actor=actor, partnership_id=partnership.id)


def mine_to_confirm(session: Session, *, actor: Actor, partnership: Partnership, role_map: RoleMap) -> list[int]:
    """The caller's organisations that confirm this map and have not yet (the page's forms)."""
    done = {c.organisation_id for c in confirmations(session, role_map)}
    return [i for i in confirming_parties(session, partnership) if i in actor.organisation_ids and i not in done]


def organisation_names(session: Session, ids: set[int]) -> dict[int, str]:
    rows = session.execute(select(Organisation.id, Organisation.name).where(Organisation.id.in_(ids or {-1})))
    return {org_id: name for org_id, name in rows}
