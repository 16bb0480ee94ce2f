"""Engine fixtures: an administrator, and a member of an organisation (as real users)."""
from __future__ import annotations

import pytest

from engine.db import Database
from engine.parties import Actor
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
