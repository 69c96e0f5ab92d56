"""Contracts that keep the platform's pattern honest as services are added."""
from __future__ import annotations

import ast
import importlib
import inspect
import pickle
from pathlib import Path

import yaml

from deployments.registry import SPECS
from deployments.serve import serve_config
from p2p.errors import ProblemError, all_error_classes

ROOT = Path(__file__).resolve().parents[2]


def test_serve_config_yaml_is_the_registry():
    committed = yaml.safe_load((ROOT / "serve_config.yaml").read_text())
    assert committed == serve_config("full"), "run `p2p serve-config > serve_config.yaml`"


def test_every_service_has_its_own_app_and_prefix():
    apps = serve_config("full")["applications"]
    assert [a["name"] for a in apps] == [s.key for s in SPECS] + ["edge"]
    prefixes = [s.prefix for s in SPECS]
    assert len(set(prefixes)) == len(prefixes)


def test_operations_live_under_their_service_prefix():
    for spec in SPECS:
        for op_, _ in spec.ops:
            assert any(op_.path == p or op_.path.startswith(p + "/") for p in (spec.prefix, *spec.aliases)), (
                spec.key, op_.path)


def test_a_service_imports_only_its_own_storage_models():
    for spec in SPECS:
        module = importlib.import_module(spec.service.__module__)
        tree = ast.parse(Path(inspect.getfile(module)).read_text())
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            for name in names:
                if name.startswith("storage.models."):
                    owner = ".".join(name.split(".")[:3])
                    assert owner in (spec.models, "storage.models.events"), (
                        f"{spec.key} imports {name}; it owns only {spec.models}")


def test_every_table_has_one_owner():
    from storage.db import Base

    owners: dict[str, str] = {}
    for spec in SPECS:
        module = importlib.import_module(spec.models)
        for obj in vars(module).values():
            if inspect.isclass(obj) and issubclass(obj, Base) and obj is not Base and obj.__module__ == module.__name__:
                table = obj.__tablename__
                assert owners.setdefault(table, spec.key) == spec.key, f"{table} owned twice"


def _load_all_errors() -> list[type[ProblemError]]:
    for spec in SPECS:
        importlib.import_module(spec.service.__module__)
    return all_error_classes()


def test_every_error_round_trips_through_pickle():
    for cls in _load_all_errors():
        err = cls("message", {"k": 1})
        again = pickle.loads(pickle.dumps(err))
        assert type(again) is cls and again.message == "message" and again.data == {"k": 1}
        assert again.problem()["code"] == cls.code


def test_error_codes_are_unique():
    seen: dict[str, type] = {}
    for cls in _load_all_errors():
        if "code" in vars(cls):
            assert cls.code not in seen, f"{cls.__name__} and {seen[cls.code].__name__} share {cls.code}"
            seen[cls.code] = cls
            assert 400 <= cls.status <= 599


def test_operations_are_tagged_with_the_spec_names_and_documented():
    from deployments.edge import combined_openapi

    doc = combined_openapi()
    titles = {s.title for s in SPECS}
    for path, item in doc["paths"].items():
        for method, op in item.items():
            assert op["tags"][0] in titles, (method, path)
            assert op.get("description"), f"{method.upper()} {path} has no docstring"


def test_the_identity_endpoints_of_the_spec_are_all_served():
    import csv

    from deployments.edge import combined_openapi

    rows = [r for r in csv.DictReader((ROOT / "docs/endpoints.tsv").open(), delimiter="\t")
            if r["service"] in {"User Service", "Authentication Service", "Authorization Service"}]
    doc = combined_openapi()
    served = {(m.upper(), p, op["tags"][0]) for p, item in doc["paths"].items() for m, op in item.items()}
    missing = [(r["method"], r["path"]) for r in rows if (r["method"], r["path"], r["service"]) not in served]
    assert len(rows) == 16 and not missing, missing


def test_one_migration_head():
    from storage.migrate import heads

    assert len(heads()) == 1


def test_migrations_create_exactly_the_models(tmp_path):
    """`alembic check`: the migrated schema has no difference from the models."""
    from alembic import command

    from storage.migrate import alembic_config, upgrade

    url = f"sqlite:///{tmp_path / 'check.db'}"
    upgrade(url)
    command.check(alembic_config(url))


def test_the_readme_api_table_is_the_registry():
    from p2p.cli import api_table

    readme = (ROOT / "README.md").read_text()
    block = readme.split("<!-- api-table:start -->\n")[1].split("<!-- api-table:end -->")[0]
    assert block == api_table(), "regenerate with `p2p api-table`"


def test_the_readme_documents_every_setting():
    from p2p.settings import Settings

    readme = (ROOT / "README.md").read_text()
    missing = [f"P2P_{name.upper()}" for name in Settings.model_fields if f"`P2P_{name.upper()}`" not in readme]
    assert not missing, f"document in README.md: {missing}"


def test_the_bundled_swagger_ui_renders_our_openapi_version():
    """Swagger UI 4 shows 'Unable to render this definition' for OpenAPI 3.1 documents."""
    import re

    import swagger_ui_bundle

    from deployments.edge import combined_openapi

    major = int(re.search(r"swagger-ui-(\d+)", str(swagger_ui_bundle.swagger_ui_path)).group(1))
    assert combined_openapi()["openapi"].startswith("3.1") and major >= 5
