"""Partnerships: the record that ties one Partnership process instance to its profiles, role map and MoU.

A partnership is opened by the first record action of its process instance (:func:`for_instance`),
from the organisations bound to the instance's ``sending`` and ``hosting`` roles. Its parties are
those two partners, every organisation bound to a role of the instance (the competent institutions
read the profiles before they approve), and the parties of its MoU. Parties and administrators read
everything of it; to anyone else it does not exist (404).
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import exists, or_, select
from sqlalchemy.orm import Session

from ecvet.national_models.models import CompetenceFunction
from ecvet.national_models.service import FILENAME, NationalModel, decide, list_competences
from ecvet.partnership import mou
from ecvet.partnership.models import Mou, Partnership
from engine import audit, deployments, instances
from engine.errors import Conflict, Invalid, NotFound
from engine.models import InstanceParty, Organisation, ProcessDefinition, ProcessInstance
from engine.pagination import Page, paginate
from engine.parties import Actor


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
    formalised_by = session.get(Mou, partnership.mou_id) if partnership.mou_id is not None else None
    if formalised_by is not None:
        ids |= mou.party_ids(session, formalised_by)
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


def regions(session: Session, partnership: Partnership) -> tuple[str | None, str | None]:
    """(home, host): the registered regions of the sending and the hosting organisation, if known."""
    home = session.get(Organisation, partnership.sending_organisation_id)
    host = session.get(Organisation, partnership.hosting_organisation_id)
    return (home.region if home else None), (host.region if host else None)


def countries(session: Session, partnership: Partnership) -> tuple[str, str]:
    """(home, host): the registered countries of the sending and the hosting organisation."""
    home = session.get(Organisation, partnership.sending_organisation_id)
    host = session.get(Organisation, partnership.hosting_organisation_id)
    assert home is not None
    assert host is not None
    return home.country, host.country


# --------------------------------------------------------------------------------------------------
# Starting a partnership: the Partnership process with its four parties
# --------------------------------------------------------------------------------------------------

PROCESS_KEY = "partnership"
BUSINESS_KEY_MAX = 255
PARTNER_ROLES = ("sending", "hosting")
SIDES = {"home": "competent-institution-home", "host": "competent-institution-host"}


@dataclass(frozen=True)
class InstitutionChoice:
    """An organisation that may stand in a country's competent-institution lane: one registered as a
    competent institution of that country (for `functions`), or the partner itself (no functions:
    where the national model names no institution, the school or host holds the function)."""

    organisation: Organisation
    functions: tuple[str, ...]


@dataclass(frozen=True)
class Gate:
    """One country of a partnership to start: what its national model asks for the MoU, who may stand in
    its competent-institution lane, and the sensible default (None when the caller must choose)."""

    side: str
    role: str
    country: str
    partner: Organisation
    model: NationalModel
    choices: list[InstitutionChoice]
    default_id: int | None

    @property
    def needs_approval(self) -> bool:
        return self.model.mou_approval != "none"

    def approvers(self) -> list[InstitutionChoice]:
        return [c for c in self.choices if CompetenceFunction.MOU_APPROVAL in c.functions]


@dataclass(frozen=True)
class StartPlan:
    sending: Organisation
    hosting: Organisation
    gates: dict[str, Gate]


def _organisation(session: Session, org_id: Any, field: str, errors: dict[str, list[str]]) -> Organisation | None:
    if isinstance(org_id, bool) or not isinstance(org_id, int):
        errors[field] = ["Choose an organisation"]
        return None
    org = session.get(Organisation, org_id)
    if org is None:
        errors[field] = [f"No organisation {org_id}"]
    return org


def _gate(session: Session, actor: Actor, side: str, partner: Organisation, *, table: bytes,
          same_country: bool) -> Gate:
    model = decide(partner.country, None, None, region=partner.region, session=session, dmn_bytes=table)
    if same_country:
        # Partners in one country share one competent institution: the home lane asks it (as the process does).
        model = replace(model, mou_approval="none", mou_approval_days=0)
    functions: dict[int, list[str]] = {}
    # The institutions of the partner's region and the country-wide ones, never another region's.
    for competence in list_competences(session, actor=actor, country=partner.country):
        if competence.region in (None, partner.region) and competence.function not in functions.get(
                competence.organisation_id, []):
            functions.setdefault(competence.organisation_id, []).append(competence.function)
    registered = {o.id: o for o in session.scalars(select(Organisation).where(Organisation.id.in_(functions or [-1])))}
    choices = [InstitutionChoice(partner, tuple(functions.get(partner.id, ())))] + [
        InstitutionChoice(registered[i], tuple(f)) for i, f in functions.items() if i != partner.id and i in registered]
    approvers = [c.organisation.id for c in choices if CompetenceFunction.MOU_APPROVAL in c.functions]
    if model.mou_approval == "none":
        default: int | None = partner.id
    else:
        default = approvers[0] if len(approvers) == 1 else None
    return Gate(side, SIDES[side], partner.country, partner, model, choices, default)


def start_plan(session: Session, *, actor: Actor, sending_organisation_id: Any, hosting_organisation_id: Any
               ) -> StartPlan:
    """Who would take part in a partnership between these two organisations: per country, the national
    model's MoU approval, the organisations that may stand as its competent institution (the registry's,
    or the partner itself) and the default. 422 unless the caller sends for `sending` (admins: anyone)
    and the partner is another organisation; 409 when the Partnership process is not deployed."""
    errors: dict[str, list[str]] = {}
    sending = _organisation(session, sending_organisation_id, "sending_organisation_id", errors)
    hosting = _organisation(session, hosting_organisation_id, "hosting_organisation_id", errors)
    if sending is not None and not (actor.is_admin or sending.id in actor.organisation_ids):
        errors["sending_organisation_id"] = ["Not one of your organisations: you start partnerships for your own"]
    if sending is not None and hosting is not None and sending.id == hosting.id:
        errors["hosting_organisation_id"] = ["The partner is another organisation than the sending one"]
    if errors:
        raise Invalid("The partnership cannot start like this", errors=errors)
    assert sending is not None
    assert hosting is not None
    try:
        definition = deployments.get_definition(session, key=PROCESS_KEY)
    except NotFound as exc:
        raise Conflict("The Partnership process is not deployed; an administrator deploys processes/") from exc
    return _plan(session, actor, sending, hosting, definition)


def _plan(session: Session, actor: Actor, sending: Organisation, hosting: Organisation,
          definition: ProcessDefinition) -> StartPlan:
    """The gates of both countries, decided with the national models table this process version carries."""
    table = deployments.definition_file(session, definition, FILENAME)
    same = sending.country == hosting.country
    return StartPlan(sending, hosting, {
        "home": _gate(session, actor, "home", sending, table=table, same_country=False),
        "host": _gate(session, actor, "host", hosting, table=table, same_country=same),
    })


def _institution_errors(plan: StartPlan, chosen: dict[str, int | None], field: str) -> tuple[dict[str, int],
                                                                                          dict[str, list[str]]]:
    """Bind each country's competent-institution lane to the chosen organisation (default: the gate's),
    or say why not: where the national model requires MoU approval, only an institution registered for
    it may stand there, since only the organisation bound there is asked. ``field`` names the error key
    from the side (``home``/``host``) and the lane's role."""
    errors: dict[str, list[str]] = {}
    bound: dict[str, int] = {}
    for side, gate in plan.gates.items():
        name = field.format(side=side, role=gate.role)
        org_id = chosen.get(side, None)
        org_id = org_id if org_id is not None else gate.default_id
        allowed = {c.organisation.id for c in (gate.approvers() if gate.needs_approval else gate.choices)}
        if gate.needs_approval and not allowed:
            errors[name] = [f"The national model of {gate.country} ({gate.model.model}) requires MoU approval by a "
                            f"competent institution, but none is registered for {gate.country}: an administrator "
                            "registers it first"]
        elif org_id is None:
            errors[name] = [f"Several institutions approve MoUs in {gate.country}: choose one"]
        elif org_id not in allowed:
            errors[name] = [f"Not an organisation that may stand for {gate.country} here: choose one of "
                            f"{', '.join(c.organisation.name for c in gate.choices if c.organisation.id in allowed)}"]
        else:
            bound[gate.role] = org_id
    return bound, errors


def start(
    session: Session,
    *,
    actor: Actor,
    sending_organisation_id: Any,
    hosting_organisation_id: Any,
    competent_institution_home_id: int | None = None,
    competent_institution_host_id: int | None = None,
    business_key: str | None = None,
) -> ProcessInstance:
    """Start the Partnership process: the caller's organisation sends, the partner hosts, and each
    country's competent-institution lane is bound to the chosen organisation (default: see
    :func:`start_plan`). Where the national model requires MoU approval, the lane must be an institution
    registered for it, since only the organisation bound there is asked; 422 with errors per field."""
    plan = start_plan(session, actor=actor, sending_organisation_id=sending_organisation_id,
                      hosting_organisation_id=hosting_organisation_id)
    bound, errors = _institution_errors(plan, {"home": competent_institution_home_id,
                                               "host": competent_institution_host_id},
                                        "competent_institution_{side}_id")
    key = (business_key or "").strip() or None
    if key is not None and len(key) > BUSINESS_KEY_MAX:
        errors["business_key"] = ["At most 255 characters"]
    if errors:
        raise Invalid("The partnership cannot start like this", errors=errors)
    return instances.start(session, actor=actor, process_key=PROCESS_KEY, business_key=key, parties={
        "sending": plan.sending.id, "hosting": plan.hosting.id, **bound})


@instances.start_check("partnership.partners")
def _partners(session: Session, request: instances.StartRequest) -> None:
    """Every start of the Partnership process (``startCheck`` in processes/partnership.bpmn), whatever
    the path (this module's :func:`start`, ``POST /api/process-instances``, the pages), binds what
    :func:`start` would: two different organisations as partners and, in each country's
    competent-institution lane, an organisation the national model and the registry allow there, so no
    organisation is drawn into a partnership's approvals that may not act for it. The process starts
    without variables: its records come from its tasks."""
    errors: dict[str, list[str]] = {}
    partners: dict[str, Organisation] = {}
    for role in PARTNER_ROLES:
        bound = request.parties.get(role)
        org = session.get(Organisation, bound.organisation_id) if bound and bound.organisation_id else None
        if org is None:
            errors[f"parties.{role}"] = ["An organisation: the partnership is between two organisations"]
        else:
            partners[role] = org
    if len(partners) == len(PARTNER_ROLES) and partners["sending"].id == partners["hosting"].id:
        errors["parties.hosting"] = ["The partner is another organisation than the sending one"]
    if request.variables:
        errors["variables"] = ["The Partnership process starts without variables: its records come from its tasks"]
    if errors:
        raise Invalid("The partnership cannot start like this", errors=errors)
    plan = _plan(session, request.actor, partners["sending"], partners["hosting"], request.definition)
    chosen = {side: (request.parties[gate.role].organisation_id if gate.role in request.parties else None)
              for side, gate in plan.gates.items()}
    for side, gate in plan.gates.items():
        if chosen[side] is None:
            errors[f"parties.{gate.role}"] = ["An organisation: a competent institution or the partner itself"]
    _, more = _institution_errors(plan, chosen, "parties.{role}")
    errors.update(more)
    if errors:
        raise Invalid("The partnership cannot start like this", errors=errors)
