"""Every table of the domain, on the engine's metadata (:class:`engine.models.Base`), so one Alembic
history covers the engine and the domain: :func:`register_tables` imports each subpackage's models."""
from __future__ import annotations

import importlib

from engine.models import Base

MODEL_MODULES = (
    "ecvet.national_models.models",
    "ecvet.qualification.models",
    "ecvet.partnership.models",
    "ecvet.mobility.models",
    "ecvet.review.models",
    "ecvet.europass.models",
    "ecvet.subject_access.models",
    "ecvet.consent.models",
    "ecvet.retention.models",
    "ecvet.privacy.models",
)


def register_tables() -> None:
    """Import the models of every subpackage, so ``Base.metadata`` holds all the domain's tables."""
    for name in MODEL_MODULES:
        importlib.import_module(name)
    assert Base.metadata.tables, "the engine's metadata is empty"
