"""Duties and taxes on a consignment, from the shipped tables: data/rates.json (dated rules
per destination) and data/fx.json (reference rates per EUR, XDR included). Pure: no
platform; a test builds `Tables` from dicts.

Rounding (also stated in rates.json): each HS line's value is converted to the destination
currency through EUR and rounded half-up to its minor unit; the consignment value is the
sum of its lines; each duty and tax amount is rounded half-up to the minor unit. De
minimis thresholds are "not exceeding": a value equal to the threshold is relieved.
"""
from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any, Sequence

from deployments.customs.errors import DestinationNotCovered, NoFxRate, NoRuleForDate
from deployments.customs.hs import DATA
from deployments.customs.schemas import ChargeOut, DutiesOut
from p2p.money import exponent


def half_up(value: Decimal) -> int:
    """To an integer (minor units), halves away from zero."""
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


@dataclass(frozen=True)
class Line:
    """One HS line of a consignment: its code (None: unknown) and value in the consignment's currency."""
    hs_code: str | None
    value_minor: int


@dataclass(frozen=True)
class Tables:
    rates: dict[str, Any]
    fx: dict[str, Any]

    @classmethod
    def load(cls, data_dir: Path = DATA) -> Tables:
        return cls(json.loads((data_dir / "rates.json").read_text()), json.loads((data_dir / "fx.json").read_text()))

    # -- currencies --------------------------------------------------------------------------
    def per_eur(self, currency: str) -> Decimal:
        rate = self.fx["rates"].get(currency)
        if rate is None:
            raise NoFxRate(f"The FX table has no rate for {currency}.", currency=currency, as_of=self.fx["as_of"])
        return Decimal(rate)

    def fx_rate(self, src: str, dst: str) -> Decimal:
        """Units of `dst` per unit of `src` (major units)."""
        return self.per_eur(dst) / self.per_eur(src)

    def convert(self, amount_minor: int, src: str, dst: str) -> int:
        if src == dst:
            return amount_minor
        major = Decimal(amount_minor) / Decimal(10) ** exponent(src)
        return half_up(major * self.fx_rate(src, dst) * Decimal(10) ** exponent(dst))

    # -- rules -------------------------------------------------------------------------------
    def region_of(self, country: str) -> tuple[str, dict[str, Any]]:
        dests = self.rates["destinations"]
        if country in dests:
            return country, dests[country]
        for key, d in dests.items():
            if country in d.get("countries", {}):
                return key, d
        raise DestinationNotCovered(f"The rates table does not cover {country}.", destination=country,
                                    covered=sorted(self.countries()))

    def countries(self) -> set[str]:
        out: set[str] = set()
        for key, d in self.rates["destinations"].items():
            out |= set(d.get("countries", {})) or {key}
        return out

    def rule(self, country: str, on: dt.date, origin: str | None = None) -> tuple[str, dict[str, Any], dict[str, Any]]:
        """(region, destination entry, the rule valid on `on` with any origin override merged)."""
        region, dest = self.region_of(country)
        for r in dest["rules"]:
            start, end = dt.date.fromisoformat(r["valid_from"]), r["valid_to"] and dt.date.fromisoformat(r["valid_to"])
            if start <= on and (not end or on <= end):
                return region, dest, _with_override(r, origin)
        raise NoRuleForDate(f"No rule for {country} is valid on {on.isoformat()}.", destination=country,
                            date=on.isoformat())


def _with_override(rule: dict[str, Any], origin: str | None) -> dict[str, Any]:
    over = (rule.get("origin_overrides") or {}).get(origin or "")
    if not over:
        return rule
    merged = {**rule, "id": f"{rule['id']}:{over.get('basis', origin)}"}
    for part in ("duty", "tax"):
        if part in over and rule.get(part):
            merged[part] = {**rule[part], **over[part]}
    return merged


@lru_cache
def shipped() -> Tables:
    return Tables.load()


def _grouped(lines: Sequence[Line]) -> dict[str | None, int]:
    out: dict[str | None, int] = {}
    for ln in lines:
        out[ln.hs_code] = out.get(ln.hs_code, 0) + ln.value_minor
    return out


def money_text(minor: int, currency: str) -> str:
    e = exponent(currency)
    return f"{Decimal(minor) / Decimal(10) ** e:.{e}f} {currency}"


def quote(tables: Tables, *, destination: str, currency: str, lines: Sequence[Line], on: dt.date,
          origin: str | None = None, hs_lines: int | None = None) -> DutiesOut:
    """Duties and taxes of a consignment of `lines` (values in `currency`) entering
    `destination` on `on`. `hs_lines` overrides the count of distinct HS codes (for the
    flat per-line duty) when a caller quotes a total rather than its lines."""
    region, dest, rule = tables.rule(destination, on, origin)
    cur = dest["currency"]
    by_hs = {hs: tables.convert(v, currency, cur) for hs, v in _grouped(lines).items()}
    value = sum(by_hs.values())
    charges = _duty(rule, by_hs, value, cur, hs_lines)
    duty_total = sum(c.amount_minor for c in charges)
    duty = rule["duty"]
    flat = rule.get("flat_duty")
    flat_applied = flat is not None and value <= flat["max_value_minor"]
    dm = duty.get("de_minimis_minor")
    tax_charges, tax_rate, tax_relieved = _tax(rule, dest, destination, value, duty_total, cur)
    tax_total = sum(c.amount_minor for c in tax_charges)
    return DutiesOut(
        destination=destination, region=region, date=on, rule=rule["id"],
        rule_valid_from=dt.date.fromisoformat(rule["valid_from"]),
        rule_valid_to=dt.date.fromisoformat(rule["valid_to"]) if rule["valid_to"] else None, basis=rule["basis"],
        currency=cur, declared_currency=currency, declared_value_minor=sum(ln.value_minor for ln in lines),
        fx_rate=str(tables.fx_rate(currency, cur).quantize(Decimal("0.000001"))), value_minor=value,
        duty_rate=duty["rate"], duty_de_minimis_minor=dm,
        duty_de_minimis_applied=not flat_applied and dm is not None and value <= dm, flat_duty_applied=flat_applied,
        tax_name=rule["tax"]["name"] if rule.get("tax") else None, tax_rate=tax_rate,
        tax_de_minimis_minor=rule["tax"].get("de_minimis_minor") if rule.get("tax") else None,
        tax_de_minimis_applied=tax_relieved, duty_minor=duty_total, tax_minor=tax_total,
        total_minor=duty_total + tax_total, charges=[*charges, *tax_charges],
        source=tables.rates["source"], as_of=tables.rates["as_of"], fx_source=tables.fx["source"],
        fx_as_of=tables.fx["as_of"], rounding=tables.rates["rounding"])


def _duty(rule: dict[str, Any], by_hs: dict[str | None, int], value: int, cur: str,
          hs_lines: int | None) -> list[ChargeOut]:
    duty, flat = rule["duty"], rule.get("flat_duty")
    if flat and value <= flat["max_value_minor"]:
        n = hs_lines or len(by_hs) or 1
        each = flat["per_line_minor"]
        return [ChargeOut(kind="flat_duty", description=f"Flat customs duty: {n} HS line(s) x {money_text(each, cur)}",
                          hs_code=None, base_minor=value, rate=None, amount_minor=each * n)]
    dm = duty.get("de_minimis_minor")
    if dm is not None and value <= dm:
        return []
    out = []
    for hs, base in by_hs.items():
        rate = Decimal(duty.get("chapters", {}).get((hs or "")[:2], duty["rate"]))
        out.append(ChargeOut(kind="duty", description=f"Customs duty on HS {hs or 'unclassified'}", hs_code=hs,
                             base_minor=base, rate=str(rate), amount_minor=half_up(base * rate)))
    return out


def _tax(rule: dict[str, Any], dest: dict[str, Any], country: str, value: int, duty: int,
         cur: str) -> tuple[list[ChargeOut], str | None, bool]:
    tax = rule.get("tax")
    if not tax:
        return [], None, False
    rate = Decimal(dest["countries"][country] if tax["rate"] == "country" else tax["rate"])
    dm = tax.get("de_minimis_minor")
    if dm is not None and value <= dm:
        return [], str(rate), True
    base = value + duty if tax.get("base") == "value_plus_duty" else value
    charge = ChargeOut(kind="tax", description=f"{tax['name']} {(rate * 100).normalize():f}% ({country})",
                       hs_code=None, base_minor=base, rate=str(rate), amount_minor=half_up(base * rate))
    return [charge], str(rate), False


def sdr_value(tables: Tables, amount_minor: int, currency: str) -> int:
    """The amount in XDR minor units (the CN22/CN23 threshold is 300 SDR)."""
    return tables.convert(amount_minor, currency, "XDR")
