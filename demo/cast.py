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
    # An intermediary organisation: places the group in València and signs its Learning Agreements.
    DemoOrganisation("agency", "EuroPraktikum Rheinland gGmbH", "DE", "E10000008", "900000008", "Köln",
                     "https://europraktikum.example", "DE-NW"),
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
    DemoPerson("intermediary", "placement@europraktikum.example", "Markus Brandt",
               "placement officer at the intermediary organisation", "agency",
               otherwise="Documents: the group's Learning Agreements (it sees only its mobilities)",
               tasks=("Sign the Learning Agreement as intermediary",) * 2, position="Placement officer"),
    DemoPerson("mia", "mia.schulz@learner.example", "Mia Schulz", "learner (cook), 18, in the group of class 2b",
               otherwise="Documents: her copy of the group's Learning Agreement, which she signed"),
    DemoPerson("ben", "ben.wagner@learner.example", "Ben Wagner", "learner (cook), 19, in the group of class 2b",
               otherwise="Documents: his copy of the group's Learning Agreement, which he signed"),
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


#: The Learning Agreement fields the school fills in for every learner (Erasmus+ 2021-27 VET template):
#: the project code, both contact persons, the qualification in the partnership language, the people
#: responsible for validation and recognition, the annexes.
LA_COMMON: dict[str, Any] = {
    "project_code": "2026-1-DE02-KA122-VET-000117",
    "contact_persons": {
        "sending": {"name": "Anna Schmidt", "position": "VET coordinator", "phone": "+49 221 555 0140",
                    "email": "coordinator@berufskolleg.example"},
        "hosting": {"name": "Javier Ruiz", "position": "Company mentor, head chef", "phone": "+34 96 555 0120",
                    "email": "mentor@hotelsol.example"}},
    "qualification_details": {"nqf_level": "4", "title_in_partnership_language": "Cocinero/a",
                              "partnership_language": "es"},
    "annexes": {"europass_cv": True, "language_passport": True, "units_already_acquired": True,
                "other": "Transcript of the units achieved at school"},
}
LA_RESPONSIBLE: list[dict[str, str]] = [
    {"name": "Anna Schmidt", "organisation": "Berufskolleg Rhein", "role": "VET coordinator",
     "function": "validation"},
    {"name": "Petra Wagner", "organisation": "IHK Köln", "role": "Training adviser", "function": "recognition"},
]
#: Per learner: Mobility ID (Beneficiary Module) and the contact the agreement states.
LA_LEARNERS: dict[str, dict[str, Any]] = {
    "lea": {"mobility_identifier": "MOB-2026-DE02-000311", "learner_contact": {
        "gender": "female", "address": "Aachener Straße 21, 50674 Köln", "phone": "+49 170 555 0311"}},
    "jonas": {"mobility_identifier": "MOB-2026-DE02-000312", "learner_contact": {
        "gender": "male", "address": "Venloer Straße 8, 50672 Köln", "phone": "+49 170 555 0312"}},
}
ASSESSMENT_CRITERIA = ("Dishes follow the recipe, the plate plan and the hygiene rules; the learner works to the "
                       "timing of the service")

#: What the MoU states of each signing organisation besides its registration: telephone and its area
#: of competence in its country (the European MoU template).
ORG_DETAILS: dict[str, dict[str, str]] = {
    "school": {"phone": "+49 221 555 0100", "competence": (
        "Vocational school of the dual system in North Rhine-Westphalia: trains cooks, assesses at school, "
        "validates units achieved abroad; the chamber awards and recognises")},
    "hotel": {"phone": "+34 96 555 0100", "competence": (
        "Training company: provides the learning activities and assesses the learners it hosts")},
    "college": {"phone": "+31 20 555 0100", "competence": (
        "MBO college: holds every ECVET function itself (assessment, validation, recognition, award)")},
}
#: The chamber is covered by the MoUs of Berufskolleg Rhein without signing them as a partner.
CHAMBER_COVERED: dict[str, Any] = {
    "role": "competent institution (home)", "country": "DE", "name": "IHK Köln", "phone": "+49 221 555 0300",
    "duties": "Approves the MoU, recognises the validated units and awards their ECVET points",
    "contact_person": {"name": "Petra Wagner", "position": "Ausbildungsberaterin",
                       "email": "officer@ihk-koeln.example"},
}
UNIT_DESCRIPTIONS = {
    "U1": "Cold kitchen: starters, salads and buffet platters, from mise en place to service",
    "U2": "Food safety in a professional kitchen: HACCP, temperature and cleaning logs",
    "U3": "Hot kitchen: basic cooking methods, stocks and sauces, dishes to order",
    "U4": "The pass between kitchen and restaurant: orders, timing, guests' requests",
}

#: The hotel's training units as its partner profile offers them (its own codes and words).
HOTEL_UNITS = [
    {"code": "HS-01", "title": "Cold kitchen: starters, salads and buffet", "learning_outcomes": [
        {"kind": "skills", "text": "Prepares cold starters, tapas and salads for the buffet"}]},
    {"code": "HS-02", "title": "Food safety and HACCP in the hotel kitchen", "learning_outcomes": [
        {"kind": "knowledge", "text": "Applies the HACCP plan and keeps the temperature logs"}]},
    {"code": "HS-05", "title": "Room service and banqueting", "learning_outcomes": [
        {"kind": "competence", "text": "Works with the service team at banquets"}]},
]
