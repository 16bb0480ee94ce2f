"""Signatures of a Learning Agreement: each party signs the exact text (its hash) in order, personally
or for its organisation, or refuses with a comment; the competent institution approves explicitly or
by silence (:func:`implicit_approval`, run by the process's timer through the worker). Until the
sending organisation has signed, it may withdraw the agreement (:func:`delete`).

Who signs is the signed-in person (:mod:`ecvet.signing`); a parent without an account signs on paper
and the school records it. Quoting another hash than the current one is refused (409), and nothing
is stored.
"""
from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ecvet import signing
from ecvet.mobility import guardians
from ecvet.mobility.learning_agreement import (
    STALE_MESSAGE,
    competent_institution_ids,
    current_version,
    is_sender,
    locked,
    mobility_of,
    national_model,
    next_party,
    required_signatures,
    set_status,
    signatures_counting,
)
from ecvet.mobility.models import LaParty, LaSignature, LaStatus, LearningAgreement, Mobility
from ecvet.partnership.models import ApprovalMode
from engine import audit
from engine.errors import Conflict, Forbidden, Invalid
from engine.models import utcnow
from engine.parties import Actor


def _bound_organisation(session: Session, actor: Actor, mobility: Mobility, party: str) -> int | None:
    """Check the actor is the party it signs as; return the organisation signed for, if any.

    The learner signs personally (their linked account); a guardian with an account too, otherwise
    the sending organisation records the guardian's signature. An administrator is none of these: a
    signature is personal, so "on behalf" does not reach it."""
    try:
        return _party_organisation(session, actor, mobility, party)
    except Forbidden as exc:
        if actor.is_admin:
            raise Forbidden(f"A signature is personal: an administrator cannot sign on a party's behalf. "
                            f"{exc.message}") from exc
        raise


def _party_organisation(session: Session, actor: Actor, mobility: Mobility, party: str) -> int | None:
    learner = mobility.learner
    if party == LaParty.LEARNER:
        if learner.user_id is None or actor.user_id != learner.user_id:
            raise Forbidden("Only the learner signs as learner, with their own account")
        return None
    if party == LaParty.GUARDIAN:
        # A guardian's account signs while the learner is a minor; after the 18th birthday the
        # guardian no longer acts for them, and what is left of the guardian's part is on paper.
        if guardians.guardian_acts(learner):
            if actor.user_id != learner.guardian_user_id:
                raise Forbidden("Only the learner's parent or guardian signs as guardian")
            return None
        if mobility.sending_organisation_id not in actor.organisation_ids:
            raise Forbidden("The guardian has no account: a member of the sending organisation records "
                            "the guardian's signature")
        return mobility.sending_organisation_id
    later = {p.position: p.hosting_organisation_id for p in mobility.periods}
    organisation_party = {
        LaParty.SENDING: (mobility.sending_organisation_id, "the sending organisation"),
        LaParty.HOSTING: (mobility.hosting_organisation_id, "the hosting organisation"),
        LaParty.INTERMEDIARY: (mobility.intermediary_organisation_id, "the mobility's intermediary organisation"),
        LaParty.HOSTING_PERIOD_2: (later.get(2), "the host of period 2"),
        LaParty.HOSTING_PERIOD_3: (later.get(3), "the host of period 3"),
    }.get(party)
    if organisation_party is not None:
        org_id, what = organisation_party
        if org_id is None or org_id not in actor.organisation_ids:
            raise Forbidden(f"Only members of {what} sign for it")
        return org_id
    ids = sorted(competent_institution_ids(session, mobility) & actor.organisation_ids)
    if not ids:
        raise Forbidden("Only members of a competent institution registered for LA approval in the sending "
                        "country approve in that role")
    return ids[0]


def _signer(session: Session, actor: Actor, mobility: Mobility, party: str, *, organisation_id: int | None,
            submitted: Any) -> signing.Signer:
    """Who signs as `party` (the actor is that party, see :func:`_bound_organisation`): the learner's or
    guardian's own account, a member for an organisation, or, for a paper signature the school
    records, the guardian on the learner's record."""
    learner = mobility.learner
    if party == LaParty.LEARNER and learner.user_id is not None:
        return signing.personally(session, actor=actor, user_id=learner.user_id, submitted=submitted,
                                  refusal="Only the learner signs as learner, with their own account")
    if party == LaParty.GUARDIAN and learner.guardian_user_id is not None and guardians.guardian_acts(learner):
        return signing.personally(session, actor=actor, user_id=learner.guardian_user_id, submitted=submitted,
                                  refusal="Only the learner's parent or guardian signs as guardian")
    assert organisation_id is not None
    if party == LaParty.GUARDIAN:
        return signing.on_paper(session, actor=actor, name=learner.guardian_name, email=learner.guardian_email,
                                organisation_id=organisation_id, submitted=submitted)
    return signing.for_organisation(session, actor=actor, organisation_id=organisation_id, submitted=submitted)


def sign(
    session: Session,
    *,
    actor: Actor,
    la_id: int,
    party: str,
    content_hash: str,
    signer: dict[str, Any] | None = None,
) -> LaSignature:
    """Sign the current text as ``party``, as the signed-in person (:mod:`ecvet.signing`). Refused
    (nothing stored) when the actor is not that party (403), `signer` names someone else or an
    organisation's signature lacks a position (422), the quoted hash is stale (409), the first text is
    signed once the mobility has started (409), or it is not this party's turn (409, naming who signs
    next)."""
    if party not in LaParty.ALL:
        raise Invalid("Unknown party", errors={"party": [f"One of {', '.join(LaParty.ALL)}"]})
    la = locked(session, actor, la_id)
    mobility = mobility_of(session, la)
    required = required_signatures(session, la)
    if party not in required:
        raise Invalid(f"No {party} signature is part of this Learning Agreement",
                      errors={"party": [f"One of {', '.join(required)}"]})
    organisation_id = _bound_organisation(session, actor, mobility, party)
    signer_ = _signer(session, actor, mobility, party, organisation_id=organisation_id, submitted=signer)
    version = current_version(session, la)
    if content_hash != version.content_hash:
        raise Conflict(STALE_MESSAGE, errors={"content_hash": [
            f"You quoted {content_hash!r}; the current text is version {version.number} ({version.content_hash})"
        ]})
    now = signer_.signed_at
    # A text written before departure is signed before departure; a change during the mobility is
    # signed when it is made.
    if version.created_at.date() < mobility.start_date <= now.date():
        raise Conflict(f"The mobility has started ({mobility.start_date.isoformat()}): the Learning Agreement "
                       "had to be signed before; record a change instead")
    signed = signatures_counting(session, la)
    if party in signed:
        raise Conflict(f"The {party} has already signed version {version.number}")
    expected = next(p for p in required if p not in signed)
    if party != expected:
        raise Conflict(f"Signing order: the {expected} must sign next", errors={"party": [expected]})
    signature = LaSignature(
        la_id=la.id, la_version_id=version.id, party=party, organisation_id=organisation_id, signed_at=now,
        content_hash=version.content_hash, mode=ApprovalMode.EXPLICIT, recorded_by=actor.user_id,
        **signer_.columns(),
    )
    session.add(signature)
    session.flush()
    audit.record(session, actor_id=actor.user_id, action="la.signed", la_id=la.id, version=version.number,
                 content_hash=version.content_hash, party=party, organisation_id=organisation_id,
                 signature_id=signature.id, signer_user_id=signer_.user_id)
    set_status(session, la, actor_id=actor.user_id, reason=f"{party} signed")
    return signature


def refuse(
    session: Session,
    *,
    actor: Actor,
    la_id: int,
    party: str,
    content_hash: str,
    comment: str,
) -> dict[str, Any]:
    """Refuse to sign the current text, with a comment saying what has to change (its turn, the
    quoted hash current, as for :func:`sign`). Nothing is signed; the refusal is in the audit trail
    and returned so the process can hand the text back to be revised."""
    if party not in LaParty.ALL:
        raise Invalid("Unknown party", errors={"party": [f"One of {', '.join(LaParty.ALL)}"]})
    comment = (comment or "").strip()
    if not comment:
        raise Invalid("A refusal needs a comment", errors={"comment": ["Say what has to change"]})
    la = locked(session, actor, la_id)
    mobility = mobility_of(session, la)
    required = required_signatures(session, la)
    if party not in required:
        raise Invalid(f"No {party} signature is part of this Learning Agreement",
                      errors={"party": [f"One of {', '.join(required)}"]})
    organisation_id = _bound_organisation(session, actor, mobility, party)
    version = current_version(session, la)
    if content_hash != version.content_hash:
        raise Conflict(STALE_MESSAGE, errors={"content_hash": [
            f"You quoted {content_hash!r}; the current text is version {version.number} ({version.content_hash})"
        ]})
    expected = next_party(session, la)
    if party != expected:
        raise Conflict(f"It is not the {party}'s turn: the {expected} must sign next", errors={"party": [expected]})
    audit.record(session, actor_id=actor.user_id, action="la.refused", la_id=la.id, version=version.number,
                 content_hash=version.content_hash, party=party, organisation_id=organisation_id, comment=comment)
    return {"party": party, "comment": comment, "version": version.number}


def implicit_approval(session: Session, *, la_id: int, actor: Actor | None = None) -> LaSignature:
    """Record the competent institution's approval by silence: every party signed the current text,
    the national model approves implicitly, and its period (counted from the last party's signature)
    has passed without an objection. Run by the process's timer through the worker (``actor=None``)."""
    if actor is not None and not actor.is_admin:
        raise Forbidden("Implicit approvals are recorded by the platform's deadline timers")
    la = locked(session, None, la_id)
    mobility = mobility_of(session, la)
    model = national_model(session, mobility)
    if model.la_approval != ApprovalMode.IMPLICIT:
        raise Conflict(f"The national model ({model.model}) does not approve Learning Agreements implicitly")
    signed = signatures_counting(session, la)
    parties = [p for p in required_signatures(session, la) if p != LaParty.COMPETENT_INSTITUTION]
    missing = [p for p in parties if p not in signed]
    if missing:
        raise Conflict(f"The {missing[0]} has not signed the current text yet: nothing to approve")
    if LaParty.COMPETENT_INSTITUTION in signed:
        raise Conflict("The competent institution has already approved the current text")
    since = max(signed[p].signed_at for p in parties)
    deadline = since + timedelta(days=model.la_approval_days)
    if utcnow() < deadline:
        raise Conflict(f"The objection period runs until {deadline.isoformat()}")
    institutions = sorted(competent_institution_ids(session, mobility))
    if len(institutions) != 1:
        raise Conflict("No single competent institution (home) is named for this mobility")
    version = current_version(session, la)
    signature = LaSignature(
        la_id=la.id, la_version_id=version.id, party=LaParty.COMPETENT_INSTITUTION, organisation_id=institutions[0],
        signed_at=utcnow(), content_hash=version.content_hash, mode=ApprovalMode.IMPLICIT,
        recorded_by=actor.user_id if actor else None,
    )
    session.add(signature)
    session.flush()
    audit.record(session, actor_id=actor.user_id if actor else None, action="la.signed", la_id=la.id,
                 version=version.number, content_hash=version.content_hash, party=LaParty.COMPETENT_INSTITUTION,
                 organisation_id=institutions[0], signature_id=signature.id, mode=ApprovalMode.IMPLICIT,
                 period_days=model.la_approval_days)
    set_status(session, la, actor_id=actor.user_id if actor else None,
                reason=f"no objection within {model.la_approval_days} days")
    return signature


def delete(session: Session, *, actor: Actor, la_id: int) -> LearningAgreement:
    """Withdraw the LA; allowed only until the sending organisation has signed any version of it, since
    from then on it is a commitment of the school. The records stay (status ``deleted``)."""
    la = locked(session, actor, la_id)
    mobility = mobility_of(session, la)
    if not is_sender(actor, mobility):
        raise Forbidden("Only the sending organisation deletes the Learning Agreement")
    sent = session.scalar(select(LaSignature.id).where(LaSignature.la_id == la.id,
                                                       LaSignature.party == LaParty.SENDING).limit(1))
    if sent is not None:
        raise Conflict("The sending organisation has signed: the Learning Agreement can no longer be deleted")
    old = la.status
    now = utcnow()
    la.status = LaStatus.DELETED
    la.deleted_at = now
    la.updated_at = now
    session.flush()
    audit.record(session, actor_id=actor.user_id, action="la.status_changed", la_id=la.id, old=old,
                 new=LaStatus.DELETED, reason="deleted")
    return la


