"""The demo's multilateral partnership: a MoU of three partners (Köln sends, València hosts, Amsterdam
does both), each partner and competent institution approving in its own task."""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Protocol

from demo.cast import ORG_DETAILS, DemoOrganisation
from demo.steps import Step, StuckError, approve
from ecvet.partnership.models import Mou, MouStatus

#: The multilateral partnership of the demo (its business key and scenario name).
CONSORTIUM = "Partnership Köln – València – Amsterdam (cooks, consortium)"


class Seeder(Protocol):
    """What of the demo seeder (:class:`demo.seed._Seeder`) this scenario uses."""

    orgs: dict[str, int]

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
