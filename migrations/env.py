"""Alembic environment: the URL comes from the caller's connection or from Settings."""
from __future__ import annotations

from alembic import context

from ecvet.models import register_tables
from engine.config import load_settings
from engine.db import make_engine
from engine.models import Base

register_tables()  # the domain's tables on the same metadata
config = context.config
target_metadata = Base.metadata


def run_migrations() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
        return
    url = config.get_main_option("sqlalchemy.url") or load_settings().database_url
    engine = make_engine(url)
    with engine.connect() as conn:
        context.configure(connection=conn, target_metadata=target_metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    raise SystemExit("Offline SQL generation is not supported; run `ecvet db upgrade`")
run_migrations()
