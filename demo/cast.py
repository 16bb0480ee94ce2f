"""Who takes part in the demo and what they write: organisations in three countries, the registry of
competent institutions, a user per party (with the tasks a fresh seed leaves them), and the "Cook"
qualification with its units. :mod:`demo.seed` makes all of it through the platform's services."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ecvet.national_models.models import CompetenceFunction

# --------------------------------------------------------------------------------------------------
# Who takes part
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DemoOrganisation:
    key: str
    name: str
    country: str
    erasmus_oid: str
    pic: str
    city: str
    website: str
    region: str | None = None  # ISO 3166-2: what regional national models and registries go by


ORGANISATIONS = (
    # The sending school and the hosting hotel keep ids 1 and 2 on a fresh database (README's curl walk-through).
    DemoOrganisation("school", "Berufskolleg Rhein", "DE", "E10000001", "900000001", "Köln",
                     "https://berufskolleg-rhein.example", "DE-NW"),
    DemoOrganisation("hotel", "Hotel Sol de Valencia", "ES", "E10000002", "900000002", "València",
                     "https://hotelsol.example", "ES-VC"),
    DemoOrganisation("chamber", "IHK Köln", "DE", "E10000003", "900000003", "Köln",
                     "https://ihk-koeln.example", "DE-NW"),
    DemoOrganisation("college", "Horeca College Amstel", "NL", "E10000004", "900000004", "Amsterdam",
                     "https://horecacollege.example", "NL-NH"),
    DemoOrganisation("region", "Conselleria d'Educació (Valencia)", "ES", "E10000005", "900000005",
                     "València", "https://gva-educacio.example", "ES-VC"),
    # Supporting actors: information, guidance and funding; recorded in the registry, never approvers.
    DemoOrganisation("na_de", "Nationale Agentur Bildung für Europa beim BIBB", "DE", "E10000006", "900000006",
                     "Bonn", "https://na-bibb.example"),
    DemoOrganisation("na_es", "SEPIE (Servicio Español para la Internacionalización de la Educación)", "ES",
                     "E10000007", "900000007", "Madrid", "https://sepie.example"),
)

#: The registry of competent institutions: the national models say *whether* a function needs one,
#: the registry *which* organisation it is (DE: the chamber approves MoUs and recognises units; ES: the
#: regional authority of València approves MoUs and Learning Agreements of València only, implicitly),
#: and the supporting actors. (organisation, country, function, region or None for the whole country)
COMPETENCES: tuple[tuple[str, str, str, str | None], ...] = (
    ("chamber", "DE", CompetenceFunction.MOU_APPROVAL, None),
    ("chamber", "DE", CompetenceFunction.RECOGNITION, None),
    ("chamber", "DE", CompetenceFunction.AWARD_OF_CREDIT, None),
    ("region", "ES", CompetenceFunction.MOU_APPROVAL, "ES-VC"),
    ("region", "ES", CompetenceFunction.LA_APPROVAL, "ES-VC"),
    ("na_de", "DE", CompetenceFunction.NATIONAL_AGENCY, None),
    ("na_de", "DE", CompetenceFunction.NATIONAL_EUROPASS_CENTRE, None),
    ("na_es", "ES", CompetenceFunction.NATIONAL_AGENCY, None),
)


@dataclass(frozen=True)
class DemoPerson:
    key: str
    email: str
    name: str
    what: str
    organisation: str | None = None
    is_admin: bool = False
    #: What they can do when no task waits for them.
    otherwise: str = ""
    #: The tasks a fresh seed leaves in their inbox (tests/demo/test_seed.py holds the seed to it).
    tasks: tuple[str, ...] = ()
    #: The signing profile: the position they sign in (their place is their organisation's city).
    position: str | None = None


PEOPLE = (
    DemoPerson("admin", "admin@example.org", "Platform administrator", "process owner, sees everything",
               is_admin=True, otherwise="Dashboard, Process definitions, Start > Start an instance"),
    DemoPerson("coordinator", "coordinator@berufskolleg.example", "Anna Schmidt", "VET coordinator", "school",
               otherwise="Start > Nominate a learner or Start a partnership",
               tasks=("Prepare the Learning Agreement",), position="VET coordinator"),
    DemoPerson("mentor", "mentor@hotelsol.example", "Javier Ruiz", "company mentor", "hotel",
               otherwise="Documents: the MoU and the Learning Agreements", tasks=("Follow the learning activities",),
               position="Company mentor, head chef"),
    DemoPerson("nl_coordinator", "coordinator@horecacollege.example", "Sanne de Vries", "international coordinator",
               "college", otherwise="Documents: the MoU with Berufskolleg Rhein", tasks=("Approve the MoU",),
               position="International coordinator"),
    DemoPerson("chamber_officer", "officer@ihk-koeln.example", "Petra Wagner", "training adviser at the chamber",
               "chamber", otherwise="Documents: MoUs and Learning Agreements of Köln",
               tasks=("Approve the MoU",), position="Ausbildungsberaterin"),
    DemoPerson("regional_officer", "officer@gva-educacio.example", "Carmen López", "regional VET officer",
               "region",
               otherwise="Documents: the MoU Köln-València, approved by silence after 20 days",
               position="Técnica de formación profesional"),
    DemoPerson("jonas", "jonas.keller@learner.example", "Jonas Keller", "learner (cook), 20",
               otherwise="Documents: his Learning Agreement", tasks=("Sign your Learning Agreement",)),
    DemoPerson("lea", "lea.hoffmann@learner.example", "Lea Hoffmann", "learner (cook), 16, in València now",
               otherwise="Documents: her Learning Agreement; her mobility is live"),
    DemoPerson("guardian", "thomas.hoffmann@family.example", "Thomas Hoffmann", "Lea's father (signs for a minor)",
               otherwise="Documents: Lea's Learning Agreement, which he signed"),
    DemoPerson("elif", "elif.yilmaz@learner.example", "Elif Yılmaz", "learner (cook), 19",
               otherwise="nominated yesterday; she signs once the school has prepared her Learning Agreement"),
    DemoPerson("lukas", "lukas.becker@learner.example", "Lukas Becker", "learner (cook)",
               otherwise="not nominated yet; Anna Schmidt nominates him (Start > Nominate a learner)"),
)

# --------------------------------------------------------------------------------------------------
# The qualification, and the texts the parties write
# --------------------------------------------------------------------------------------------------

COOK_UNITS: list[dict[str, Any]] = [
    {"code": "U1", "title": "Preparing cold dishes and starters", "ecvet_points": 12, "eqf_level": 4,
     "learning_outcomes": [
         {"kind": "knowledge", "text": "Knows the hygiene rules for cold food and the critical control points of "
                                       "a cold kitchen"},
         {"kind": "skills", "text": "Prepares cold starters, salads and buffet platters following the recipe"},
         {"kind": "competence", "text": "Runs the garde-manger station alone during a service"}]},
    {"code": "U2", "title": "Hygiene and food safety (HACCP)", "ecvet_points": 4, "eqf_level": 4,
     "learning_outcomes": [
         {"kind": "knowledge", "text": "Knows the HACCP principles and the legal temperature limits"},
         {"kind": "skills", "text": "Keeps the temperature and cleaning logs of a kitchen"},
         {"kind": "competence", "text": "Stops the use of food that breaks the safety rules, on their own authority"}]},
    {"code": "U3", "title": "Preparing hot dishes", "ecvet_points": 12, "eqf_level": 4,
     "learning_outcomes": [
         {"kind": "knowledge", "text": "Knows the basic cooking methods and the stocks and sauces built on them"},
         {"kind": "skills", "text": "Cooks meat, fish and vegetable dishes to the order and the plate plan"},
         {"kind": "competence", "text": "Plans their mise en place for a service with the chef de partie"}]},
    {"code": "U4", "title": "Working with the service team", "ecvet_points": 6, "eqf_level": 4,
     "learning_outcomes": [
         {"kind": "knowledge", "text": "Knows how orders flow from the restaurant to the kitchen"},
         {"kind": "skills", "text": "Passes dishes at the pass in the order and timing the service asks"},
         {"kind": "competence", "text": "Solves guests' special requests together with the service staff"}]},
]

#: The contact person of each partner in profiles and MoUs: the member who signs for it.
CONTACTS = {"school": "coordinator", "hotel": "mentor", "college": "nl_coordinator"}

