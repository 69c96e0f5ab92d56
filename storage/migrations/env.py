"""Alembic environment: runs synchronously on the URL given by `storage.migrate`."""
from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine, pool

import storage.models  # noqa: F401  (registers every table)
from storage.db import Base, sync_url

config = context.config
url = sync_url(config.get_main_option("sqlalchemy.url"))


def run() -> None:
    if context.is_offline_mode():
        context.configure(url=url, target_metadata=Base.metadata, literal_binds=True, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = create_engine(url, poolclass=pool.NullPool)
    with engine.connect() as conn:
        context.configure(connection=conn, target_metadata=Base.metadata, render_as_batch=True,
                          compare_type=True)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


run()
