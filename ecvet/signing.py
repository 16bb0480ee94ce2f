"""One signer model for every signature and approval: who signs is the signed-in account, never a form.

A MoU approval, a Learning Agreement signature, an issued transcript, a validation or recognition
decision and an assessment sheet all record the same :class:`Signer`, built here on the server:

* the **account** that signs (user id, name, e-mail: what signing in proved), and
* the **organisation** it signs for (it must be a member), or none when a learner or parent signs
  personally with their own account, plus
* what the account does not prove: the **position** the person signs in and the **place**, from the
  form or else from the person's profile (``users.position`` / ``users.place``), and
* the moment, from the engine's clock.

A form or API client may still send ``signer`` with a name and e-mail (older clients did); they must
be the signed-in person's, otherwise the signature is refused (422) before anything is stored. An
administrator completing a task ``on_behalf`` of a party signs nothing: a signature is personal, so
only a member of the organisation signs for it (403).

One exception keeps paper in the loop: a parent or guardian without an account signs on paper and
a member of the sending organisation records it (:func:`on_paper`). The signer is then the guardian
on the learner's record, not a typed name, and the row keeps who recorded it.

Content hashes are untouched by this: a signature row binds its signer to the hash of the text it
quotes, as before.
"""
from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, TypedDict

from sqlalchemy.orm import Session

from engine.actions import ActionContext
from engine.errors import Forbidden, Invalid
from engine.models import Organisation, User, utcnow
from engine.parties import Actor

__all__ = ["PROFILE_HINT", "Signer", "for_organisation", "form_values", "on_paper", "personally", "prefill", "view"]

#: Keys a submitted ``signer`` may have: name and e-mail only as a check of who signs.
CLAIMS = ("name", "email")
ASKED = ("position", "place")
LIMIT = 200
PROFILE_HINT = "set it once in your profile (PATCH /api/users/me) to have it filled in"


@dataclass(frozen=True)
class Signer:
    """Who signed, as a signature row records it (``signer_*`` columns)."""

    user_id: int | None  # the account that signed; None for a paper signature recorded by someone else
    name: str
    email: str
    position: str | None
    place: str | None
    organisation_id: int | None  # signed for this organisation; None: personally (learner, guardian)
    signed_at: datetime

    def columns(self) -> dict[str, Any]:
        """The signer columns every signed table has."""
        return {"signer_user_id": self.user_id, "signer_name": self.name, "signer_email": self.email,
                "signer_position": self.position, "signer_place": self.place}


class SignerView(TypedDict):
    """Who signed or decided a text (MoU approvals, Learning Agreement signatures, transcripts,
    validation and recognition decisions, assessment sheets): the signed-in account, never a typed name."""

    user_id: Annotated[int | None, (
        "the account that signed; null for an approval by silence, a parent's signature on paper recorded by the "
        "school, and signatures recorded before signers were accounts")]
    name: str | None
    position: str | None
    email: str | None
    place: Annotated[str | None, "where the signer signed"]


def view(row: Any) -> SignerView:
    """A signed row's signer as the API and documents show it (any table with ``signer_*`` columns).

    ``user_id`` is null for an approval by silence, a paper signature, and signatures recorded before
    accounts signed (their name and e-mail were typed then)."""
    return {"user_id": row.signer_user_id, "name": row.signer_name, "position": row.signer_position,
            "email": row.signer_email, "place": row.signer_place}


# --------------------------------------------------------------------------------------------------
# Building a signer
# --------------------------------------------------------------------------------------------------


def for_organisation(
    session: Session,
    *,
    actor: Actor,
    organisation_id: int,
    submitted: Any = None,
    position_required: bool = True,
) -> Signer:
    """The signed-in member of `organisation_id` signing for it. 403 for anyone else (administrators
    included: they do not sign on anyone's behalf), 422 when `submitted` names another person or the
    position is missing (from the form and the profile)."""
    if organisation_id not in actor.organisation_ids:
        name = _organisation_name(session, organisation_id)
        if actor.is_admin:
            raise Forbidden(f"A signature is personal: only a member of {name} signs for it; an administrator "
                            "cannot sign on a member's behalf")
        raise Forbidden(f"Only members of {name} sign for it")
    user = _user(session, actor)
    errors: dict[str, list[str]] = {}
    asked = _check(submitted, user, errors)
    position = asked.get("position") or user.position
    if position_required and not position:
        organisation = _organisation_name(session, organisation_id)
        errors["signer.position"] = [f"Required: the position you sign in for {organisation}; {PROFILE_HINT}"]
    _raise(errors)
    return Signer(user.id, user.name, user.email, position, asked.get("place") or user.place, organisation_id,
                  utcnow())


def personally(session: Session, *, actor: Actor, user_id: int, submitted: Any = None, refusal: str) -> Signer:
    """The person with account `user_id` signing for themself (a learner, a parent with an account):
    anyone else gets 403 with `refusal`. No position is needed; a place is kept when given."""
    if actor.user_id != user_id:
        if actor.is_admin:
            raise Forbidden(f"A signature is personal: an administrator cannot sign on someone's behalf. {refusal}")
        raise Forbidden(refusal)
    user = _user(session, actor)
    errors: dict[str, list[str]] = {}
    asked = _check(submitted, user, errors)
    _raise(errors)
    return Signer(user.id, user.name, user.email, asked.get("position") or None,
                  asked.get("place") or user.place, None, utcnow())


def on_paper(
    session: Session,
    *,
    actor: Actor,
    name: str | None,
    email: str | None,
    organisation_id: int,
    submitted: Any = None,
) -> Signer:
    """A signature given on paper by a person without an account (a minor's parent), recorded by a
    member of `organisation_id`. The signer is the person on record (`name`, `email`); a submitted
    name or e-mail must be theirs (422). The row's ``recorded_by`` says who recorded it."""
    if organisation_id not in actor.organisation_ids:
        raise Forbidden(f"Only members of {_organisation_name(session, organisation_id)} record a signature "
                        "given on paper")
    if not (name and email):
        raise Invalid("No parent or guardian is on record for this learner: record one before their signature",
                      errors={"signer.name": ["No parent or guardian on record"]})
    errors: dict[str, list[str]] = {}
    asked = _check(submitted, None, errors, on_record=(name, email))
    _raise(errors)
    return Signer(None, name, email, asked.get("position") or None, asked.get("place") or None, organisation_id,
                  utcnow())


# --------------------------------------------------------------------------------------------------
# Pre-filling forms
# --------------------------------------------------------------------------------------------------


def form_values(
    session: Session,
    actor: Actor,
    *,
    organisation_id: int | None = None,
    user_id: int | None = None,
    on_record: tuple[str | None, str | None] | None = None,
) -> dict[str, str]:
    """What a signing form starts with for the person reading it: their name and e-mail (shown, not
    asked) and position and place from their profile; for a paper signature, the person on record.
    Empty for someone who could not sign it (an administrator looking at another party's task)."""
    if on_record is not None:
        if organisation_id is None or organisation_id not in actor.organisation_ids:
            return {}
        name, email = on_record
        return {k: v for k, v in (("name", name), ("email", email)) if v}
    may_sign = (user_id is not None and user_id == actor.user_id) or (
        user_id is None and organisation_id is not None and organisation_id in actor.organisation_ids)
    if not may_sign:
        return {}
    user = session.get(User, actor.user_id)
    if user is None:
        return {}
    values = {"name": user.name, "email": user.email, "place": user.place}
    if organisation_id is not None:
        values["position"] = user.position
    return {k: v for k, v in values.items() if v}


# --------------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------------


def _user(session: Session, actor: Actor) -> User:
    user = session.get(User, actor.user_id)
    if user is None or not user.is_active:
        raise Forbidden("Your account cannot sign")
    return user


def _organisation_name(session: Session, organisation_id: int) -> str:
    organisation = session.get(Organisation, organisation_id)
    return organisation.name if organisation is not None else f"organisation {organisation_id}"


def _same(a: str, b: str) -> bool:
    """Equal as people write them: Unicode form, case and spacing do not matter."""
    def norm(text: str) -> str:
        return " ".join(unicodedata.normalize("NFC", text).casefold().split())
    return norm(a) == norm(b)


def _check(
    submitted: Any,
    user: User | None,
    errors: dict[str, list[str]],
    *,
    on_record: tuple[str, str] | None = None,
) -> dict[str, str]:
    """Validate a submitted ``signer``: name and e-mail, when given, must be the signer's own (the
    account's, or the person's on record); position and place are trimmed texts. Returns those two."""
    if submitted is None:
        return {}
    if not isinstance(submitted, dict):
        errors["signer"] = ["An object with your position and place (your name and e-mail come from your account)"]
        return {}
    for key in sorted(set(submitted) - set(CLAIMS) - set(ASKED)):
        errors[f"signer.{key}"] = ["Not part of a signature: it holds position and place (name and e-mail come "
                                   "from the account)"]
    texts: dict[str, str] = {}
    for key in (*CLAIMS, *ASKED):
        value = submitted.get(key)
        if value is None:
            continue
        if not isinstance(value, str):
            errors[f"signer.{key}"] = ["A text"]
        elif len(value.strip()) > (254 if key == "email" else LIMIT):
            errors[f"signer.{key}"] = [f"At most {254 if key == 'email' else LIMIT} characters"]
        elif value.strip():
            texts[key] = value.strip()
    if on_record is not None:
        name, email = on_record
        whose = "the parent or guardian on record"
    else:
        assert user is not None
        name, email = user.name, user.email
        whose = "you, the signed-in person"
    if "name" in texts and not _same(texts["name"], name):
        errors["signer.name"] = [f"Not the signer: this signature is {whose} ({name}). A signature is never "
                                 "given in another person's name; leave the name out or sign in as that person"]
    if "email" in texts and not _same(texts["email"], email):
        errors["signer.email"] = [f"Not the signer's e-mail: this signature is {whose} ({email}); leave the "
                                  "e-mail out"]
    return {k: v for k, v in texts.items() if k in ASKED}


def _raise(errors: dict[str, list[str]]) -> None:
    if not errors:
        return
    if any(k in errors for k in ("signer.name", "signer.email")):
        raise Invalid("The signature names someone other than the signer", errors=errors)
    raise Invalid("The signature is not complete", errors=errors)


# --------------------------------------------------------------------------------------------------
# The prefill of signing tasks
# --------------------------------------------------------------------------------------------------


def prefill(context: ActionContext) -> dict[str, Any]:
    """A signing form starts with who signs: the reader, for the party the task is bound to (nothing
    for someone who cannot sign it; never what the process data holds from another party). Registered
    with :func:`engine.actions.prefill` by the task actions that sign."""
    return {"signer": form_values(context.session, context.actor, organisation_id=context.task.organisation_id,
                                  user_id=context.task.user_id)}
