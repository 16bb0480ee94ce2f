"""ecvet.models: every table of the domain is on the engine's metadata, exactly as the migrations made it.

The domain's models live in one module per subpackage; Alembic sees them through
:func:`ecvet.models.register_tables` (migrations/env.py). Autogenerate comparing that metadata with a
freshly migrated database must find nothing to do, on both backends: a model moved to another module
and forgotten, or a column that drifted from its migration, fails here.
"""
from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from ecvet.models import MODEL_MODULES, register_tables
from engine.db import Database
from engine.models import Base

DOMAIN_TABLES = {
    "organisation_competences", "qualifications", "units", "learning_outcomes", "mous", "mou_versions",
    "mou_approvals", "partnerships", "attachment_blobs", "attachments", "attachment_references",
    "partner_profiles", "role_maps", "role_map_entries", "role_map_confirmations", "learners", "mobilities",
    "mobility_status_changes",
    "learning_agreements", "la_versions", "la_signatures", "assessment_records", "assessment_acknowledgements",
    "personal_transcripts", "validation_decisions", "recognition_decisions", "credit_awards",
    "practical_implications", "organisation_keys", "reviews", "evaluations", "action_plans", "action_plan_items",
    "europass_mobilities", "europass_signatures", "letterheads",
    "personal_data_reads",
    "privacy_acknowledgements", "guardian_hand_overs", "evaluation_visibility_policies",
    "retention_policies", "evidence_purges",
    "erasure_requests", "append_only_unlocks",
}


def test_every_domain_table_is_on_the_engines_metadata() -> None:
    register_tables()
    assert DOMAIN_TABLES <= set(Base.metadata.tables)
    modules = {mapper.class_.__module__ for mapper in Base.registry.mappers
               if str(getattr(mapper.local_table, "name", "")) in DOMAIN_TABLES}
    assert modules == set(MODEL_MODULES), "each subpackage's tables are in its models.py"


def test_the_migrated_schema_matches_the_models(db: Database) -> None:
    register_tables()
    with db.engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert differences == []
