"""Alembic environment: runs synchronously on the URL given by `storage.migrate`."""
from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine, pool

from storage.db import sync_url
from storage.gazetteer import MARKER_TABLE
from storage.models import load_all

config = context.config
url = sync_url(config.get_main_option("sqlalchemy.url"))
target_metadata = load_all()  # every model module, found by discovery


def include_name(name, type_, parent_names) -> bool:
    """The data step's bookkeeping table is not a model (like alembic_version)."""
    return not (type_ == "table" and name == MARKER_TABLE)


def run() -> None:
    if context.is_offline_mode():
        context.configure(url=url, target_metadata=target_metadata, literal_binds=True, render_as_batch=True,
                          include_name=include_name)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = create_engine(url, poolclass=pool.NullPool)
    with engine.connect() as conn:
        context.configure(connection=conn, target_metadata=target_metadata, render_as_batch=True,
                          compare_type=True, include_name=include_name)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


run()
