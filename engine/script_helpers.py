"""The helper functions scripts call (spiff-arena's names), answered here from the database.

A script in an evaluator calls ``get_current_user()``; the evaluator asks this process, which runs the
registered function with the run's context (engine.scripting.running: session, instance, actor) and
hands back JSON. Each answers only about the instance the script belongs to: its initiator, the
person acting, the members of the organisations bound to it; never the directory at large.
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import select

from .config import settings
from .models import InstanceParty, Membership, ProcessInstance, User
from .scripting import HelperCall, helper


def _person(user: User | None) -> dict[str, Any] | None:
    if user is None:
        return None
    return {"id": user.id, "email": user.email, "name": user.name}


@helper("get_current_user")
def get_current_user(call: HelperCall) -> dict[str, Any] | None:
    """The person whose action runs the script (None when the worker runs it: a timer, a message)."""
    actor_id = call.context.get("actor_id")
    return _person(call.context["session"].get(User, actor_id)) if actor_id is not None else None


@helper("get_process_initiator_user")
def get_process_initiator_user(call: HelperCall) -> dict[str, Any] | None:
    """The person who started the instance (None for the platform)."""
    instance: ProcessInstance = call.context["instance"]
    started_by = instance.started_by
    return _person(call.context["session"].get(User, started_by)) if started_by is not None else None


@helper("get_group_members")
def get_group_members(call: HelperCall, group: Any) -> list[str]:
    """E-mails of the active members of an organisation bound to this instance, named by its role key
    or its id; a bound user's own e-mail for a role bound to one person. Anything else is refused."""
    instance: ProcessInstance = call.context["instance"]
    session = call.context["session"]
    party: InstanceParty | None = next(
        (p for p in instance.parties if group in (p.role, p.organisation_id) and group is not None), None)
    if party is None:
        raise LookupError(f"{group!r} is neither a role of this instance nor an organisation bound to it")
    if party.user_id is not None:
        user = session.get(User, party.user_id)
        return [user.email] if user is not None and user.is_active else []
    stmt = (select(User.email).join(Membership, Membership.user_id == User.id)
            .where(Membership.organisation_id == party.organisation_id, User.is_active.is_(True)).order_by(User.id))
    return list(session.scalars(stmt))


@helper("get_env")
def get_env(_call: HelperCall) -> str:
    """The environment's name (``ECVET_ENVIRONMENT``), so a script can behave differently in testing."""
    return settings().environment


@helper("get_toplevel_process_info")
def get_toplevel_process_info(call: HelperCall) -> dict[str, Any]:
    """The instance the script runs in: id, process key and version, business key."""
    instance: ProcessInstance = call.context["instance"]
    return {"process_instance_id": instance.id, "process_key": instance.process_key,
            "process_version": instance.definition.version, "business_key": instance.business_key}
