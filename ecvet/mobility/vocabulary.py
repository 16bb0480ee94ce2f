"""The words of mobility records: statuses, parties, methods, results, outcomes, kinds. Plain constants that
the tables' CHECK constraints, the services, the forms and the documents share (:mod:`ecvet.mobility.models`
imports them for its constraints)."""
from __future__ import annotations


class MobilityStatus:
    NOMINATION = "nomination"
    LIVE = "live"
    RECOGNIZED = "recognized"
    CANCELLED = "cancelled"
    ALL = (NOMINATION, LIVE, RECOGNIZED, CANCELLED)


class LaStatus:
    """Derived from the signatures that count for the current version (see ecvet.mobility.learning_agreement).

    ``signed``: every party (learner, guardian of a minor, sending, hosting) signed the current text;
    ``approved``: in addition the competent institution the national model requires approved it.
    ``deleted`` is a soft delete: versions and signatures are evidence and are never removed.
    """

    DRAFT = "draft"
    SIGNING = "signing"
    SIGNED = "signed"
    APPROVED = "approved"
    DELETED = "deleted"
    ALL = (DRAFT, SIGNING, SIGNED, APPROVED, DELETED)


class LaParty:
    """Who signs a Learning Agreement, in the order they sign (EWP: learner, sending, receiving)."""

    LEARNER = "learner"
    GUARDIAN = "guardian"
    SENDING = "sending"
    INTERMEDIARY = "intermediary"  # where the mobility has one: it signs after the sending organisation
    HOSTING = "hosting"
    HOSTING_PERIOD_2 = "hosting_period_2"  # the hosts of later periods sign after the first host
    HOSTING_PERIOD_3 = "hosting_period_3"
    COMPETENT_INSTITUTION = "competent_institution"
    ALL = (LEARNER, GUARDIAN, SENDING, HOSTING, COMPETENT_INSTITUTION, INTERMEDIARY, HOSTING_PERIOD_2,
           HOSTING_PERIOD_3)


class LaChange:
    ADDED = "added"
    REMOVED = "removed"
    REPLACED = "replaced"  # a part of the text other than units (e.g. the assessment arrangements)
    ALL = (ADDED, REMOVED, REPLACED)


class AssessmentMethod:
    """How a unit was assessed (the assessment sheet's methods)."""

    OBSERVATION = "observation"
    PRACTICAL_TASK = "practical_task"
    PORTFOLIO = "portfolio"
    INTERVIEW = "interview"
    TEST = "test"
    ALL = (OBSERVATION, PRACTICAL_TASK, PORTFOLIO, INTERVIEW, TEST)


class AssessmentResult:
    """Achieved or not; a grade, where the host's system gives one, is kept next to it."""

    ACHIEVED = "achieved"
    NOT_ACHIEVED = "not_achieved"
    ALL = (ACHIEVED, NOT_ACHIEVED)


class ValidationOutcome:
    """The sending organisation's decision per unit after comparing the transcript with the LA."""

    VALIDATED = "validated"
    PARTLY = "partly_validated"
    NOT_VALIDATED = "not_validated"
    ALL = (VALIDATED, PARTLY, NOT_VALIDATED)


class Recogniser:
    """Who recognises, as the national model says (``recognition_by``)."""

    SENDING = "sending"
    COMPETENT_INSTITUTION = "competent_institution"
    ALL = (SENDING, COMPETENT_INSTITUTION)


class ImplicationKind:
    """Practical implications agreed beforehand and applied after recognition (the seeds' checklist)."""

    EXEMPTED_ACTIVITY = "exempted_activity"
    NO_RETAKE = "no_retake"
    EXTRA_CREDITS = "extra_credits"
    OTHER = "other"
    ALL = (EXEMPTED_ACTIVITY, NO_RETAKE, EXTRA_CREDITS, OTHER)


#: Age from which a learner signs alone; a minor's parent or guardian signs too.
ADULT_AGE = 18
