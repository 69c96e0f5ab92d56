"""Ledger throughput: the Accounting Service's `post` (idempotency lookup, accounts opened
on first use, one conditional UPDATE per account for the flags, entries, the answer read
back) against a bare INSERT of the same transfer and entry rows with no checks, in the same
run, on SQLite (a file in a temp dir) and on PostgreSQL (a throwaway database); then the
time `books.reconcile` takes over 100k transfers.

Posting, each case batched (`post([t1..tN])`: one database transaction per N transfers) and
one transaction each (`post([t])`), INFLIGHT calls at once (asyncio tasks):
- **capture**: processor_clearing -> escrow:<new booking> (post). Every transfer debits the
  one processor_clearing account (no flag) and credits an escrow account opened on first use.
- **hold, uncontended**: escrow:<booking> -> payable:<new user> (hold), each escrow funded by
  one capture above: no two transfers share an account.
- **hold, contended**: escrow:<one booking> -> payable:<new user> (hold): every transfer
  debits the same flagged account (debits_must_not_exceed_credits).
- **bare INSERT** (baseline): the same rows (ledger_transfers + ledger_entries) through the
  same sessions, without the idempotency lookup, the accounts, the balance UPDATEs and the
  read-back. Its rows are deleted afterwards so the books still reconcile.

Reconcile: the ledger is filled to RECONCILE transfers through the engine's batch path
(`ledger.apply`, 500 transfers a transaction: 20 bookings each funded by 13 captures and
debited by 12 holds to one of 20 users, so 4,000 bookings and 4,000 users per 100k), then
`books.reconcile(session, [])` runs (no claims: the money services' records are absent).
Baseline in the same run: one bare pass over the entries
(`SELECT count(*), sum(amount_minor) FROM ledger_entries`). On PostgreSQL the script runs
ANALYZE after the warm-up and after the fill, as autovacuum would (it is off on the
benchmark's server).

    python3 benchmarks/ledger.py                         # SQLite and PostgreSQL
    python3 benchmarks/ledger.py --sqlite-only --quick   # smoke run
"""
from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("RAY_AUTH_MODE", "disabled")

from sqlalchemy import delete, func, insert, select, text  # noqa: E402

from deployments.accounting import books, ledger  # noqa: E402
from deployments.accounting.accounts import account_id  # noqa: E402
from deployments.accounting.schemas import AccountRef, TransferIn  # noqa: E402
from storage.db import utcnow  # noqa: E402
from storage.migrate import upgrade  # noqa: E402
from storage.models.accounting import LedgerEntry, LedgerTransfer  # noqa: E402

CLEARING = AccountRef(kind="processor_clearing")
FUND, HOLD = 10_000, 7_000  # minor units: each escrow is funded with FUND, a hold takes HOLD
FILL_BATCH = 500


def escrow() -> AccountRef:
    return AccountRef(kind="escrow", owner_id=uuid.uuid4())


def payable() -> AccountRef:
    return AccountRef(kind="payable", owner_id=uuid.uuid4())


def capture(to: AccountRef, amount: int = FUND) -> TransferIn:
    return TransferIn.move(uuid.uuid4(), CLEARING, to, amount, "GBP", code="bench.capture",
                           ref=f"booking:{to.owner_id}")


def hold(frm: AccountRef, to: AccountRef) -> TransferIn:
    return TransferIn.move(uuid.uuid4(), frm, to, HOLD, "GBP", code="bench.hold", action="hold",
                           ref=f"booking:{frm.owner_id}")


def chunks(xs: list, n: int) -> list[list]:
    return [xs[i:i + n] for i in range(0, len(xs), n)]


async def drive(calls: list[list[TransferIn]], fn, inflight: int) -> dict:
    """Run `fn(call)` for every call, `inflight` at once; transfers/s and call latency."""
    it, lat = iter(calls), []

    async def worker() -> None:
        for c in it:
            t = time.perf_counter()
            await fn(c)
            lat.append(time.perf_counter() - t)

    t0 = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(inflight)))
    took = time.perf_counter() - t0
    lat.sort()
    n = sum(len(c) for c in calls)
    return {"transfers": n, "s": round(took, 2), "per_s": round(n / took),
            "p50_ms": round(statistics.median(lat) * 1000, 1), "p99_ms": round(lat[int(len(lat) * 0.99)] * 1000, 1)}


def ledger_path(acc):
    async def post(call: list[TransferIn]) -> None:
        out = await acc.post(call)
        assert len(out) == len(call) and all(o.result == "created" for o in out)
    return post


def bare_path(acc):
    """The same rows, no checks: what the engine writes, without reading or updating anything."""
    async def post(call: list[TransferIn]) -> None:
        now = utcnow()
        rows, entries = [], []
        for t in call:
            rows.append(dict(id=t.id, action=t.action, state="pending" if t.action == "hold" else "posted",
                             currency=t.currency, amount_minor=t.entries[0].amount_minor, pending_id=None,
                             reverses_id=None, code="bench.bare", ref=t.ref, memo=None, fingerprint="0" * 64,
                             created_at=now))
            phase = "pending" if t.action == "hold" else "posted"
            for i, e in enumerate(t.entries):
                entries.append(dict(transfer_id=t.id, seq=i, account_id=account_id(e.kind, e.owner_id, "GBP"),
                                    side=e.side, phase=phase, amount_minor=e.amount_minor, created_at=now))
        async with acc.uow() as uow:
            await uow.session.execute(insert(LedgerTransfer), rows)
            await uow.session.execute(insert(LedgerEntry), entries)
    return post


async def posting(acc, n_batched: int, n_single: int, batch: int, inflight: int) -> list[dict]:
    out: list[dict] = []
    post, bare = ledger_path(acc), bare_path(acc)
    hot = escrow()
    n_hot = n_batched + n_single + batch + 1  # funds every hold on it, the warm-up's too
    await post([capture(hot, HOLD * n_hot)])
    # Warm-up, untimed: every statement shape compiled once, both call sizes.
    for b in (1, batch):
        warm, users = [escrow() for _ in range(b)], [payable() for _ in range(b)]
        await post([capture(e) for e in warm])
        await post([hold(e, payable()) for e in warm])
        await post([hold(hot, u) for u in users])
        await bare([hold(hot, u) for u in users])
    await analyze(acc)
    modes = (("batched", batch, n_batched), ("one each", 1, n_single))
    funded: dict[str, list[AccountRef]] = {}
    for mode, size, n in modes:
        funded[mode] = [escrow() for _ in range(n)]
        r = await drive(chunks([capture(e) for e in funded[mode]], size), post, inflight)
        out.append({"case": "capture (processor_clearing hot)", "mode": mode, "batch": size, **r})
    for mode, size, _ in modes:
        r = await drive(chunks([hold(e, payable()) for e in funded[mode]], size), post, inflight)
        out.append({"case": "hold, uncontended", "mode": mode, "batch": size, **r})
    users: dict[str, list[AccountRef]] = {}
    for mode, size, n in modes:
        users[mode] = [payable() for _ in range(n)]
        r = await drive(chunks([hold(hot, u) for u in users[mode]], size), post, inflight)
        out.append({"case": "hold, contended (one escrow)", "mode": mode, "batch": size, **r})
    for mode, size, _ in modes:  # the accounts exist (entries reference them); new transfer ids
        r = await drive(chunks([hold(hot, u) for u in users[mode]], size), bare, inflight)
        out.append({"case": "bare INSERT (baseline)", "mode": mode, "batch": size, **r})
    async with acc.uow() as uow:  # the baseline's rows would not reconcile: they moved no balance
        bare_ids = select(LedgerTransfer.id).where(LedgerTransfer.code == "bench.bare")
        await uow.session.execute(delete(LedgerEntry).where(LedgerEntry.transfer_id.in_(bare_ids)))
        await uow.session.execute(delete(LedgerTransfer).where(LedgerTransfer.code == "bench.bare"))
    bal = await acc.balance("escrow", hot.owner_id, "GBP")
    held = HOLD * (1 + batch + n_batched + n_single)  # the warm-up holds and the timed ones
    assert bal.debits_pending == held and bal.available_minor == HOLD * n_hot - held, bal
    return out


class TimedSession:
    """The session reconcile gets, timing each awaited query (SQL, fetch and ORM loading)."""

    def __init__(self, session):
        self._s, self.bind, self.queries = session, session.bind, 0.0

    async def _timed(self, name, *a, **kw):
        t = time.perf_counter()
        try:
            return await getattr(self._s, name)(*a, **kw)
        finally:
            self.queries += time.perf_counter() - t

    async def execute(self, *a, **kw):
        return await self._timed("execute", *a, **kw)

    async def scalars(self, *a, **kw):
        return await self._timed("scalars", *a, **kw)

    async def scalar(self, *a, **kw):
        return await self._timed("scalar", *a, **kw)


async def fill(acc, target: int) -> tuple[int, float]:
    """Top the ledger up to `target` transfers through the engine's batch path."""
    async with acc.uow(read=True) as uow:
        have = int(await uow.session.scalar(select(func.count()).select_from(LedgerTransfer)))
    made, t0 = 0, time.perf_counter()
    while have + made < target:
        n = min(FILL_BATCH, target - have - made)
        bookings = [escrow() for _ in range(20)]
        users = [payable() for _ in range(20)]
        ts = []
        for i in range(n):
            b = bookings[i % 20]
            ts.append(capture(b, 1000) if (i // 20) % 25 < 13 else
                      TransferIn.move(uuid.uuid4(), b, users[i % 20], 1000, "GBP", code="bench.hold",
                                      action="hold"))
        ts.sort(key=lambda t: t.action != "post")  # captures first: a hold needs its escrow funded
        async with acc.uow() as uow:
            await ledger.apply(uow.session, ts, {t.id: ledger.fingerprint(t) for t in ts})
        made += n
    return made, time.perf_counter() - t0


async def analyze(acc) -> None:
    """What autovacuum would have done by now (it is off on the benchmark's server): without
    statistics PostgreSQL guesses ~200 entries per transfer and reads a transfer back by a hash
    join over every account."""
    if acc.rt.db.sqlite:
        return
    async with acc.uow() as uow:
        await uow.session.execute(text("ANALYZE ledger_accounts, ledger_transfers, ledger_entries"))


async def reconciling(acc, target: int) -> dict:
    made, fill_s = await fill(acc, target)
    await analyze(acc)
    runs = []
    for _ in range(3):  # the first run reads a cold cache; the best of the other two is reported
        async with acc.uow(read=True) as uow:
            s = TimedSession(uow.session)
            t = time.perf_counter()
            rec = await books.reconcile(s, [])
            runs.append((time.perf_counter() - t, s.queries))
        assert rec.ok, rec.mismatches[:5]
    async with acc.uow(read=True) as uow:
        t = time.perf_counter()
        n_entries, _ = (await uow.session.execute(
            select(func.count(), func.sum(LedgerEntry.amount_minor)))).one()
        scan = time.perf_counter() - t
    (cold, _), (warm, queries) = runs[0], min(runs[1:])
    return {"transfers": rec.transfers, "entries": int(n_entries), "accounts": rec.accounts,
            "fill_per_s": round(made / fill_s) if made else None, "fill_s": round(fill_s, 1),
            "reconcile_cold_s": round(cold, 2), "reconcile_s": round(warm, 2),
            "queries_s": round(queries, 2), "python_s": round(warm - queries, 2),
            "bare_scan_s": round(scan, 3), "vs_bare_scan": round(warm / scan, 1)}


async def bench(url: str, data_dir: Path, args) -> tuple[list[dict], dict | None]:
    from deployments.local import LocalPlatform
    from p2p.settings import Settings

    platform = LocalPlatform(Settings(env="test", database_url=url, data_dir=data_dir))
    acc = platform.runtime.services["accounting"]
    try:
        rows = await posting(acc, args.batched, args.single, args.batch, args.inflight)
        async with acc.uow(read=True) as uow:
            rec = await books.reconcile(uow.session, [])
        assert rec.ok, rec.mismatches[:5]
        rec_row = await reconciling(acc, args.reconcile) if args.reconcile else None
    finally:
        await platform.runtime.shutdown()
    return rows, rec_row


def report(backend: str, rows: list[dict], rec: dict | None) -> None:
    base = {r["mode"]: r["per_s"] for r in rows if r["case"].startswith("bare")}
    per = {(r["case"], r["mode"]): r["per_s"] for r in rows}
    print(f"\n## {backend} (load average now {os.getloadavg()[0]:.1f}: other processes share the 2 cores)")
    print("| case | mode | transfers | transfers/s | p50 / p99 ms per call | vs bare INSERT | batched / one each |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        speedup = per[(r["case"], "batched")] / per[(r["case"], "one each")]
        print(f"| {r['case']} | {r['mode']} ({r['batch']}) | {r['transfers']} | {r['per_s']:,} | "
              f"{r['p50_ms']} / {r['p99_ms']} | {r['per_s'] / base[r['mode']]:.0%} | "
              f"{f'{speedup:.1f}x' if r['mode'] == 'batched' else ''} |")
    for mode in ("batched", "one each"):
        c, u = per[("hold, contended (one escrow)", mode)], per[("hold, uncontended", mode)]
        print(f"contended / uncontended holds, {mode}: {c / u:.2f}")
    if rec:
        print(f"reconcile: {rec}")
    sys.stdout.flush()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432/test",
                    help="server for the throwaway database p2p_bench_<random>")
    ap.add_argument("--sqlite-only", action="store_true")
    ap.add_argument("--quick", action="store_true", help="small counts: a smoke run")
    ap.add_argument("--batch", type=int, default=100, help="transfers per post call when batched")
    ap.add_argument("--inflight", type=int, default=8, help="post calls at once")
    ap.add_argument("--batched", type=int, default=None, help="transfers per case, batched")
    ap.add_argument("--single", type=int, default=None, help="transfers per case, one per call")
    ap.add_argument("--reconcile", type=int, default=None, help="transfers in the ledger for reconcile (0: skip)")
    args = ap.parse_args()
    args.batched = args.batched or (400 if args.quick else 3000)
    args.single = args.single or (80 if args.quick else 400)
    if args.reconcile is None:
        args.reconcile = 5000 if args.quick else 100_000
    print(f"batch {args.batch}, {args.inflight} calls in flight, {args.batched} transfers batched and "
          f"{args.single} one each per case; reconcile over {args.reconcile} transfers", flush=True)
    with tempfile.TemporaryDirectory(prefix="p2p-bench-ledger-") as tmp:
        url = f"sqlite:///{Path(tmp) / 'p2p.db'}"
        upgrade(url)
        report("SQLite", *asyncio.run(bench(url, Path(tmp), args)))
        if not args.sqlite_only:
            from benchmarks.capacity_throughput import drop_database, fresh_database

            url, admin = fresh_database(args.postgres)
            try:
                report("PostgreSQL", *asyncio.run(bench(url, Path(tmp), args)))
            finally:
                drop_database(admin, url)


if __name__ == "__main__":
    main()
