"""Demo data for `make run`: an admin and one organisation per party, so a newcomer can act at once."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from . import parties
from .models import Organisation, User

DEMO_PASSWORD = "ecvet-demo-2026"


@dataclass(frozen=True)
class DemoLogin:
    email: str
    password: str
    what: str


ORGANISATIONS = [
    # name, country, Erasmus+ OID, PIC
    ("Berufskolleg Rhein (sending school)", "DE", "E10000001", "900000001"),
    ("Hotel Sol de Valencia (hosting company)", "ES", "E10000002", "900000002"),
    ("Bezirksregierung Köln (competent institution)", "DE", "E10000003", "900000003"),
]

PEOPLE = [
    ("admin@example.org", "Platform administrator", True, None),
    ("coordinator@berufskolleg.example", "Anna Schmidt, VET coordinator", False, 0),
    ("mentor@hotelsol.example", "Javier Ruiz, company mentor", False, 1),
    ("officer@bezreg.example", "Petra Wagner, competent-institution officer", False, 2),
]


def seed(session: Session) -> list[DemoLogin]:
    """Create the demo parties if missing; safe to run on every start."""
    org_ids: list[int] = []
    for name, country, oid, pic in ORGANISATIONS:
        org = session.scalar(select(Organisation).where(Organisation.erasmus_oid == oid))
        if org is None:
            org = parties.create_organisation(session, actor=None, name=name, country=country,
                                              erasmus_oid=oid, pic=pic)
        org_ids.append(org.id)
    logins: list[DemoLogin] = []
    for email, name, is_admin, org_index in PEOPLE:
        if session.scalar(select(User.id).where(User.email == email)) is None:
            parties.create_user(
                session, actor=None, email=email, name=name, password=DEMO_PASSWORD, is_admin=is_admin,
                organisation_ids=[org_ids[org_index]] if org_index is not None else [],
            )
        logins.append(DemoLogin(email, DEMO_PASSWORD, name))
    return logins
