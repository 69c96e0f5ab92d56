"""The platform's price arithmetic, in integer minor units, shared by every caller: the route
search prices legs with it, the Pricing Service quotes with it, the Tax, Promotion and
Cancellation services take their shares with it. No I/O.

Rounding rule (one for the whole platform): an exact result is computed with `Decimal` and
rounded once, half up (half away from zero), to the target currency's minor unit. A total
is the sum of its rounded lines, never a rounded sum of unrounded lines, so a quote's lines
always add up to its total to the minor unit.
"""
from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from p2p.money import exponent

ONE = Decimal(1)
SURGE_MAX = Decimal(5)


def round_minor(value: Decimal) -> int:
    """`value` (minor units, maybe fractional) rounded half up to a whole minor unit."""
    return int(value.to_integral_value(ROUND_HALF_UP))


def per_kg(weight_g: int, per_kg_minor: int, minimum_minor: int = 0) -> int:
    """A traveler's price for `weight_g`: per kg, rounded up to the minor unit (a traveler
    is never paid less than asked), at least the minimum."""
    return max(minimum_minor, -(-weight_g * per_kg_minor // 1000))


def bps(amount_minor: int, basis_points: int) -> int:
    """`basis_points` (1/100 of a percent) of an amount, rounded half up."""
    return round_minor(Decimal(amount_minor) * basis_points / 10_000)


def percent(amount_minor: int, rate_percent: Decimal | str) -> int:
    """`rate_percent` percent of an amount (a tax rate such as 9.975), rounded half up."""
    return round_minor(Decimal(amount_minor) * Decimal(rate_percent) / 100)


def convert(amount_minor: int, src: str, dst: str, rate: Decimal | str) -> int:
    """`amount_minor` of `src` in `dst`, where `rate` is major units of `dst` per major unit
    of `src` (1 EUR = 162.5 JPY: rate 162.5), rounded half up to `dst`'s minor unit (JPY has
    none, KWD three)."""
    if src == dst:
        return amount_minor
    shift = Decimal(10) ** (exponent(dst) - exponent(src))
    return round_minor(Decimal(amount_minor) * Decimal(rate) * shift)


def surged(amount_minor: int, multiplier: Decimal | str) -> int:
    """A local price under a surge multiplier (1 = none), rounded half up."""
    return round_minor(Decimal(amount_minor) * Decimal(multiplier))


def minor_to_major(amount_minor: int, currency: str) -> Decimal:
    """For display and PDF: 1234 EUR minor -> Decimal('12.34'); 1234 JPY -> Decimal('1234')."""
    return Decimal(amount_minor).scaleb(-exponent(currency))
