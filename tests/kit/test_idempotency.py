"""Idempotency-Key semantics (Stripe's), on the KV store directly."""
from __future__ import annotations

import asyncio
import json

import pytest
from fastapi import Response

from deployments.kit.idempotency import run_idempotent
from p2p.errors import BadRequest, Conflict, IdempotencyInProgress, IdempotencyKeyReused
from storage.kv import MemoryKV


def ok(body: dict, status: int = 201):
    async def produce():
        produce.calls += 1
        return Response(content=json.dumps(body), status_code=status, media_type="application/json")

    produce.calls = 0
    return produce


async def run(kv, produce, *, key="k1", fp="fp1"):
    return await run_idempotent(kv, scope="user-1", key=key, fp=fp, ttl=60, produce=produce)


async def test_the_same_key_and_body_replay_the_first_answer_without_running_again():
    kv, produce = MemoryKV(), ok({"id": 1})
    first, again = await run(kv, produce), await run(kv, produce)
    assert produce.calls == 1 and again.body == first.body and again.status_code == 201
    assert again.headers["idempotent-replayed"] == "true"


async def test_the_same_key_with_another_body_is_refused():
    kv = MemoryKV()
    await run(kv, ok({"id": 1}))
    with pytest.raises(IdempotencyKeyReused):
        await run(kv, ok({"id": 2}), fp="fp2")


async def test_a_key_whose_first_request_still_runs_answers_409():
    kv, gate = MemoryKV(), asyncio.Event()

    async def slow():
        await gate.wait()
        return Response(content=b"{}", status_code=201, media_type="application/json")

    first = asyncio.create_task(run(kv, slow))
    await asyncio.sleep(0)
    with pytest.raises(IdempotencyInProgress):
        await run(kv, slow)
    gate.set()
    assert (await first).status_code == 201


async def test_a_client_error_is_remembered_and_replayed():
    kv = MemoryKV()

    async def refuse():
        refuse.calls += 1
        raise Conflict("taken", email="a@b.c")

    refuse.calls = 0
    with pytest.raises(Conflict):
        await run(kv, refuse)
    replay = await run(kv, refuse)
    assert refuse.calls == 1 and replay.status_code == 409
    assert json.loads(replay.body)["code"] == "resource.conflict"


async def test_a_crash_frees_the_key_for_a_retry():
    kv = MemoryKV()

    async def crash():
        raise RuntimeError("lost the database")

    with pytest.raises(RuntimeError):
        await run(kv, crash)
    assert (await run(kv, ok({"id": 3}))).status_code == 201


async def test_an_overlong_key_is_a_400():
    with pytest.raises(BadRequest):
        await run(MemoryKV(), ok({}), key="x" * 256)
