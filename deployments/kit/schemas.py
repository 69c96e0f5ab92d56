"""Base schema, pages and cursors shared by every service."""
from __future__ import annotations

import base64
import json
from typing import Annotated, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from p2p.errors import BadRequest

T = TypeVar("T")
Limit = Annotated[int, Field(ge=1, le=100, description="Page size")]


class Schema(BaseModel):
    model_config = ConfigDict(from_attributes=True, extra="forbid", str_strip_whitespace=True)


class Page(BaseModel, Generic[T]):
    """One page of a list; pass `next_cursor` back as `cursor` for the next one."""

    items: list[T]
    next_cursor: str | None = None


def encode_cursor(values: list) -> str:
    return base64.urlsafe_b64encode(json.dumps(values, default=str).encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> list:
    try:
        pad = "=" * (-len(cursor) % 4)
        values = json.loads(base64.urlsafe_b64decode(cursor + pad))
        if not isinstance(values, list):
            raise ValueError
        return values
    except Exception:
        raise BadRequest("The cursor is not one this API issued.", code_hint="pagination.bad_cursor") from None
