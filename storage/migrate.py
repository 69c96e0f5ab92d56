"""Alembic, driven from code: `p2p db upgrade` and the platform's start call `upgrade()`.

Two steps: the schema migrations, then the data step (`storage.gazetteer.seed`), which loads
the reference gazetteer when it is missing or the shipped data changed."""
from __future__ import annotations

import re
import tempfile
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, pool
from sqlalchemy.engine import make_url

from storage.db import sync_url
from storage.gazetteer import seed

HERE = Path(__file__).resolve().parent / "migrations"


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(HERE))
    cfg.set_main_option("sqlalchemy.url", sync_url(url).replace("%", "%%"))
    return cfg


def upgrade(url: str, revision: str = "heads") -> None:
    if url.startswith("sqlite"):
        db = make_url(url).database
        if db and db != ":memory:":
            Path(db).parent.mkdir(parents=True, exist_ok=True)
    command.upgrade(alembic_config(url), revision)
    seed_reference_data(url)


def seed_reference_data(url: str) -> bool:
    """The data step: reference rows, only on a database at head (they are written through the
    current models). Cheap when they are loaded already; True when it (re)loaded them."""
    engine = create_engine(sync_url(url), poolclass=pool.NullPool)
    try:
        with engine.connect() as conn:
            if set(MigrationContext.configure(conn).get_current_heads()) != set(heads(url)):
                return False
            return seed(conn)
    finally:
        engine.dispose()


def heads(url: str = "sqlite://") -> list[str]:
    return list(ScriptDirectory.from_config(alembic_config(url)).get_heads())


class NothingToMigrate(RuntimeError):
    """The models equal the migrations: a revision would be an empty slot."""


def revision(service: str, change: str, *, url: str | None = None) -> Path:
    """Autogenerate the next migration from the models, named after the service and the
    change (`0005_reviews_add_reviews.py`), against a scratch database at head. Refuses to
    write an empty one."""
    if not re.fullmatch(r"[a-z][a-z0-9_]*", service):
        raise ValueError("the service is its registry key, e.g. bookings")
    with tempfile.TemporaryDirectory() as tmp:
        scratch = url or f"sqlite:///{tmp}/scratch.db"
        command.upgrade(alembic_config(scratch), "head")
        numbers = [int(p.name[:4]) for p in (HERE / "versions").glob("[0-9][0-9][0-9][0-9]_*.py")]
        rev_id = f"{max(numbers, default=0) + 1:04d}"

        def refuse_empty(context, revision, directives) -> None:
            if directives[0].upgrade_ops.is_empty():
                directives[:] = []
                raise NothingToMigrate("The models equal the migrations; nothing to generate.")

        command.revision(alembic_config(scratch), message=f"{service} {change}", autogenerate=True, rev_id=rev_id,
                         process_revision_directives=refuse_empty)
    [path] = (HERE / "versions").glob(f"{rev_id}_*.py")
    return path
