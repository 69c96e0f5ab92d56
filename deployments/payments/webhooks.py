"""Standard Webhooks v1 (https://www.standardwebhooks.com): the processor signs
`{webhook-id}.{webhook-timestamp}.{raw body}` with HMAC-SHA256 under the shared secret
(`whsec_<base64>`) and sends `webhook-signature: v1,<base64>`; the receiver recomputes it
over the exact bytes it received and refuses timestamps outside its tolerance.

Signing uses the `standardwebhooks` package; verification uses it too for the signature,
but checks the timestamp itself against `payment_webhook_tolerance_s` (the package fixes
five minutes) and never raises anything but `WebhookInvalid`."""
from __future__ import annotations

import base64
import hmac
import json
import time
from datetime import datetime, timezone
from typing import Any

from standardwebhooks import Webhook

from deployments.payments.errors import WebhookInvalid

MAX_HEADER = 1024
MAX_ID = 100  # payment_webhooks.id


def sign_headers(secret: str, msg_id: str, body: bytes, *, at: int | None = None) -> dict[str, str]:
    """The three headers of one delivery attempt of `body` (a new timestamp per attempt)."""
    ts = time.time_ns() // 1_000_000_000 if at is None else at
    sig = Webhook(secret).sign(msg_id, datetime.fromtimestamp(ts, tz=timezone.utc), body.decode())
    return {"webhook-id": msg_id, "webhook-timestamp": str(ts), "webhook-signature": sig,
            "content-type": "application/json"}


def verify(secret: str, body: bytes, headers: dict[str, str], *, tolerance_s: int,
           now: int | None = None) -> dict[str, Any]:
    """The event a correctly signed, fresh webhook carries; a 400 `payment.webhook_invalid`
    (with the reason) for anything else."""
    h = {k.lower(): v for k, v in headers.items()}
    msg_id, ts, sigs = h.get("webhook-id", ""), h.get("webhook-timestamp", ""), h.get("webhook-signature", "")
    if not (msg_id and ts and sigs) or len(msg_id) > MAX_ID or max(len(ts), len(sigs)) > MAX_HEADER:
        raise WebhookInvalid("The webhook headers are missing or malformed.", reason="missing_headers")
    if not ts.isdigit() or len(ts) > 12:
        raise WebhookInvalid("The webhook timestamp is not a Unix time.", reason="bad_timestamp")
    current = time.time_ns() // 1_000_000_000 if now is None else now
    if abs(current - int(ts)) > tolerance_s:
        raise WebhookInvalid("The webhook timestamp is outside the tolerance (a stale or replayed delivery).",
                             reason="stale_timestamp", tolerance_s=tolerance_s)
    try:
        text = body.decode()
        expected = base64.b64decode(Webhook(secret).sign(
            msg_id, datetime.fromtimestamp(int(ts), tz=timezone.utc), text).split(",", 1)[1])
    except (UnicodeDecodeError, ValueError):
        raise WebhookInvalid("The webhook body is not UTF-8.", reason="bad_body") from None
    matched = False
    for candidate in sigs.split(" "):
        version, _, value = candidate.partition(",")
        if version != "v1":
            continue
        try:
            given = base64.b64decode(value, validate=True)
        except ValueError:
            continue
        matched = hmac.compare_digest(expected, given) or matched
    if not matched:
        raise WebhookInvalid("The webhook signature does not match.", reason="bad_signature")
    try:
        event = json.loads(text)
    except ValueError:
        raise WebhookInvalid("The webhook body is not JSON.", reason="bad_body") from None
    if not isinstance(event, dict):
        raise WebhookInvalid("The webhook body is not an event object.", reason="bad_body")
    return event
