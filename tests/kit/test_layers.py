"""The layers of ARCHITECTURE.md hold: the import-linter contracts in pyproject.toml are
kept (no upward import below the services, the kit never imports the roof, no import
cycle between sibling modules, type-checking imports included)."""
from __future__ import annotations

import ast
import os
from pathlib import Path

from importlinter.cli import lint_imports

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("p2p", "deployments", "actors", "routing", "storage", "risk_models")


def test_the_import_contracts_are_kept():
    cwd = os.getcwd()
    os.chdir(ROOT)
    try:
        assert lint_imports(no_cache=True) == 0, "run `lint-imports` to see the broken contract"
    finally:
        os.chdir(cwd)


def explained(lines: list[str], i: int) -> bool:
    """A comment on the import, or on the line above its block of imports (blank lines
    inside the block allowed)."""
    j = i
    while j > 0 and (lines[j - 1].strip().startswith(("from ", "import ")) or not lines[j - 1].strip()):
        j -= 1
    return any("#" in line for line in lines[j:i + 1]) or (j > 0 and lines[j - 1].strip().startswith("#"))


def function_level_imports() -> list[str]:
    """Imports inside functions, without a comment on the line or the one above saying why."""
    found = []
    for pkg in PACKAGES:
        for path in (ROOT / pkg).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            lines = path.read_text().splitlines()
            for node in ast.walk(ast.parse("\n".join(lines))):
                if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    for sub in ast.walk(node):
                        if isinstance(sub, (ast.Import, ast.ImportFrom)) and not explained(lines, sub.lineno - 1):
                            found.append(f"{path.relative_to(ROOT)}:{sub.lineno}: {lines[sub.lineno - 1].strip()}")
    return sorted(set(found))


def test_function_level_imports_say_why():
    assert function_level_imports() == []
