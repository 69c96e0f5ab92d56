"""The test suite's own layout: test modules share code only through the factories package
(tests/factories/, one module per domain, each registered as a pytest plugin by
tests/conftest.py), never by importing another test module or `tests.conftest`."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parents[1]
ROOT = TESTS.parent
FACTORIES = TESTS / "factories"


def module_name(path: Path) -> str:
    return ".".join(path.relative_to(ROOT).with_suffix("").parts)


def is_module(name: str) -> bool:
    path = ROOT.joinpath(*name.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def imported_modules(source: str, module: str, *, is_package: bool = False) -> set[str]:
    """Every module `source` (the code of `module`) imports, anywhere in the file: `import
    a.b`, `from a import b` (as a.b too when b is a module of the repository), relative imports, and
    importlib.import_module / __import__ with a literal name."""
    package = module if is_package else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - (node.level - 1)] if package else []
                target = ".".join([*base, *([node.module] if node.module else [])])
            else:
                target = node.module or ""
            found.add(target)
            # `from pkg import name`: name is a module of the repository, or an attribute.
            found.update(sub for alias in node.names
                         if is_module(sub := f"{target}.{alias.name}" if target else alias.name))
        elif (isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant)
              and isinstance(node.args[0].value, str)
              and ((isinstance(node.func, ast.Attribute) and node.func.attr == "import_module")
                   or (isinstance(node.func, ast.Name) and node.func.id in ("import_module", "__import__")))):
            found.add(node.args[0].value)
    return {m for m in found if m}


def forbidden(name: str) -> bool:
    """A test module (`test_*`) or a conftest, at any depth."""
    return any(part.startswith("test_") or part == "conftest" for part in name.split("."))


def python_files() -> list[Path]:
    return sorted(p for p in TESTS.rglob("*.py") if "__pycache__" not in p.parts)


def test_no_module_under_tests_imports_a_test_module_or_a_conftest():
    """Shared code goes to tests/factories/<domain>.py; fixtures to a factories module (a
    plugin) or a conftest, which pytest loads itself."""
    offenders = []
    for path in python_files():
        mod = module_name(path)
        if mod.endswith(".__init__"):
            mod, is_package = mod.removesuffix(".__init__"), True
        else:
            is_package = False
        for name in sorted(imported_modules(path.read_text(), mod, is_package=is_package)):
            if forbidden(name):
                offenders.append(f"{path.relative_to(ROOT)} imports {name}")
    assert not offenders, "move what they share to tests/factories/:\n" + "\n".join(offenders)


def test_factories_live_in_the_package_only():
    strays = sorted(str(p.relative_to(ROOT)) for p in TESTS.glob("factories*.py"))
    assert not strays, f"move {strays} into tests/factories/<domain>.py"
    assert (FACTORIES / "__init__.py").is_file()


def test_every_module_under_tests_is_a_test_a_conftest_or_a_factory():
    """No helper modules scattered next to the tests (as kv_contract.py and
    routing/builders.py once were): they belong in tests/factories/."""
    strays = [str(p.relative_to(ROOT)) for p in python_files()
              if FACTORIES not in p.parents and p.name not in ("__init__.py", "conftest.py")
              and not p.name.startswith("test_")]
    assert not strays, f"move {strays} into tests/factories/<domain>.py"


def test_every_factories_module_is_a_registered_plugin(pytestconfig):
    modules = sorted(module_name(p) for p in FACTORIES.glob("*.py") if p.name != "__init__.py")
    assert modules
    missing = [m for m in modules if pytestconfig.pluginmanager.get_plugin(m) is None]
    assert not missing, f"add {missing} to pytest_plugins in tests/conftest.py"


@pytest.mark.parametrize(("source", "bad"), [
    ("from tests.deployments.test_trips import problem", True),
    ("from tests.conftest import POSTGRES_URL", True),
    ("import tests.conftest as c", True),
    ("from tests.routing import test_vrp", True),
    ("from . import test_trips", True),
    ("from .test_trips import problem", True),
    ("from ..conftest import REDIS_URL", True),
    ("def f():\n    from tests.routing.test_vrp import random_day", True),
    ("importlib.import_module('tests.deployments.test_trips')", True),
    ("from tests.factories.common import problem, REDIS_URL", False),
    ("from tests.factories import trips", False),
    ("from .helpers import thing", False),
    ("from routing import test_fn", False),
    ("import pytest\nfrom actors.capacity import TripFull", False),
])
def test_the_import_check_sees_what_it_should(source, bad):
    names = imported_modules(source, "tests.deployments.test_bookings")
    assert any(forbidden(n) for n in names) is bad, names
