"""The demo's multilateral partnership: a MoU of three partners (Köln sends, València hosts, Amsterdam
does both), each partner and competent institution approving in its own task."""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from demo.cast import ORG_DETAILS, DemoOrganisation
from demo.steps import Step, StuckError, approve
from ecvet.partnership import roles
from ecvet.partnership.models import Mou, MouStatus, Partnership
from engine.clock import FrozenClock
from engine.db import Database
from engine.parties import Actor

#: The multilateral partnership of the demo (its business key and scenario name).
CONSORTIUM = "Partnership Köln – València – Amsterdam (cooks, consortium)"


class Seeder(Protocol):
    """What of the demo seeder (:class:`demo.seed._Seeder`) this scenario uses."""

    orgs: dict[str, int]
    db: Database
    frozen: FrozenClock

    def actor(self, s: Session, key: str) -> Actor: ...
    def _start_partnership(self, business_key: str, hosting: str, began: datetime) -> str: ...
    def _partnership_steps(self, hosting: str, partner_country_text: str, file_code: str) -> list[Step]: ...
    def _drive(self, instance_id: str, began: datetime, steps: list[Step]) -> None: ...
    def _mou_of(self, instance_id: str) -> Mou: ...
    def _worker_at(self, moment: datetime) -> None: ...
    def _mou(self, hosting: str, file_code: str) -> dict[str, Any]: ...
    def _organisation(self, key: str) -> DemoOrganisation: ...
    def _contact(self, key: str) -> dict[str, str | None]: ...


def partnership(seeder: Seeder, n: datetime) -> None:
    """Started 50 days ago: the hotel, the college and the chamber approved, each in its own task, the
    Spanish authority by silence after its 20 days; the MoU is in force."""
    began = n - timedelta(days=50)
    file_code = f"MoU-KOELN-VALENCIA-AMSTERDAM-{began.year}"
    instance_id = seeder._start_partnership(CONSORTIUM, "hotel", began)
    steps = seeder._partnership_steps(
        "hotel", "Formación Profesional in the Comunitat Valenciana: the hotel trains apprentices of the Técnico "
                 "en Cocina y Gastronomía (FP Dual).", file_code)
    steps = [Step(s.bpmn_id, s.who, s.at, lambda _: mou(seeder, file_code)) if s.bpmn_id == "draft_mou" else s
             for s in steps]
    seeder._drive(instance_id, began, [
        *steps,
        Step("approve_hosting", "mentor", timedelta(days=4), approve),
        Step("approve_partner", "nl_coordinator", timedelta(days=5), approve),
        Step("approve_ci_home", "chamber_officer", timedelta(days=6), approve),
    ])
    if seeder._mou_of(instance_id).status != MouStatus.ACTIVE:
        seeder._worker_at(began + timedelta(days=22, hours=3))  # the Spanish objection period is over
    if (status := seeder._mou_of(instance_id).status) != MouStatus.ACTIVE:
        raise StuckError(f"its MoU is {status}")
    confirm_role_map(seeder, instance_id, began + timedelta(days=23))


#: Each party's confirmation of the role map: (person, within its jurisdiction, beyond it).
CONFIRMATIONS = (
    ("coordinator", "Validation of the units the learners achieve abroad (Berufskolleg Rhein, North Rhine-Westphalia)",
     "Recognition and the award of ECVET points lie with the IHK Köln"),
    ("mentor", "Assessment of the learners it hosts, in its kitchen in València",
     "Validation and recognition lie with the sending partner and its chamber"),
    ("nl_coordinator", "Every ECVET function for its own MBO learners (assessment, validation, recognition)", None),
    ("chamber_officer", "MoU approval, recognition and the award of credit for cooks in training in Köln",
     "Validation lies with the school"),
    ("regional_officer", "MoU and Learning Agreement approval in the Comunitat Valenciana",
     "Partners in other Spanish regions"),
)


def confirm_role_map(seeder: Seeder, instance_id: str, when: datetime) -> None:
    """Every partner and competent institution confirms the role map (what lies within its jurisdiction,
    what beyond); a party that confirmed it already is left alone."""
    for person, within, beyond in CONFIRMATIONS:
        seeder.frozen.set(when)
        with seeder.db.transaction() as s:
            partnership = s.scalar(select(Partnership).where(Partnership.instance_id == instance_id))
            role_map = roles.current(s, partnership.id) if partnership is not None else None
            actor = seeder.actor(s, person)
            if partnership is None or role_map is None:
                raise StuckError("its partnership has no role map")
            if any(c.organisation_id in actor.organisation_ids for c in roles.confirmations(s, role_map)):
                continue
            roles.confirm(s, actor=actor, partnership_id=partnership.id, role_map_id=role_map.id,
                          jurisdiction=within, beyond=beyond)
        when += timedelta(hours=2)


def mou(seeder: Seeder, file_code: str) -> dict[str, Any]:
    """The Köln–València MoU with the Dutch college as a third partner that both sends and hosts."""
    content = seeder._mou("hotel", file_code)
    college = seeder._organisation("college")
    content["signing_organisations"].append({
        "organisation_id": seeder.orgs["college"], "role": "both", "country": college.country,
        "name": college.name, "address": college.city, "website": college.website,
        "erasmus_oid": college.erasmus_oid, "pic": college.pic, **ORG_DETAILS["college"],
        "contact_person": seeder._contact("college")})
    content["objectives"]["other"] = ("A consortium of schools and companies: cooks in training of each partner "
                                      "spend three to twelve weeks in another partner's kitchen.")
    return content
