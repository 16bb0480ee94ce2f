"""Driving the engine in tests: deploy bytes straight through the service layer, act as real users."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from sqlalchemy.orm import Session

from engine import deployments, parties
from engine.config import ROOT
from engine.db import Database
from engine.parties import Actor

FORMS = ROOT / "forms"
T = TypeVar("T")


def deploy(db: Database, files: Mapping[str, bytes]) -> list[deployments.Deployed]:
    """Deploy files as the platform (no actor), forms resolved from the repository's forms/."""
    with db.transaction() as s:
        return deployments.deploy(s, actor=None, files=files, forms_dir=FORMS)


def actor_for(db: Database, user_id: int) -> Actor:
    """The Actor a signed-in user is, read from the database (memberships included)."""
    with db.transaction(write=False) as s:
        return Actor.of(parties.get_user(s, actor=Actor(user_id, "", is_admin=True), user_id=user_id))


def row(session: Session, model: type[T], key: Any) -> T:
    """The row of ``model`` with primary key ``key``, which the test knows exists."""
    found = session.get(model, key)
    assert found is not None, f"no {model.__name__} {key!r}"
    return found


def spec_of(task: Any) -> Any:
    """A SpiffWorkflow task's spec, with the BPMN attributes its base class does not declare (bpmn_id, lane)."""
    return task.task_spec
