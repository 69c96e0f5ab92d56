"""The sandbox processor's rules (Luhn, brands, fees in integer minor units) and Standard
Webhooks signing and verification, without a database."""
from __future__ import annotations

import json
import pickle
import time

import pytest
from standardwebhooks import Webhook

from deployments.kit import RawRequest
from deployments.payments.errors import WebhookInvalid
from deployments.payments.sandbox import TEST_CARDS, brand_of, dispute_fee, luhn_ok, processor_fee
from deployments.payments.webhooks import sign_headers, verify

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


def test_every_test_card_passes_luhn_and_a_changed_digit_does_not():
    for number in TEST_CARDS:
        assert luhn_ok(number), number
        assert not luhn_ok(number[:-1] + str((int(number[-1]) + 1) % 10)), number


@pytest.mark.parametrize("number,brand", [("4242424242424242", "visa"), ("5555555555554444", "mastercard"),
                                          ("378282246310005", "amex"), ("6011111111111117", "discover"),
                                          ("2223003122003222", "mastercard")])
def test_brands(number, brand):
    assert brand_of(number) == brand


@pytest.mark.parametrize("amount,currency,want", [
    (3300, "GBP", 126),      # 95.7 -> 96, + 30
    (10000, "EUR", 320),     # 290 + 30
    (1, "USD", 1),           # never more than the amount
    (10000, "JPY", 290),     # no fixed part at 0 decimals
    (10000, "KWD", 590),     # 290 + 300 at 3 decimals
    (50, "USD", 31),         # 1.45 rounds half up to 1
])
def test_the_processor_fee_is_2_9_percent_plus_30_scaled(amount, currency, want):
    got = processor_fee(amount, currency)
    assert got == want and isinstance(got, int)


def test_the_dispute_fee_is_15_scaled():
    assert (dispute_fee("GBP"), dispute_fee("JPY"), dispute_fee("BHD")) == (1500, 15, 15000)


def test_signed_headers_verify_with_the_reference_package_and_ours():
    body = json.dumps({"id": "evt_1", "type": "x", "created": 0, "data": {}}).encode()
    headers = sign_headers(SECRET, "msg_1", body)
    assert Webhook(SECRET).verify(body, headers) == json.loads(body)
    assert verify(SECRET, body, headers, tolerance_s=300)["id"] == "evt_1"


@pytest.mark.parametrize("change,reason", [
    (lambda b, h: (b + b" ", h), "bad_signature"),
    (lambda b, h: (b, {**h, "webhook-id": "msg_2"}), "bad_signature"),
    (lambda b, h: (b, {**h, "webhook-signature": "v1a,abc v2,xyz"}), "bad_signature"),
    (lambda b, h: (b, {k: v for k, v in h.items() if k != "webhook-timestamp"}), "missing_headers"),
    (lambda b, h: (b, {**h, "webhook-timestamp": "12.5"}), "bad_timestamp"),
    (lambda b, h: (b, {**h, "webhook-timestamp": str(int(h["webhook-timestamp"]) - 301)}), "stale_timestamp"),
    (lambda b, h: (b"\xff", h), "bad_body"),
])
def test_verification_refuses_every_change(change, reason):
    body = b'{"id": "evt_1"}'
    b, h = change(body, sign_headers(SECRET, "msg_1", body))
    with pytest.raises(WebhookInvalid) as exc:
        verify(SECRET, b, h, tolerance_s=300)
    assert exc.value.data["reason"] == reason


def test_the_tolerance_is_the_settings_not_the_packages():
    body = b'{"id": "evt_1"}'
    old = time.time_ns() // 10**9 - 600
    headers = sign_headers(SECRET, "msg_1", body, at=old)
    assert verify(SECRET, body, headers, tolerance_s=900)["id"] == "evt_1"
    with pytest.raises(WebhookInvalid):
        verify(SECRET, body, headers, tolerance_s=300)


def test_a_raw_request_pickles_for_the_edge():
    raw = RawRequest(body=b"{}", headers={"webhook-id": "msg_1"}, path="/payments/webhooks/sandbox")
    assert pickle.loads(pickle.dumps(raw)) == raw
