"""Engine fixtures: deploy bytes straight through the service layer, act as real users."""
from __future__ import annotations

from collections.abc import Mapping

import pytest

from engine import deployments, parties
from engine.config import ROOT
from engine.db import Database
from engine.parties import Actor
from tests.factories import make_org, make_user

FORMS = ROOT / "forms"


def deploy(db: Database, files: Mapping[str, bytes]) -> list[deployments.Deployed]:
    with db.transaction() as s:
        return deployments.deploy(s, actor=None, files=files, forms_dir=FORMS)


def actor_for(db: Database, user_id: int) -> Actor:
    with db.transaction(write=False) as s:
        return Actor.of(parties.get_user(s, actor=Actor(user_id, "", is_admin=True), user_id=user_id))


@pytest.fixture
def admin(db: Database) -> Actor:
    return actor_for(db, make_user(db, is_admin=True).id)


@pytest.fixture
def member(db: Database) -> tuple[Actor, int]:
    """A user and the organisation they belong to."""
    org = make_org(db)
    return actor_for(db, make_user(db, organisation_ids=[org.id]).id), org.id
