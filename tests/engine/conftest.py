"""Engine fixtures: an administrator, members of organisations (as real users), a pool of evaluators."""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from engine.db import Database
from engine.parties import Actor
from engine.sandbox.pool import EvaluatorPool, Limits
from tests.support.engine import actor_for
from tests.support.factories import make_org, make_user
from tests.support.monitoring import Scene, make_scene


@pytest.fixture
def admin(db: Database) -> Actor:
    return actor_for(db, make_user(db, is_admin=True).id)


@pytest.fixture
def member(db: Database) -> tuple[Actor, int]:
    """A user and the organisation they belong to."""
    org = make_org(db)
    return actor_for(db, make_user(db, organisation_ids=[org.id]).id), org.id


@pytest.fixture
def orgs(db: Database) -> dict[str, Any]:
    """A sending school and a hosting company with one member each, plus an outsider (of "other")."""
    sending, hosting, other = make_org(db), make_org(db), make_org(db)
    return {
        "sending": sending.id,
        "hosting": hosting.id,
        "other": other.id,
        "sender": actor_for(db, make_user(db, organisation_ids=[sending.id]).id),
        "host": actor_for(db, make_user(db, organisation_ids=[hosting.id]).id),
        "outsider": actor_for(db, make_user(db, organisation_ids=[other.id]).id),
    }


@pytest.fixture
def small_pool() -> Iterator[EvaluatorPool]:
    """A pool of its own (one evaluator, 256 MB), shut down after the test."""
    evaluators = EvaluatorPool(1, Limits(memory_mb=256))
    yield evaluators
    evaluators.shutdown()
    assert not evaluators.pids()


@pytest.fixture
def scene(db: Database, admin: Actor) -> Scene:
    """Two-lane instances: i1 at 'propose', i2 at 'review', i3 of other organisations, i4 completed."""
    return make_scene(db, admin)
