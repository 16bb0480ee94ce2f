"""Engine fixtures: an administrator, a member of an organisation (as real users), a pool of evaluators."""
from __future__ import annotations

from collections.abc import Iterator

import pytest

from engine.db import Database
from engine.parties import Actor
from engine.sandbox.pool import EvaluatorPool, Limits
from tests.support.engine import actor_for
from tests.support.factories import make_org, make_user


@pytest.fixture
def admin(db: Database) -> Actor:
    return actor_for(db, make_user(db, is_admin=True).id)


@pytest.fixture
def member(db: Database) -> tuple[Actor, int]:
    """A user and the organisation they belong to."""
    org = make_org(db)
    return actor_for(db, make_user(db, organisation_ids=[org.id]).id), org.id


@pytest.fixture
def small_pool() -> Iterator[EvaluatorPool]:
    """A pool of its own (one evaluator, 256 MB), shut down after the test."""
    evaluators = EvaluatorPool(1, Limits(memory_mb=256))
    yield evaluators
    evaluators.shutdown()
    assert not evaluators.pids()
