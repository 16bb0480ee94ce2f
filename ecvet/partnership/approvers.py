"""Who must approve a version of a MoU: every signing partner, and the competent institution each partner
country's national model requires (explicitly, or by silence within a period).

The answer comes from the national models table (:mod:`ecvet.national_models.service`), the one pinned
on the MoU when it was submitted (:func:`pin_national_models`), else the newest deployed; and from the
registry of competent institutions. :func:`latest_decisions` and :func:`all_approved` say how far the
approvals of one version have come.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, NamedTuple

from sqlalchemy import select
from sqlalchemy.orm import Session

from ecvet.national_models.models import CompetenceFunction
from ecvet.national_models.service import NationalModel, decide, institutions_for
from ecvet.partnership.models import ApprovalMode, ApprovalRole, Decision, Mou, MouApproval, MouVersion
from engine import audit
from engine.errors import Invalid
from engine.models import FileBlob, Organisation

# --------------------------------------------------------------------------------------------------
# Who must approve
# --------------------------------------------------------------------------------------------------


#: Days a competent institution named in a MoU without a national model requiring it has to decide.
NAMED_APPROVAL_DAYS = 30


class Requirement(NamedTuple):
    """One approval the MoU needs: this organisation, in this role (compares equal to a plain tuple)."""

    organisation_id: int
    role: str


@dataclass
class Plan:
    """Required approvals of one version, how each is given, and what stops the MoU being approvable."""

    requirements: list[Requirement] = field(default_factory=list)
    modes: dict[Requirement, tuple[str, int]] = field(default_factory=dict)  # (explicit|implicit, days)
    countries: dict[Requirement, str] = field(default_factory=dict)
    models: dict[str, NationalModel] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    # Competent institutions the MoU names although no national model requires them (a multilateral
    # MoU's further institutions): they approve explicitly like the others.
    named_only: set[Requirement] = field(default_factory=set)


def signing_ids(content: dict[str, Any]) -> list[int]:
    seen: list[int] = []
    for org in content.get("signing_organisations") or []:
        org_id = org.get("organisation_id")
        if isinstance(org_id, int) and org_id not in seen:
            seen.append(org_id)
    return seen


def highest_eqf(content: dict[str, Any]) -> int | None:
    levels = [q["eqf_level"] for q in content.get("qualifications") or [] if isinstance(q.get("eqf_level"), int)]
    return max(levels) if levels else None


def _competent_institution(
    session: Session, content: dict[str, Any], country: str, region: str | None
) -> tuple[int | None, str | None]:
    """The organisation approving MoUs for `country` (in the partner's `region`, for the MoU's sector):
    the one named in the content, else the only one registered for that scope (a regional authority
    never approves another region's MoUs); anything else is a problem for the sending organisation to
    fix before submitting."""
    registered = institutions_for(session, country=country, function=CompetenceFunction.MOU_APPROVAL,
                                  region=region, sector=content.get("sector") or None)
    named = [ci["organisation_id"] for ci in content.get("competent_institutions") or []]
    # Several named: the first one named stands for the national model; the others approve as named ones.
    chosen = [org_id for org_id in named if org_id in registered]
    if chosen:
        return chosen[0], None
    if len(registered) == 1:
        return registered[0], None
    where = f"{country} ({region})" if region else country
    if not registered:
        return None, f"the national model of {country} requires MoU approval by a competent institution, " \
                     f"but none is registered for {where}"
    return None, f"several competent institutions approve MoUs in {where}: name one in competent_institutions"


def _pinned_table(session: Session, mou: Mou | None) -> bytes | None:
    if mou is None or not mou.national_models_sha256:
        return None
    blob = session.get(FileBlob, mou.national_models_sha256)
    return bytes(blob.content) if blob is not None else None


def plan_for(session: Session, content: dict[str, Any], *, mou: Mou | None = None) -> Plan:
    """Every signing partner, then per partner country the competent institution its national model
    requires (evaluated with the MoU's sector and highest EQF level from the table pinned on `mou` by
    :func:`pin_national_models`, else from the newest deployed DMN table)."""
    table = _pinned_table(session, mou)
    plan = Plan()
    signing = signing_ids(content)
    for org_id in signing:
        requirement = Requirement(org_id, ApprovalRole.PARTNER)
        plan.requirements.append(requirement)
        plan.modes[requirement] = (ApprovalMode.EXPLICIT, 0)
    organisations = {o.id: o for o in session.scalars(select(Organisation).where(Organisation.id.in_(signing or [-1])))}
    # Per country, the region of its first signing organisation (the sending one first).
    regions: dict[str, str | None] = {}
    for org_id in signing:
        org = organisations.get(org_id)
        if org is not None and org.country not in regions:
            regions[org.country] = org.region
    for country, region in regions.items():
        model = decide(country, content.get("sector"), highest_eqf(content), region=region,
                       qualification_system=content.get("qualification_system") or None,
                       session=session, dmn_bytes=table)
        plan.models[country] = model
        if model.mou_approval == "none":
            continue
        institution_id, problem = _competent_institution(session, content, country, region)
        if institution_id is None:
            plan.problems.append(problem or f"no competent institution for {country}")
            continue
        requirement = Requirement(institution_id, ApprovalRole.COMPETENT_INSTITUTION)
        if requirement not in plan.modes:
            plan.requirements.append(requirement)
            plan.modes[requirement] = (model.mou_approval, model.mou_approval_days)
            plan.countries[requirement] = country
    _named_institutions(session, content, plan)
    return plan


def _named_institutions(session: Session, content: dict[str, Any], plan: Plan) -> None:
    """Every competent institution the MoU names approves it too (any number of them), explicitly,
    within its country's period (else :data:`NAMED_APPROVAL_DAYS`)."""
    named = [ci.get("organisation_id") for ci in content.get("competent_institutions") or []]
    ids = [i for i in named if isinstance(i, int) and Requirement(i, ApprovalRole.COMPETENT_INSTITUTION)
           not in plan.modes]
    for org in session.scalars(select(Organisation).where(Organisation.id.in_(ids or [-1])).order_by(Organisation.id)):
        requirement = Requirement(org.id, ApprovalRole.COMPETENT_INSTITUTION)
        model = plan.models.get(org.country)
        days = model.mou_approval_days if model is not None and model.mou_approval_days > 0 else NAMED_APPROVAL_DAYS
        plan.requirements.append(requirement)
        plan.modes[requirement] = (ApprovalMode.EXPLICIT, days)
        plan.countries[requirement] = org.country
        plan.named_only.add(requirement)


def pin_national_models(session: Session, *, mou: Mou, table_sha256: str, actor_id: int | None) -> None:
    """Decide this MoU's approvals with one deployed national models table from now on (the one the
    submitting process version carries), so that a table redeployed later does not change the gates
    of a partnership already under way, only those of new ones."""
    if mou.national_models_sha256 == table_sha256:
        return
    if session.get(FileBlob, table_sha256) is None:
        raise Invalid("No deployed national models table has this SHA-256", errors={"table": [table_sha256]})
    old = mou.national_models_sha256
    mou.national_models_sha256 = table_sha256
    session.flush()
    audit.record(session, actor_id=actor_id, action="mou.national_models_pinned", mou_id=mou.id,
                 table_sha256=table_sha256, previous=old)


def latest_decisions(session: Session, version: MouVersion) -> dict[Requirement, MouApproval]:
    """Per (organisation, role), the last decision given for exactly this version and hash."""
    rows = session.scalars(
        select(MouApproval)
        .where(MouApproval.mou_version_id == version.id, MouApproval.content_hash == version.content_hash)
        .order_by(MouApproval.id)
    )
    return {Requirement(a.organisation_id, a.role): a for a in rows}


def all_approved(session: Session, version: MouVersion, plan: Plan) -> bool:
    if plan.problems or not plan.requirements:
        return False
    decisions = latest_decisions(session, version)
    return all(
        (d := decisions.get(r)) is not None and d.decision == Decision.APPROVED for r in plan.requirements
    )


