"""Guardrails in the test run: ruff (with a complexity limit) over the project, and mypy
on the kit, storage, actors and the cross-cutting core (configured in pyproject.toml)."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True, timeout=600)


def test_ruff_finds_nothing():
    done = run("ruff", "check", "--output-format", "concise", ".")
    assert done.returncode == 0, done.stdout + done.stderr


def test_mypy_finds_nothing_in_the_kit_storage_actors_and_core():
    done = run("mypy")
    assert done.returncode == 0, done.stdout + done.stderr
