"""Money is integer minor units everywhere it moves: the money modules hold no float
literal, no true division, no float() and no round() (a test over their syntax trees), and
the shared rounding rules give whole minor units for 0-, 2- and 3-decimal currencies."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

from deployments.bookings.price import fee, trip_price
from p2p.money import exponent

ROOT = Path(__file__).resolve().parents[2]
MONEY = [p for pkg in ("accounting", "payments", "escrow", "payouts")
         for p in sorted((ROOT / "deployments" / pkg).glob("*.py"))] + [ROOT / "deployments/bookings/price.py"]


def floats_in(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        where = f"{path.name}:{getattr(node, 'lineno', '?')}"
        if isinstance(node, ast.Constant) and isinstance(node.value, float):
            found.append(f"{where} float literal {node.value}")
        elif isinstance(node, (ast.BinOp, ast.AugAssign)) and isinstance(node.op, ast.Div):
            found.append(f"{where} true division")
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("float", "round"):
            found.append(f"{where} {node.func.id}()")
        elif isinstance(node, ast.Name) and node.id == "float":
            found.append(f"{where} float type")
    return found


def test_the_money_modules_exist():
    assert len(MONEY) >= 8 and all(p.exists() for p in MONEY)


@pytest.mark.parametrize("path", MONEY, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_float_arithmetic_in_money_paths(path):
    assert floats_in(path) == []


def test_the_checker_finds_what_it_looks_for(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("x = 1.5\ny = 3 / 2\nz = round(y)\nw: float = 2\n")
    assert [f.split(" ", 1)[1] for f in floats_in(bad)] == ["float literal 1.5", "true division", "round()",
                                                             "float type"]


@pytest.mark.parametrize("currency, amount, bps, want", [
    ("JPY", 1234, 1000, 123), ("JPY", 5, 1000, 1), ("JPY", 4, 1000, 0),
    ("EUR", 1999, 1000, 200), ("EUR", 1995, 290, 58),
    ("KWD", 12345, 1000, 1235), ("KWD", 12344, 1000, 1234)])
def test_fees_round_half_up_to_whole_minor_units(currency, amount, bps, want):
    assert exponent(currency) in (0, 2, 3)
    got = fee(amount, bps)
    assert got == want and isinstance(got, int)


def test_a_trip_price_rounds_up_per_gram_and_keeps_the_minimum():
    assert trip_price(1500, 1000, 0) == 1500      # 1.5 kg at 10.00/kg
    assert trip_price(1, 1000, 0) == 1            # a gram costs a whole minor unit, never a fraction
    assert trip_price(200, 1000, 500) == 500      # the trip's minimum
    assert trip_price(2500, 333, 0) == 833        # 832.5 rounded up


def test_production_refuses_the_public_development_webhook_secret():
    from p2p.settings import Settings

    with pytest.raises(ValueError, match="P2P_PAYMENT_WEBHOOK_SECRET"):
        Settings(env="production")
    assert Settings(env="production", payment_webhook_secret="whsec_c2VjcmV0").env == "production"
