"""Migrations are made per change: named after the service and the change, never an
empty slot, and importing no application code beyond the storage types."""
from __future__ import annotations

import ast
import re

import pytest

from storage.migrate import HERE, NothingToMigrate, revision

VERSIONS = sorted((HERE / "versions").glob("*.py"))


@pytest.mark.parametrize("path", VERSIONS, ids=lambda p: p.name)
def test_a_migration_is_named_and_does_something(path):
    assert re.fullmatch(r"\d{4}_[a-z0-9_]+\.py", path.name)
    tree = ast.parse(path.read_text())
    [upgrade] = [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "upgrade"]
    assert not all(isinstance(s, (ast.Pass, ast.Expr)) for s in upgrade.body), "an empty slot"


@pytest.mark.parametrize("path", VERSIONS, ids=lambda p: p.name)
def test_a_migration_imports_no_application_code(path):
    imported = {n.module if isinstance(n, ast.ImportFrom) else a.name
                for n in ast.walk(ast.parse(path.read_text())) if isinstance(n, (ast.Import, ast.ImportFrom))
                for a in getattr(n, "names", [])}
    assert {m.split(".")[0] for m in imported if m} <= {"__future__", "alembic", "sqlalchemy", "storage"}
    assert {m for m in imported if m and m.startswith("storage")} <= {"storage.db"}


def test_a_revision_with_nothing_changed_is_refused():
    before = sorted((HERE / "versions").glob("*.py"))
    with pytest.raises(NothingToMigrate):
        revision("trips", "nothing changed")
    assert sorted((HERE / "versions").glob("*.py")) == before
