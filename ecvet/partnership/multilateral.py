"""A MoU with any number of partners and competent institutions: who gets which task in the approval round.

The Partnership process keeps its lanes for the sending and the hosting organisation and for the
competent institutions of their two countries. Everyone else whose approval a MoU version needs gets
a task of its own in one of two further lanes of ``mou_approval_round``: *Signing partners* (every
signing organisation besides the sending and the hosting one) and *Competent institutions* (those of a
third partner country, and any further institution the MoU names). Each is one multi-instance task over
a list this module builds when the sending organisation submits; each item names the party it belongs
to (``signing-partners:<organisation id>``), bound to the instance here with
:func:`engine.instances.bind_party`, so the task lands in that organisation's inbox alone.

Every signing organisation says its role under the MoU: ``sending``, ``hosting`` or ``both``.
"""
from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from ecvet.partnership.approvers import Plan, Requirement, signing_ids
from ecvet.partnership.models import ApprovalMode, ApprovalRole, Partnership
from engine import instances
from engine.errors import Invalid
from engine.models import ProcessInstance

PARTNER_LANE_ROLE = "signing-partners"
INSTITUTION_LANE_ROLE = "competent-institutions"

#: What a signing organisation does under the MoU.
PARTNER_ROLES = ("sending", "hosting", "both")
BILATERAL = 2
_MUST_BE = {"sending": ("sending", "both"), "hosting": ("hosting", "both")}


def check_partners(partnership: Partnership, content: dict[str, Any]) -> None:
    """The partnership's sending and hosting organisations sign, and so may any number of others, each
    with its role (:func:`check_roles`). 422 with errors per field otherwise."""
    errors: dict[str, list[str]] = {}
    signing = signing_ids(content)
    missing = [i for i in (partnership.sending_organisation_id, partnership.hosting_organisation_id)
               if i not in signing]
    if missing:
        errors["signing_organisations"] = [
            f"The sending and the hosting organisation of this partnership sign its MoU: organisation "
            f"{', '.join(str(i) for i in missing)} is missing"]
    errors.update(_role_errors(partnership, content))
    if errors:
        raise Invalid("The MoU's signing organisations do not fit this partnership", errors=errors)


def check_roles(partnership: Partnership, content: dict[str, Any]) -> None:
    """In a MoU of more than two partners every signing organisation says its role (sending, hosting or
    both), and the partnership's sending and hosting organisations one that fits them (checked on every
    draft, so the sender fixes it while writing). 422 with errors per field otherwise."""
    errors = _role_errors(partnership, content)
    if errors:
        raise Invalid("Say what each signing organisation does under the MoU", errors=errors)


def _role_errors(partnership: Partnership, content: dict[str, Any]) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    multilateral = len(signing_ids(content)) > BILATERAL
    own = {partnership.sending_organisation_id: "sending", partnership.hosting_organisation_id: "hosting"}
    for i, org in enumerate(content.get("signing_organisations") or []):
        role = org.get("role")
        if role is None and not multilateral:
            continue
        if role not in PARTNER_ROLES:
            if multilateral:
                errors[f"signing_organisations.{i}.role"] = [f"One of {', '.join(PARTNER_ROLES)}"]
            continue
        side = own.get(org.get("organisation_id"))
        if side is not None and role not in _MUST_BE[side]:
            errors[f"signing_organisations.{i}.role"] = [
                f"This is the partnership's {side} organisation: {' or '.join(_MUST_BE[side])}"]
    return errors


def _covered_by_lanes(plan: Plan, requirement: Requirement, home: str, host: str) -> bool:
    """A competent institution a national model requires for the home or the host country is asked in
    that country's own lane (the Partnership process checks at submission that it is the one bound
    there); one the MoU only names gets a task of its own."""
    return requirement not in plan.named_only and plan.countries.get(requirement) in (home, host)


def approvers(session: Session, *, actor_id: int | None, instance: ProcessInstance, partnership: Partnership,
              plan: Plan, countries: tuple[str, str]) -> dict[str, list[dict[str, Any]]]:
    """Bind every further signing partner and competent institution to the instance and return the
    collections the round's multi-instance tasks run over (``mou_other_partners``,
    ``mou_other_institutions``); empty lists for a MoU of two partners and their two institutions."""
    home, host = countries
    partners: list[dict[str, Any]] = []
    institutions: list[dict[str, Any]] = []
    own = {partnership.sending_organisation_id, partnership.hosting_organisation_id}
    for requirement in plan.requirements:
        org_id = requirement.organisation_id
        if requirement.role == ApprovalRole.PARTNER:
            if org_id in own:
                continue
            party = instances.bind_party(session, actor_id=actor_id, instance=instance, role=PARTNER_LANE_ROLE,
                                         key=str(org_id), organisation_id=org_id)
            partners.append({"party": party, "organisation_id": org_id})
            continue
        if _covered_by_lanes(plan, requirement, home, host):
            continue
        mode, days = plan.modes[requirement]
        party = instances.bind_party(session, actor_id=actor_id, instance=instance, role=INSTITUTION_LANE_ROLE,
                                     key=str(org_id), organisation_id=org_id)
        institutions.append({"party": party, "organisation_id": org_id, "country": plan.countries.get(requirement),
                             "mode": ApprovalMode.IMPLICIT if mode == ApprovalMode.IMPLICIT else ApprovalMode.EXPLICIT,
                             "days": int(days)})
    return {"mou_other_partners": partners, "mou_other_institutions": institutions}


def role_of(content: dict[str, Any], organisation_id: int | None) -> str | None:
    """What a signing organisation does under the MoU (sending, hosting, both), or None where the MoU
    does not say (a bilateral MoU without roles: its two partners do what the partnership says)."""
    for org in content.get("signing_organisations") or []:
        if org.get("organisation_id") == organisation_id and org.get("role") in PARTNER_ROLES:
            return str(org["role"])
    return None


def may_host(content: dict[str, Any], organisation_id: int | None) -> bool:
    """A signing organisation whose MoU role is "sending" only never hosts a learner under it."""
    return role_of(content, organisation_id) != "sending"


def nomination_errors(content: dict[str, Any], *, sending_id: int, hosting_id: int | None) -> dict[str, list[str]]:
    """A mobility under a MoU that gives roles: its sending organisation is one whose role is sending or
    both, its hosting organisation hosting or both (later periods' hosts: :func:`may_host`)."""
    errors: dict[str, list[str]] = {}
    if role_of(content, sending_id) == "hosting":
        errors["mou_id"] = ["Under this MoU your organisation only hosts learners: it does not send them"]
    if not may_host(content, hosting_id):
        errors["hosting_organisation_id"] = [
            "Under the MoU this partner only sends learners: choose one whose role is hosting or both"]
    return errors
