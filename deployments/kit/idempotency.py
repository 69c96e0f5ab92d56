"""Idempotency-Key on creating POSTs, with Stripe's semantics: the same key and body replay
the first response; the same key with another body is refused (422); a key whose first
request is still running answers 409. Records live in the KV store for 24 h."""
from __future__ import annotations

import hashlib
import json
from typing import Awaitable, Callable

from fastapi import Response

from p2p.errors import BadRequest, IdempotencyInProgress, IdempotencyKeyReused, ProblemError
from storage.kv import KV

RUNNING_TTL_S = 60


def fingerprint(method: str, path: str, body: bytes) -> str:
    return hashlib.sha256(method.encode() + b" " + path.encode() + b"\n" + body).hexdigest()


async def run_idempotent(kv: KV, *, scope: str, key: str, fp: str, ttl: float,
                         produce: Callable[[], Awaitable[Response]]) -> Response:
    if not key or len(key) > 255:
        raise BadRequest("Idempotency-Key must be 1-255 characters.")
    rec_key = f"idem:{scope}:{hashlib.sha256(key.encode()).hexdigest()}"
    for _ in range(2):
        raw = await kv.get(rec_key)
        if raw is not None:
            rec = json.loads(raw)
            if rec["fp"] != fp:
                raise IdempotencyKeyReused("This Idempotency-Key was used with a different request.")
            if rec["state"] == "running":
                raise IdempotencyInProgress("A request with this Idempotency-Key is still running.")
            return Response(content=rec["body"].encode(), status_code=rec["status"], media_type=rec["type"],
                            headers={"Idempotent-Replayed": "true"})
        if await kv.set(rec_key, json.dumps({"fp": fp, "state": "running"}).encode(), ttl=RUNNING_TTL_S, nx=True):
            break
    else:
        raise IdempotencyInProgress("A request with this Idempotency-Key is still running.")

    async def remember(status: int, body: bytes, media_type: str) -> None:
        rec = {"fp": fp, "state": "done", "status": status, "body": body.decode(), "type": media_type}
        await kv.set(rec_key, json.dumps(rec).encode(), ttl=ttl)

    try:
        response = await produce()
    except ProblemError as exc:
        if exc.status >= 500:
            await kv.delete(rec_key)
        else:
            await remember(exc.status, json.dumps(exc.problem(instance=None, request_id=None)).encode(),
                           "application/problem+json")
        raise
    except BaseException:
        await kv.delete(rec_key)
        raise
    await remember(response.status_code, bytes(response.body), response.media_type or "application/json")
    return response
