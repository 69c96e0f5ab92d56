"""The HS chapter table (data/hs_chapters.json) that declarations' HS codes are checked against."""
from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

DATA = Path(__file__).with_name("data")


@lru_cache
def hs_chapters() -> dict[str, str]:
    """The HS chapters an HS code may start with (01-97 without the reserved 77), and their titles."""
    return json.loads((DATA / "hs_chapters.json").read_text())["chapters"]
