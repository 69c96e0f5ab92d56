"""Duties and taxes from the shipped tables, against figures computed by hand."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from deployments.customs.duties import Line, Tables, half_up, quote, sdr_value, shipped
from deployments.customs.errors import DestinationNotCovered, NoFxRate, NoRuleForDate
from deployments.customs.forms import form_of
from deployments.customs.hs import hs_chapters


def q(destination: str, currency: str, *lines: tuple[str, int], on: date, **kw):
    return quote(shipped(), destination=destination, currency=currency, lines=[Line(*ln) for ln in lines], on=on,
                 **kw)


class TestUnitedStates:
    def test_up_to_usd_800_pays_nothing_until_2025_08_28(self):
        got = q("US", "USD", ("950300", 80000), on=date(2025, 8, 28))
        assert got.rule == "us-section-321" and got.duty_de_minimis_applied and got.total_minor == 0
        assert got.charges == [] and got.tax_name is None

    def test_over_usd_800_pays_the_chapter_rate(self):
        got = q("US", "USD", ("610910", 100000), on=date(2025, 8, 1))
        assert got.duty_minor == 16000 and not got.duty_de_minimis_applied  # 1000.00 x 16%

    def test_from_2025_08_29_duty_applies_from_the_first_dollar(self):
        got = q("US", "USD", ("950300", 50000), on=date(2025, 8, 29))
        assert got.rule == "us-de-minimis-suspended" and got.duty_de_minimis_minor is None
        assert not got.duty_de_minimis_applied and got.duty_minor == 5000 and got.total_minor == 5000  # 10%
        assert got.rule_valid_from == date(2025, 8, 29) and got.rule_valid_to is None
        assert q("US", "USD", ("950300", 100), on=date(2026, 1, 1)).duty_minor == 10


class TestEuropeanUnion:
    def test_under_eur_150_before_2026_07_01_pays_vat_only(self):
        got = q("DE", "EUR", ("950300", 10000), on=date(2026, 6, 30))
        assert got.region == "EU" and got.rule == "eu-vat-ecommerce-2021" and got.duty_de_minimis_applied
        assert (got.duty_minor, got.tax_minor, got.total_minor) == (0, 1900, 1900)  # 19% of 100.00

    def test_from_2026_07_01_one_hs_line_pays_eur_3_and_vat_on_value_plus_duty(self):
        got = q("DE", "EUR", ("950300", 10000), on=date(2026, 7, 1))
        assert got.rule == "eu-flat-duty-2026" and got.flat_duty_applied and not got.duty_de_minimis_applied
        assert (got.duty_minor, got.tax_minor, got.total_minor) == (300, 1957, 2257)  # 19% of 103.00
        assert [c.kind for c in got.charges] == ["flat_duty", "tax"]

    def test_three_distinct_hs_lines_pay_three_flat_duties(self):
        got = q("DE", "EUR", ("950300", 4000), ("610910", 3000), ("490199", 3000), on=date(2026, 7, 1))
        assert (got.duty_minor, got.tax_minor, got.total_minor) == (900, 2071, 2971)  # 19% of 109.00

    def test_lines_of_the_same_hs_code_count_once_and_a_caller_may_give_the_count(self):
        assert q("DE", "EUR", ("950300", 4000), ("950300", 3000), on=date(2026, 7, 1)).duty_minor == 300
        assert q("NL", "EUR", ("950300", 10000), on=date(2026, 7, 1), hs_lines=3).duty_minor == 900

    def test_over_eur_150_pays_the_ad_valorem_rate_and_the_member_states_vat(self):
        got = q("FR", "EUR", ("610910", 20000), on=date(2026, 7, 1))
        assert not got.flat_duty_applied and got.tax_rate == "0.20"
        assert (got.duty_minor, got.tax_minor, got.total_minor) == (2400, 4480, 6880)  # 12%; 20% of 224.00

    def test_vat_from_the_first_euro_since_2021_07_01(self):
        assert q("DE", "EUR", ("950300", 2000), on=date(2021, 6, 30)).tax_de_minimis_applied  # EUR 22 relief
        got = q("DE", "EUR", ("950300", 2000), on=date(2021, 7, 1))
        assert not got.tax_de_minimis_applied and got.tax_minor == 380


class TestUnitedKingdom:
    def test_up_to_gbp_135_pays_vat_and_no_duty(self):
        got = q("GB", "GBP", ("950300", 13500), on=date(2026, 11, 30))
        assert got.duty_de_minimis_applied and (got.duty_minor, got.tax_minor) == (0, 2700)

    def test_over_gbp_135_pays_duty_and_vat_on_both(self):
        got = q("GB", "GBP", ("950300", 20000), on=date(2026, 11, 30))
        assert (got.duty_minor, got.tax_minor, got.total_minor) == (800, 4160, 4960)  # 4%; 20% of 208.00


class TestAustraliaAndCanada:
    def test_australia_charges_gst_on_all_and_duty_over_aud_1000(self):
        assert q("AU", "AUD", ("950300", 90000), on=date(2026, 1, 1)).total_minor == 9000
        got = q("AU", "AUD", ("950300", 120000), on=date(2026, 1, 1))
        assert (got.duty_minor, got.tax_minor) == (6000, 12600)  # 5%; 10% of 1260.00

    def test_canada_general_thresholds_are_cad_20_and_cusma_partners_cad_150_and_40(self):
        got = q("CA", "CAD", ("950300", 3000), on=date(2026, 1, 1), origin="GB")
        assert (got.duty_minor, got.tax_minor) == (240, 162)  # 8%; 5% of 32.40
        cusma = q("CA", "CAD", ("950300", 3000), on=date(2026, 1, 1), origin="US")
        assert cusma.rule == "ca-cusma-2020:CUSMA" and cusma.total_minor == 0
        got = q("CA", "CAD", ("950300", 10000), on=date(2026, 1, 1), origin="MX")
        assert got.duty_de_minimis_applied and got.tax_minor == 500


class TestCurrenciesAndRounding:
    def test_amounts_round_half_up_to_the_minor_unit(self):
        assert [half_up(Decimal(v)) for v in ("154.25", "154.5", "155.5", "0.5")] == [154, 155, 156, 1]

    def test_conversion_and_each_amount_round_half_up(self):
        rule = {"id": "t", "valid_from": "2000-01-01", "valid_to": None, "basis": "test",
                "duty": {"de_minimis_minor": None, "rate": "0.125"},
                "tax": {"name": "VAT", "rate": "0.20", "de_minimis_minor": 0, "base": "value"}}
        t = Tables({"source": "s", "as_of": "2026-11-30", "rounding": "r",
                    "destinations": {"GB": {"currency": "GBP", "rules": [rule]}}},
                   {"source": "f", "as_of": "2026-11-30",
                    "rates": {"EUR": "1", "GBP": "1", "USD": "2", "JPY": "180.5"}})
        assert t.convert(1, "USD", "GBP") == 1 and t.convert(3, "USD", "GBP") == 2  # 0.5 -> 1, 1.5 -> 2
        assert t.convert(1000, "JPY", "GBP") == 554  # 1000 / 180.5 = 5.540 GBP
        got = quote(t, destination="GB", currency="GBP", lines=[Line("950300", 1236)], on=date(2026, 1, 1))
        assert got.duty_minor == 155 and got.tax_minor == 247  # 154.5 -> 155; 247.2 -> 247

    def test_a_declared_currency_is_converted_to_the_destinations(self):
        got = q("US", "GBP", ("950300", 5000), on=date(2026, 11, 30))
        assert got.currency == "USD" and got.value_minor == 6591 and got.duty_minor == 659  # 50 x 1.16 / 0.88
        assert got.source.startswith("Simplified") and got.as_of == "2026-11-30" and "ECB" in got.fx_source

    def test_cn22_up_to_300_sdr_and_cn23_above(self):
        assert sdr_value(shipped(), 25000, "GBP") == 24148 and form_of(24148) == "CN22"
        assert form_of(sdr_value(shipped(), 40000, "GBP")) == "CN23" and form_of(30000) == "CN22"


class TestRefusals:
    def test_an_uncovered_destination_a_date_without_rule_and_a_currency_without_rate(self):
        with pytest.raises(DestinationNotCovered):
            q("JP", "JPY", ("950300", 100), on=date(2026, 1, 1))
        with pytest.raises(NoRuleForDate):
            q("US", "USD", ("950300", 100), on=date(2010, 1, 1))
        with pytest.raises(NoFxRate):
            q("US", "MNT", ("950300", 100), on=date(2026, 1, 1))

    def test_the_hs_chapter_table_has_01_to_97_without_77(self):
        assert len(hs_chapters()) == 96 and "77" not in hs_chapters() and "97" in hs_chapters()
