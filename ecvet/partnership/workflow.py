"""Task actions and connectors of the Partnership process (``processes/partnership.bpmn``).

Importing this module registers them, like :mod:`ecvet.partnership.workflow`; the API app and the worker import
it at start-up (:mod:`ecvet.wiring`).

The partnership record (:mod:`ecvet.partnership.service`) is opened by the first action of an instance and
every action below works on it:

* ``partnership.profile`` (action): the partner whose lane the task is in saves its profile
  (``sending_profile`` / ``hosting_profile``, see :mod:`ecvet.partnership.profiles`); attachments it names must
  exist and be visible to the person completing the task. Returns ``partnership_id`` and
  ``<side>_profile_id``.
* ``partnership.roles`` (action): the role map (``ecvet_roles``, ``roles_notes``; :mod:`ecvet.partnership.roles`).
  Returns ``role_map_id``.
* ``partnership.draft`` (action): creates the partnership's MoU (first round) or saves a new version of
  it (later rounds: after a rejection, for a renewal or a review). Refuses, for a MoU in force, a
  "revision" identical to the text in force. Returns the MoU references, validity date and expiry.
* ``partnership.submit`` (action): the sending organisation puts the draft up for approval and signs it
  in the same step as the signed-in member (every signing partner, the sender included, must approve
  the same hash; ``signer`` gives only position and place, :mod:`ecvet.signing`). The MoU
  is signed by the two partners of the partnership and any number of further partners (each with its
  role, :mod:`ecvet.partnership.multilateral`), and a competent institution that the home or host
  country's national model requires must be the organisation bound to that country's
  competent-institution lane; otherwise 422 before anyone is asked. Further partners and competent
  institutions (of a third country, or named in the MoU) are bound to the instance and listed in
  ``mou_other_partners`` / ``mou_other_institutions``, one task each. Returns the MoU references plus the inputs of the
  ``national_model`` decision (``home_country``, ``host_country``, ``country``, ``sector``,
  ``eqf_level``), so the business rule tasks decide on registered countries, not on what a form said.
* ``partnership.approve`` / ``partnership.approve_as_competent_institution`` (actions):
  ``mou.approve`` as signing partner / as the competent institution the national model requires
  (decision approved or rejected with a comment). Re-approving a text one's organisation already
  approved (resubmitted unchanged after another party's rejection) confirms the earlier approval.
  The forms of these three actions start with the reader as signer (a prefill), and each clears
  ``signer`` from the process data, so no other party's form shows who signed before.
* ``partnership.renewal`` (action): the sending organisation's answer to the renewal reminder,
  ``decision`` ``revise`` or ``let_expire``. Returns ``revise_mou``, ``mou_reminded_for`` and, when
  revising, ``revision_request``.
* ``mou.implicit_approval`` (connector, run by the worker after an objection-period timer): records
  the implicit approval of the competent institution of ``country`` (or of every one whose period has
  run out) and returns the MoU status.
* ``partnership.object_as_competent_institution`` (action): the task "Object within the objection period" of
  an institution that approves by silence: an objection is a rejection with a comment; approving at
  once is allowed. Its form starts with ``objection_deadline`` (the task's due date).
* ``mou.escalate_approval`` (connector, run by the worker when an explicit approval of a competent
  institution is overdue): e-mails its members and the sending organisation, audited.
* ``mou.expire`` (connector, run by the worker at the validity date): ends the MoU and returns its
  status.

Connectors get only their parameters; they write records in the worker job's unit of work
(:func:`engine.services.current_session`), so their effect commits with the service task or not at all.
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import select

from ecvet import signing
from ecvet.evidence import content_hash
from ecvet.national_models.service import FILENAME
from ecvet.partnership import approvals, deadlines, multilateral, profiles, roles, service
from ecvet.partnership.approvers import Requirement, latest_decisions, pin_national_models, plan_for
from ecvet.partnership.models import ApprovalMode, ApprovalRole, Decision, Mou, MouStatus, Partnership, PartnershipSide
from ecvet.partnership.mou import (
    CONTENT_FIELDS,
    create_draft,
    current_version,
    expire,
    expires_at,
    get,
    in_force_version,
    is_sender,
    revise,
)
from engine import audit, services
from engine.actions import ActionContext, action, prefill
from engine.errors import Conflict, EngineError, Forbidden, Invalid
from engine.models import DefinitionFile, utcnow

_current_session = services.current_session  # the worker job's unit of work (engine.services)


# --------------------------------------------------------------------------------------------------
# Actions
# --------------------------------------------------------------------------------------------------


def _mou_id(context: ActionContext, data: dict[str, Any]) -> int:
    value = data.get("mou_id", context.task_data.get("mou_id"))
    if isinstance(value, bool) or not isinstance(value, int):
        raise Invalid("The task needs a MoU: no mou_id in the form or the process data",
                      errors={"mou_id": ["Required"]})
    return value


def _quoted_hash(data: dict[str, Any]) -> str:
    value = data.get("content_hash") or data.get("mou_hash")
    if not isinstance(value, str) or not value:
        raise Invalid("Say which text you approve: content_hash is required", errors={"content_hash": ["Required"]})
    return value


def _content(data: dict[str, Any]) -> dict[str, Any]:
    """The MoU template fields at the top level of the form, or one ``content`` object."""
    if isinstance(data.get("content"), dict):
        return data["content"]
    return {name: data[name] for name in CONTENT_FIELDS if name in data}


def references(context: ActionContext, mou_id: int) -> dict[str, Any]:
    """What the process keeps of the MoU: ids, the current version and hash, its status and validity
    (``mou_expires_at``, an ISO date-time, is what the lifecycle's expiry timer waits for)."""
    found = get(context.session, actor=context.actor, mou_id=mou_id)
    version = current_version(found)
    expiry = expires_at(version)
    return {"mou_id": found.id, "mou_version": version.number, "mou_hash": version.content_hash,
            "mou_status": found.status, "mou_valid_until": version.content.get("valid_until"),
            "mou_expires_at": expiry.isoformat() if expiry else None}


def _partnership(context: ActionContext) -> Partnership:
    return service.for_instance(context.session, actor=context.actor, instance=context.instance)


def _prefixed(exc: Invalid, prefix: str) -> Invalid:
    """The same refusal with field paths as the form has them (the record knows no form keys)."""
    errors = exc.errors
    if isinstance(errors, dict):
        errors = {f"{prefix}.{k}" if k != "profile" else prefix: v for k, v in errors.items()}
    return Invalid(exc.message, errors=errors)


@action("partnership.profile")
def save_profile(context: ActionContext, data: dict[str, Any]) -> dict[str, Any]:
    """The partner of the task's lane saves its profile (a new version of it)."""
    partnership = _partnership(context)
    side = context.task.role
    if side not in PartnershipSide.ALL or context.task.organisation_id is None:
        raise Invalid("Profiles are written in the sending or the hosting organisation's lane",
                      errors={"_": [f"lane role {side!r}"]})
    key = f"{side}_profile"
    try:
        profile = profiles.save(context.session, actor=context.actor, partnership=partnership,
                                organisation_id=context.task.organisation_id, content=data.get(key))
    except Invalid as exc:
        raise _prefixed(exc, key) from exc
    return {"partnership_id": partnership.id, f"{key}_id": profile.id}


@action("partnership.roles")
def map_roles(context: ActionContext, data: dict[str, Any]) -> dict[str, Any]:
    """Store who holds which ECVET function in the home and the host country."""
    partnership = _partnership(context)
    role_map = roles.save(context.session, actor=context.actor, partnership=partnership,
                          functions=data.get("ecvet_roles"), notes=data.get("roles_notes"))
    return {"partnership_id": partnership.id, "role_map_id": role_map.id}


@action("partnership.draft")
def draft(context: ActionContext, data: dict[str, Any]) -> dict[str, Any]:
    """Create the partnership's MoU, or save a new version of it."""
    session = context.session
    partnership = _partnership(context)
    content = roles.route_mou(session, partnership, _content(data))
    multilateral.check_roles(partnership, content)
    mou_id = context.task_data.get("mou_id", partnership.mou_id)
    if mou_id is None:
        mou = create_draft(session, actor=context.actor,
                                sending_organisation_id=partnership.sending_organisation_id,
                                content=content, business_key=data.get("business_key") or None)
        service.attach_mou(session, partnership, mou.id, actor=context.actor)
        return {**references(context, mou.id), "partnership_id": partnership.id}
    if mou_id != partnership.mou_id:
        raise Invalid("The process data names another MoU than the partnership's", errors={"mou_id": [str(mou_id)]})
    mou = get(session, actor=context.actor, mou_id=mou_id)
    if mou.status == MouStatus.ACTIVE and content_hash(content) == current_version(mou).content_hash:
        raise Invalid("This is the text in force: change what the revision is for",
                      errors={"_": ["Identical to the version in force"]})
    revise(session, actor=context.actor, mou_id=mou_id, content=content)
    return {**references(context, mou_id), "partnership_id": partnership.id}


def _decision_inputs(content: dict[str, Any], home: str, host: str,
                     regions: tuple[str | None, str | None]) -> dict[str, Any]:
    levels = [q["eqf_level"] for q in content.get("qualifications") or [] if isinstance(q.get("eqf_level"), int)]
    return {"country": home, "home_country": home, "host_country": host, "sector": content.get("sector") or None,
            "eqf_level": max(levels) if levels else 0, "region": regions[0], "home_region": regions[0],
            "host_region": regions[1], "qualification_system": content.get("qualification_system") or None}


def _pin_table(context: ActionContext, mou: Mou) -> None:
    """Decide the MoU's approvals with the national models table this process version carries (the
    one its business rule tasks evaluate), so records and gates agree even after a redeployment."""
    sha = context.session.scalar(select(DefinitionFile.sha256).where(
        DefinitionFile.definition_id == context.instance.definition_id,
        DefinitionFile.filename == FILENAME))
    if sha is not None:
        pin_national_models(context.session, mou=mou, table_sha256=sha, actor_id=context.actor.user_id)


def _check_parties(context: ActionContext, partnership: Partnership, mou: Mou, content: dict[str, Any]) -> None:
    """Everyone whose approval the MoU needs must be someone this process asks."""
    session = context.session
    multilateral.check_partners(partnership, content)
    home, host = service.countries(session, partnership)
    bound = {p.role: p.organisation_id for p in context.instance.parties}
    plan = plan_for(session, content, mou=mou)
    errors: dict[str, list[str]] = {}
    for requirement in plan.requirements:
        country = plan.countries.get(requirement)
        if requirement.role != ApprovalRole.COMPETENT_INSTITUTION or requirement in plan.named_only \
                or country not in (home, host):
            continue  # partners, and institutions of a third country or named only: a task of their own
        role = "competent-institution-home" if country == home else "competent-institution-host"
        if bound.get(role) != requirement.organisation_id:
            errors.setdefault("competent_institutions", []).append(
                f"The national model of {country} requires MoU approval by organisation "
                f"{requirement.organisation_id}, but this partnership binds organisation {bound.get(role)} "
                f"as {role.replace('-', ' ')}")
    if errors:
        raise Invalid("The MoU needs an approval this partnership cannot collect", errors=errors)


@action("partnership.submit")
def submit_and_sign(context: ActionContext, data: dict[str, Any]) -> dict[str, Any]:
    """Submit the current draft and sign it for the sending organisation (unless it already signed
    exactly this text, e.g. resubmitted unchanged after a rejection). A revision of a MoU in force is
    in approval as soon as it is saved; submitting it only signs it."""
    if data.get("confirmed") is not True:
        raise Invalid("Confirm that the text is final before you submit it", errors={"confirmed": ["Required"]})
    session = context.session
    partnership = _partnership(context)
    mou_id = _mou_id(context, data)
    mou = get(session, actor=context.actor, mou_id=mou_id)
    version = current_version(mou)
    _pin_table(context, mou)
    _check_parties(context, partnership, mou, version.content)
    if mou.status == MouStatus.DRAFT:
        approvals.submit(session, actor=context.actor, mou_id=mou_id)
    elif mou.status != MouStatus.IN_APPROVAL:
        raise Conflict(f"The MoU is {mou.status}: there is no new version to submit")
    sender = Requirement(mou.sending_organisation_id, ApprovalRole.PARTNER)
    latest = latest_decisions(session, version).get(sender)
    if latest is None or latest.decision != Decision.APPROVED:
        approvals.approve(session, actor=context.actor, mou_id=mou_id, content_hash=version.content_hash,
                     signer=data.get("signer"), organisation_id=mou.sending_organisation_id)
    home, host = service.countries(session, partnership)
    others = multilateral.approvers(session, actor_id=context.actor.user_id, instance=context.instance,
                                    partnership=partnership, plan=plan_for(session, version.content, mou=mou),
                                    countries=(home, host))
    # The comment of an earlier rejection has been dealt with: it is not shown in the next round.
    return {**references(context, mou_id), **others,
            **_decision_inputs(version.content, home, host, service.regions(session, partnership)),
            "rejection": None, "signer": None}


def _approve(context: ActionContext, data: dict[str, Any], role: str) -> dict[str, Any]:
    """``mou.approve`` in `role`, except that re-approving the very text one's organisation already
    approved (the sender resubmitted it unchanged after another party's rejection) confirms the
    earlier approval instead of failing: that approval still counts for this hash."""
    if data.get("decision") != Decision.REJECTED:
        mou_id = _mou_id(context, data)
        mou = get(context.session, actor=context.actor, mou_id=mou_id)
        version = current_version(mou)
        quoted = data.get("content_hash") or data.get("mou_hash")
        organisation_id = context.task.organisation_id
        if quoted == version.content_hash and mou.status == MouStatus.IN_APPROVAL and organisation_id is not None:
            prior = latest_decisions(context.session, version).get(Requirement(organisation_id, role))
            if prior is not None and prior.decision == Decision.APPROVED:
                return {**references(context, mou_id), "mou_approval_id": prior.id,
                        "mou_decision": prior.decision, "signer": None}
    return _decide(context, data, role)


def _decide(context: ActionContext, data: dict[str, Any], role: str) -> dict[str, Any]:
    """Sign the current text for the organisation the task is bound to, in `role`, or reject it with a
    comment (``decision: "rejected"``); a stale hash refuses the whole completion."""
    mou_id = _mou_id(context, data)
    if data.get("decision") == Decision.REJECTED:
        row = approvals.reject(context.session, actor=context.actor, mou_id=mou_id, content_hash=_quoted_hash(data),
                               comment=data.get("comment") or "", as_role=role, signer=data.get("signer"),
                               organisation_id=context.task.organisation_id)
    else:
        row = approvals.approve(context.session, actor=context.actor, mou_id=mou_id, content_hash=_quoted_hash(data),
                                signer=data.get("signer"), as_role=role,
                                organisation_id=context.task.organisation_id)
    return {**references(context, mou_id), "mou_approval_id": row.id, "mou_decision": row.decision, "signer": None}


@action("partnership.approve")
def approve_as_partner(context: ActionContext, data: dict[str, Any]) -> dict[str, Any]:
    """A signing partner's decision on the current text (approved, or rejected with a comment)."""
    return _approve(context, data, ApprovalRole.PARTNER)


@action("partnership.approve_as_competent_institution")
def approve_as_competent_institution(context: ActionContext, data: dict[str, Any]) -> dict[str, Any]:
    """The competent institution's decision on the current text (approved, or rejected with a comment)."""
    return _approve(context, data, ApprovalRole.COMPETENT_INSTITUTION)


@action("partnership.object_as_competent_institution")
def object_as_competent_institution(context: ActionContext, data: dict[str, Any]) -> dict[str, Any]:
    """The competent institution that approves by silence objects (a rejection with a comment) or
    approves at once, before its objection period is over."""
    return _approve(context, data, ApprovalRole.COMPETENT_INSTITUTION)


for _name in ("partnership.submit", "partnership.approve", "partnership.approve_as_competent_institution"):
    prefill(_name)(signing.prefill)


@prefill("partnership.object_as_competent_institution")
def objection_prefill(context: ActionContext) -> dict[str, Any]:
    """The objection form shows who signs and until when silence is not yet approval (the task's due
    date, the deadline of its boundary timer)."""
    due = context.task.due_at
    return {**signing.prefill(context), **({"objection_deadline": due.isoformat()} if due else {})}


RENEWAL_DECISIONS = ("revise", "let_expire")


@action("partnership.renewal")
def renewal(context: ActionContext, data: dict[str, Any]) -> dict[str, Any]:
    """The sending organisation, reminded of the validity date, revises the MoU or lets it expire."""
    decision = data.get("decision")
    if decision not in RENEWAL_DECISIONS:
        raise Invalid("Say whether you revise the MoU or let it expire",
                      errors={"decision": [f"One of {', '.join(RENEWAL_DECISIONS)}"]})
    mou_id = _mou_id(context, data)
    mou = get(context.session, actor=context.actor, mou_id=mou_id)
    if not is_sender(context.actor, mou):
        raise Forbidden("The sending organisation decides on renewing its MoU")
    if decision == "revise" and mou.status != MouStatus.ACTIVE:
        raise Conflict(f"The MoU is {mou.status}; only a MoU in force is revised from here")
    valid_until = current_version(mou).content.get("valid_until")
    comment = (data.get("comment") or "").strip() or None
    audit.record(context.session, actor_id=context.actor.user_id, action="mou.renewal_decided",
                 instance_id=context.instance.id, mou_id=mou.id, decision=decision, valid_until=valid_until,
                 comment=comment)
    out: dict[str, Any] = {"revise_mou": decision == "revise", "mou_reminded_for": valid_until}
    if decision == "revise":
        out["revision_request"] = {"source": "reminder", "review_id": None, "changes": None, "comment": comment}
    return out


# --------------------------------------------------------------------------------------------------
# Connectors
# --------------------------------------------------------------------------------------------------


@services.connector("mou.implicit_approval")
def implicit_approval(mou_id: int, country: str | None = None, organisation_id: int | None = None) -> str:
    """Record the implicit approval of the competent institution of `country` (every one whose
    objection period has run out and that has not decided, without a country) and return the MoU
    status; a MoU that is no longer in approval is left alone (someone decided meanwhile).
    ``organisation_id`` narrows it to one institution (a multilateral MoU's own objection task)."""
    session = _current_session()
    mou = session.get(Mou, mou_id)
    if mou is None:
        raise Invalid(f"No MoU {mou_id}")
    if mou.status != MouStatus.IN_APPROVAL:
        return mou.status
    version = current_version(mou)
    plan = plan_for(session, version.content, mou=mou)
    decided = latest_decisions(session, version)
    due: list[Requirement] = [
        r for r in plan.requirements
        if plan.modes[r][0] == ApprovalMode.IMPLICIT and r not in decided
        and (country is None or plan.countries.get(r) == country)
        and (organisation_id is None or r.organisation_id == organisation_id)
    ]
    if not due:
        if country is not None and any(plan.countries.get(r) == country for r in decided):
            return mou.status  # the institution decided explicitly before its period ran out
        raise Conflict(f"No competent institution of this MoU approves implicitly{' in ' + country if country else ''}")
    for requirement in due:
        try:
            approvals.implicit_approval(session, mou_id=mou_id, organisation_id=requirement.organisation_id)
        except EngineError as exc:
            raise Conflict(f"Implicit approval not recorded at {utcnow().isoformat()}: {exc}") from exc
    session.refresh(mou)
    return mou.status


@services.connector("mou.escalate_approval")
def escalate_approval(mou_id: int, country: str) -> int:
    """The explicit approval of the competent institution of `country` is overdue: e-mail its members
    and the sending organisation (:func:`ecvet.partnership.deadlines.escalate`); returns how many."""
    return len(deadlines.escalate(_current_session(), mou_id=mou_id, country=country))


@services.connector("mou.expire")
def expire_mou(mou_id: int) -> str:
    """End the MoU once the validity date of the version in force has passed; returns its status.
    Refuses (the job is retried, then an incident) when that date has not passed yet."""
    session = _current_session()
    mou = session.get(Mou, mou_id)
    if mou is None:
        raise Invalid(f"No MoU {mou_id}")
    if mou.status in MouStatus.CLOSED:
        return mou.status
    ends = expires_at(in_force_version(mou) or current_version(mou))
    if ends is not None and utcnow() < ends:
        raise Conflict(f"The MoU is valid until {ends.isoformat()}; it does not expire yet")
    expire(session, mou_id=mou_id)
    return MouStatus.EXPIRED
