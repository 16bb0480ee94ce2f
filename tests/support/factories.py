"""Factories for parties, built through the engine's own services so hashing and audit stay real."""
from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any, cast

import factory

from engine import parties
from engine.db import Database
from engine.models import Organisation

_seq = itertools.count(1)
PASSWORD = "correct horse battery"


class OrganisationFactory(factory.Factory):
    """Organisation fields with traits for the usual ECVET parties."""

    class Meta:
        model = dict

    name = factory.Sequence(lambda n: f"Organisation {n}")
    country = "DE"
    erasmus_oid = None
    pic = None

    class Params:
        sending_school = factory.Trait(name=factory.Sequence(lambda n: f"Berufsschule {n}"), country="DE")
        hosting_company = factory.Trait(name=factory.Sequence(lambda n: f"Empresa {n}"), country="ES")
        with_ids = factory.Trait(
            erasmus_oid=factory.Sequence(lambda n: f"E{10000000 + n}"),
            pic=factory.Sequence(lambda n: f"{900000000 + n}"),
        )


@dataclass
class Person:
    id: int
    email: str
    password: str


def make_org(db: Database, **traits: object) -> Organisation:
    fields = cast("dict[str, Any]", OrganisationFactory(**traits))  # Meta.model is dict: it builds a dict
    with db.transaction() as s:
        org = parties.create_organisation(s, actor=None, **fields)
    return org


def make_user(db: Database, *, organisation_ids: list[int] | None = None, is_admin: bool = False,
              email: str | None = None, name: str | None = None, position: str | None = None,
              place: str | None = None) -> Person:
    """A user (named after their e-mail unless `name` is given) with an optional signing profile."""
    email = email or f"user{next(_seq)}@example.org"
    with db.transaction() as s:
        user = parties.create_user(s, actor=None, email=email, name=name or email.split("@")[0], password=PASSWORD,
                                   is_admin=is_admin, organisation_ids=organisation_ids or [], position=position,
                                   place=place)
    return Person(user.id, user.email, PASSWORD)
