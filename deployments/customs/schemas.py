"""Customs Service schemas: a declaration's items as the sender gives them, the stored
declaration, and a duties quote."""
from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Literal

from pydantic import AfterValidator, Field

from deployments.customs.hs import hs_chapters
from deployments.kit import Schema
from p2p.money import CountryCode, Currency

MAX_ITEMS = 100
ContentType = Literal["documents", "gift", "sample", "merchandise", "returned_goods", "other"]
Incoterm = Literal["DAP", "DDP"]
Form = Literal["CN22", "CN23"]


def known_chapter(code: str) -> str:
    if code[:2] not in hs_chapters():
        raise ValueError(f"HS chapter {code[:2]} is not in the HS chapter table (01-97, 77 reserved)")
    return code


HsCode = Annotated[str, Field(pattern=r"^[0-9]{6,10}$", description="HS code, 6-10 digits"),
                   AfterValidator(known_chapter)]


class ItemIn(Schema):
    description: str = Field(min_length=1, max_length=200)
    quantity: int = Field(ge=1, le=100_000)
    unit_value_minor: int = Field(ge=0, description="Value of one unit, in minor units of `currency`")
    currency: Currency
    net_weight_g: int = Field(gt=0, le=1_000_000, description="Net weight of the line (all units), grams")
    hs_code: HsCode
    origin_country: CountryCode


class DeclarationBody(Schema):
    content_type: ContentType
    incoterm: Incoterm
    items: list[ItemIn] = Field(min_length=1, max_length=MAX_ITEMS)


class DeclarationCreate(DeclarationBody):
    shipment_id: uuid.UUID


class DeclarationUpdate(DeclarationBody):
    """Replaces the items, content type and incoterm."""


class ItemOut(Schema):
    description: str
    quantity: int
    unit_value_minor: int
    value_minor: int
    currency: str
    net_weight_g: int
    hs_code: str
    origin_country: str


class ChargeOut(Schema):
    kind: Literal["duty", "flat_duty", "tax"]
    description: str
    hs_code: str | None
    base_minor: int
    rate: str | None
    amount_minor: int


class DutiesOut(Schema):
    """A duties and taxes quote: amounts in `currency`, the destination's; the rule that
    applied, its dates and the tables' sources."""
    destination: str
    region: str
    date: dt.date
    rule: str
    rule_valid_from: dt.date
    rule_valid_to: dt.date | None
    basis: str
    currency: str
    declared_currency: str
    declared_value_minor: int
    fx_rate: str
    value_minor: int
    duty_rate: str
    duty_de_minimis_minor: int | None
    duty_de_minimis_applied: bool
    flat_duty_applied: bool
    tax_name: str | None
    tax_rate: str | None
    tax_de_minimis_minor: int | None
    tax_de_minimis_applied: bool
    duty_minor: int
    tax_minor: int
    total_minor: int
    charges: list[ChargeOut]
    source: str
    as_of: str
    fx_source: str
    fx_as_of: str
    rounding: str


class DeclarationOut(Schema):
    id: uuid.UUID
    shipment_id: uuid.UUID
    sender_id: uuid.UUID
    content_type: ContentType
    incoterm: Incoterm
    items: list[ItemOut]
    currency: str
    total_minor: int
    form: Form
    duties: DutiesOut | None
    version: int
    created_at: dt.datetime
    updated_at: dt.datetime
