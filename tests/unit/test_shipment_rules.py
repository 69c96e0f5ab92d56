"""Tracking numbers and the prohibited-items list, without services."""
from __future__ import annotations

from types import SimpleNamespace as NS

from deployments.shipments import rules


class TestTrackingNumbers:
    def test_a_new_number_is_p2p_nine_base32_symbols_and_a_check_symbol(self):
        for _ in range(200):
            n = rules.new_tracking_number()
            assert len(n) == 13 and n.startswith("P2P")
            assert all(c in rules.CROCKFORD for c in n[3:12]) and n[12] in rules.CHECK_SYMBOLS
            assert rules.valid_tracking_number(n) and rules.valid_tracking_number(n.lower())

    def test_every_single_symbol_typo_is_detected(self):
        n = rules.new_tracking_number()
        for i in range(3, 12):
            for c in rules.CROCKFORD:
                if c != n[i]:
                    assert not rules.valid_tracking_number(n[:i] + c + n[i + 1:])

    def test_malformed_numbers_are_refused(self):
        for bad in ("", "P2P", "XYZ1234567890", "P2PIIIIIIIII0", rules.new_tracking_number() + "0"):
            assert not rules.valid_tracking_number(bad)

    def test_the_check_symbol_is_crockfords_mod_37(self):
        assert rules.check_symbol("000000001") == "1"
        assert rules.check_symbol("000000015") == "0"  # 1*32 + 5 = 37
        assert rules.check_symbol("000000014") == "U"  # 36
        assert rules.check_symbol("00000000A") == "A"  # 10


class TestProhibitedItems:
    def pkg(self, description=None, items=(), category="parcel"):
        return NS(description=description, category=category, items=[NS(description=d) for d in items])

    def test_a_keyword_matches_on_word_boundaries_in_any_case(self):
        rs = rules.load_rules()
        hit = rules.find_prohibited(rs, None, [self.pkg("Gifts", ["A spare Lithium  Battery"])])
        assert (hit.rule, hit.keyword, hit.where) == ("lithium_batteries_loose", "spare lithium battery",
                                                     {"package": 0, "item": 0, "field": "description"})
        assert rules.find_prohibited(rs, "Cash", []).rule == "cash"
        assert rules.find_prohibited(rs, "Cashmere scarf and a gunmetal frame", [self.pkg("Begun")]) is None

    def test_a_category_rule_applies_only_to_its_category(self):
        rs = rules.load_rules()
        assert rules.find_prohibited(rs, None, [self.pkg("raw fish", category="food")]).rule == "perishables"
        assert rules.find_prohibited(rs, None, [self.pkg("raw fish", category="document")]) is None

    def test_another_rules_file_may_be_configured(self, tmp_path):
        f = tmp_path / "rules.json"
        f.write_text('{"rules": [{"id": "socks", "category": null, "keywords": ["socks"], "reason": "no"}]}')
        hit = rules.find_prohibited(rules.load_rules(str(f)), None, [self.pkg("Old socks")], first_index=3)
        assert hit.rule == "socks" and hit.where["package"] == 3


class TestStatuses:
    def test_events_never_move_a_shipment_backwards_or_out_of_a_terminal_status(self):
        assert rules.moves_forward("booked", "in_transit")
        assert not rules.moves_forward("out_for_delivery", "in_transit")
        assert not rules.moves_forward("delivered", "lost")
        assert not rules.moves_forward("in_transit", "in_transit")
