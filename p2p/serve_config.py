"""Render serve_config dicts as YAML."""
from __future__ import annotations

import yaml

HEADER = "# Generated from deployments/registry.py by `p2p serve-config`; a test keeps them equal.\n"


def dump(config: dict) -> str:
    return HEADER + yaml.safe_dump(config, sort_keys=False)
