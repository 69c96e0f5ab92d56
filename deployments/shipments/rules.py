"""The rules a shipment keeps that need no database: public tracking numbers with a check
character, the prohibited-items list, and the order of shipment statuses.

Tracking numbers are `P2P` + 9 symbols of Crockford's base32 alphabet (0-9, A-Z without
I, L, O, U) + 1 check symbol: Crockford's own mod-37 check (the 9 symbols read as a
base-32 number, modulo 37, written in the 37-symbol alphabet `0-9 A-Z(-ILOU) * ~ $ = U`).
37 is prime and no power of 32 is a multiple of it, so every single-symbol substitution
and every transposition of two adjacent symbols changes the check symbol."""
from __future__ import annotations

import json
import re
import secrets
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CHECK_SYMBOLS = CROCKFORD + "*~$=U"
PREFIX = "P2P"
BODY_LEN = 9
TRACKING_LEN = len(PREFIX) + BODY_LEN + 1
SHIPPED_RULES = Path(__file__).with_name("data") / "prohibited.json"


# -- tracking numbers ----------------------------------------------------------------------
def check_symbol(body: str) -> str:
    """Crockford's mod-37 check symbol of a base32 `body`."""
    value = 0
    for ch in body:
        value = value * 32 + CROCKFORD.index(ch)
    return CHECK_SYMBOLS[value % 37]


def new_tracking_number() -> str:
    """A random tracking number: P2P, 9 random base32 symbols, their check symbol."""
    body = "".join(secrets.choice(CROCKFORD) for _ in range(BODY_LEN))
    return PREFIX + body + check_symbol(body)


def normalize_tracking_number(number: str) -> str | None:
    """The canonical form of a typed tracking number (upper case, no spaces or dashes), or
    None when it is malformed or its check symbol does not match."""
    text = re.sub(r"[\s-]", "", number or "").upper()
    if len(text) != TRACKING_LEN or not text.startswith(PREFIX):
        return None
    body, check = text[len(PREFIX):-1], text[-1]
    if any(ch not in CROCKFORD for ch in body):
        return None
    return text if check_symbol(body) == check else None


def valid_tracking_number(number: str) -> bool:
    return normalize_tracking_number(number) is not None


# -- prohibited items --------------------------------------------------------------------------
@dataclass(frozen=True)
class Rule:
    id: str
    category: str | None
    keywords: tuple[str, ...]
    reason: str
    pattern: re.Pattern


@dataclass(frozen=True)
class Hit:
    rule: str
    keyword: str
    reason: str
    where: dict


@lru_cache(maxsize=8)
def load_rules(path: str | None = None) -> tuple[Rule, ...]:
    """The prohibited-item rules of `path` (None: the shipped list), compiled once."""
    data = json.loads(Path(path or SHIPPED_RULES).read_text())
    rules = []
    for r in data["rules"]:
        words = tuple(k.lower() for k in r["keywords"])
        alt = "|".join(re.escape(w).replace(r"\ ", r"\s+") for w in sorted(words, key=len, reverse=True))
        rules.append(Rule(r["id"], r.get("category"), words, r["reason"],
                          re.compile(rf"(?<!\w)({alt})(?!\w)", re.IGNORECASE)))
    return tuple(rules)


def _match(rules: tuple[Rule, ...], text: str | None, category: str | None, where: dict) -> Hit | None:
    if not text:
        return None
    for rule in rules:
        if rule.category is not None and rule.category != category:
            continue
        m = rule.pattern.search(text)
        if m:
            return Hit(rule.id, re.sub(r"\s+", " ", m.group(1).lower()), rule.reason, where)
    return None


def find_prohibited(rules: tuple[Rule, ...], description: str | None, packages: list,
                    first_index: int = 0) -> Hit | None:
    """The first prohibited keyword in the shipment's description, a package's description
    or an item's (word boundaries, any case); a rule with a category applies only to
    packages of that category. `packages` have `.category`, `.description`, `.items`."""
    hit = _match(rules, description, None, {"field": "description"})
    for i, p in enumerate(packages, start=first_index):
        hit = hit or _match(rules, p.description, p.category, {"package": i, "field": "description"})
        for j, item in enumerate(p.items):
            hit = hit or _match(rules, item.description, p.category, {"package": i, "item": j,
                                                                       "field": "description"})
    return hit


# -- statuses ------------------------------------------------------------------------------------
RANK = {"draft": 0, "searching": 0, "awaiting_acceptance": 1, "booked": 2, "in_transit": 3, "out_for_delivery": 4,
        "delivery_failed": 4, "return_to_sender": 5, "delivered": 6, "cancelled": 6, "lost": 6}
TERMINAL = frozenset({"delivered", "cancelled", "lost"})
PACKAGE_STATUS = {"awaiting_acceptance": "ready", "booked": "assigned", "in_transit": "in_transit",
                  "out_for_delivery": "in_transit", "delivered": "delivered", "cancelled": "cancelled",
                  "lost": "lost", "draft": "draft"}
# What a person may ask for: target -> the statuses it may be asked from.
REQUESTABLE = {"cancelled": ("draft", "awaiting_acceptance", "booked"),
               "lost": ("in_transit", "out_for_delivery"),
               "return_to_sender": ("in_transit", "out_for_delivery")}


def moves_forward(current: str, new: str) -> bool:
    """Whether an event may move a shipment from `current` to `new`: never out of a
    terminal status, never to a lower rank, never to the same status (a duplicate)."""
    return current not in TERMINAL and new != current and RANK[new] >= RANK[current]
