"""Every `@op` of every service is exercised by at least one test: its path (with any
value in place of each `{param}`) appears in a test module that calls its HTTP method,
or a test calls the service method directly."""
from __future__ import annotations

import re
from pathlib import Path

from deployments.registry import SPECS

TESTS = Path(__file__).resolve().parents[1]


def sources() -> list[str]:
    return [p.read_text() for p in TESTS.rglob("*.py") if p.name.startswith(("test_", "conftest"))
            or "factories" in p.parts]


def path_pattern(path: str) -> re.Pattern:
    parts = re.split(r"{\w+}", path)
    # A parameter is a literal, an f-string field or a concatenation ("..." + id + "...").
    param = r"""(?:\{[^}]*\}|[^/"'\s?{}]+|["']\s*\+[^+]+\+\s*f?["'])"""
    return re.compile(param.join(re.escape(p) for p in parts) + r"""(?=["'?/]|$|\{)""")


def exercised(op, fn, texts: list[str]) -> bool:
    pattern, verb = path_pattern(op.path), f".{op.method.lower()}("
    return any(verb in t and pattern.search(t) for t in texts)


def test_every_operation_is_exercised_by_a_test():
    texts = sources()
    missing = [f"{s.key}: {op.method} {op.path}" for s in SPECS for op, fn in s.ops if not exercised(op, fn, texts)]
    assert missing == []


def test_an_operation_no_test_calls_is_reported():
    from deployments.kit.spec import Op

    texts = sources()
    assert not exercised(Op("DELETE", "/users/{id}/settings", "unheard_of"), None, texts)
    assert exercised(Op("PUT", "/users/{id}/settings", "update_settings"), None, texts)
