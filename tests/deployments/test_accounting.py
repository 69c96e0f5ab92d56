"""Accounting Service over HTTP: manual entries, two-phase transfers, idempotency by transfer
id (a refused id stays refused), reversals, balances now and at a point in time,
reconciliation and reports; and the refusals, each changing nothing."""
from __future__ import annotations

import asyncio
import uuid
from datetime import datetime, timezone

import pytest
from sqlalchemy import update

from deployments.accounting import AccountRef, TransferIn
from storage.models.accounting import LedgerAccount
from tests.factories.common import portal_call, problem
from tests.factories.identity import signed_up
from tests.factories.money import admin, balance, finance, ledger, move


@pytest.fixture(scope="module")
def boss(client, platform):
    return admin(client, portal_call(client), platform)


@pytest.fixture(scope="module")
def fin(client, platform):
    return finance(client, portal_call(client), platform)


def post(client, headers, *transfers: dict):
    return client.post("/accounting/entries", json={"transfers": list(transfers)}, headers=headers)


def funded(client, boss, amount: int = 10_000, currency: str = "EUR") -> str:
    """A fresh payable account credited with `amount` (from equity): its key."""
    key = f"payable:{uuid.uuid4()}"
    r = post(client, boss, move("equity", key, amount, currency))
    assert r.status_code == 201, r.text
    return key


class TestEntries:
    def test_an_admin_posts_a_balanced_entry_and_both_accounts_move(self, client, boss, fin):
        key = f"payable:{uuid.uuid4()}"
        r = post(client, boss, move("equity", key, 2500))
        assert r.status_code == 201, r.text
        [t] = r.json()
        assert t["state"] == "posted" and t["amount_minor"] == 2500 and t["result"] == "created"
        assert {(e["account"], e["side"], e["phase"]) for e in t["entries"]} == {
            ("equity", "debit", "posted"), (key, "credit", "posted")}
        b = balance(client, fin, key)
        assert (b["credits_posted"], b["balance_minor"], b["available_minor"], b["normal"]) == (2500, 2500, 2500,
                                                                                              "credit")

    def test_a_multi_entry_journal_balances_across_several_accounts(self, client, boss, fin):
        a, b = f"payable:{uuid.uuid4()}", f"payable:{uuid.uuid4()}"
        body = {"id": str(uuid.uuid4()), "currency": "EUR", "code": "manual", "entries": [
            {"kind": "equity", "side": "debit", "amount_minor": 1000},
            {"kind": "payable", "owner_id": a.split(":")[1], "side": "credit", "amount_minor": 700},
            {"kind": "payable", "owner_id": b.split(":")[1], "side": "credit", "amount_minor": 300}]}
        assert post(client, boss, body).status_code == 201
        assert balance(client, fin, a)["balance_minor"] == 700 and balance(client, fin, b)["balance_minor"] == 300

    def test_the_same_id_and_body_is_the_same_transfer_and_another_body_is_refused(self, client, boss, fin):
        key = f"payable:{uuid.uuid4()}"
        body = move("equity", key, 500)
        first, again = post(client, boss, body), post(client, boss, body)
        assert first.status_code == again.status_code == 201
        assert again.json()[0]["result"] == "exists" and again.json()[0]["id"] == first.json()[0]["id"]
        problem(post(client, boss, {**body, "memo": "changed"}), 409, "accounting.id_reused")
        assert balance(client, fin, key)["balance_minor"] == 500

    def test_a_batch_is_all_or_none(self, client, boss, fin):
        key = funded(client, boss, 1000)
        other = f"payable:{uuid.uuid4()}"
        ok, too_much = move("equity", other, 100), move(key, "revenue", 5000)
        problem(post(client, boss, ok, too_much), 409, "accounting.exceeds_credits")
        assert balance(client, fin, other)["balance_minor"] == 0
        problem(post(client, boss, ok), 409, "accounting.id_already_failed")  # burned with its batch


class TestRefusals:
    def test_debits_beyond_credits_are_refused_and_the_id_stays_refused(self, client, boss, fin):
        key = funded(client, boss, 1000)
        body = move(key, "revenue", 1500)
        r = post(client, boss, body)
        problem(r, 409, "accounting.exceeds_credits")
        assert r.json()["data"]["available_minor"] == 1000
        assert post(client, boss, move("equity", key, 1000)).status_code == 201  # now it could pay...
        r = post(client, boss, body)  # ...but the refused id never flips
        problem(r, 409, "accounting.id_already_failed")
        assert r.json()["data"]["reason"] == "accounting.exceeds_credits"
        assert balance(client, fin, key)["balance_minor"] == 2000

    @pytest.mark.parametrize("change, where", [
        ({"entries": [{"kind": "equity", "side": "debit", "amount_minor": 100},
                      {"kind": "revenue", "side": "credit", "amount_minor": 90}]}, "unbalanced"),
        ({"entries": [{"kind": "equity", "side": "debit", "amount_minor": 0},
                      {"kind": "revenue", "side": "credit", "amount_minor": 0}]}, "zero"),
        ({"entries": [{"kind": "equity", "side": "debit", "amount_minor": -5},
                      {"kind": "revenue", "side": "credit", "amount_minor": -5}]}, "negative"),
        ({"currency": "XYZ"}, "currency"),
        ({"entries": [{"kind": "equity", "side": "debit", "amount_minor": 5}]}, "one entry"),
        ({"entries": [{"kind": "cash", "side": "debit", "amount_minor": 5},
                      {"kind": "revenue", "side": "credit", "amount_minor": 5}]}, "kind"),
        ({"entries": [{"kind": "revenue", "owner_id": str(uuid.uuid4()), "side": "debit", "amount_minor": 5},
                      {"kind": "equity", "side": "credit", "amount_minor": 5}]}, "owner"),
        ({"entries": [{"kind": "payable", "side": "debit", "amount_minor": 5},
                      {"kind": "equity", "side": "credit", "amount_minor": 5}]}, "no owner"),
        ({"entries": [{"kind": "equity", "side": "debit", "amount_minor": 1.5},
                      {"kind": "revenue", "side": "credit", "amount_minor": 1.5}]}, "fraction"),
    ])
    def test_bad_entries_are_422_and_change_nothing(self, client, boss, fin, change, where):
        before = client.get("/accounting/reports", headers=fin).json()["trial_balance"]
        r = post(client, boss, {**move("equity", "revenue", 100), **change})
        assert r.status_code == 422, (where, r.text)
        assert r.json()["code"] in ("accounting.unbalanced", "request.validation_failed"), r.json()
        assert client.get("/accounting/reports", headers=fin).json()["trial_balance"] == before

    def test_manual_entries_need_an_admin(self, client, fin):
        _, sender = signed_up(client)
        problem(post(client, sender, move("equity", "revenue", 1)), 403, "auth.forbidden")
        problem(post(client, fin, move("equity", "revenue", 1)), 403, "auth.forbidden")
        assert client.post("/accounting/entries", json={"transfers": [move("equity", "revenue", 1)]}).status_code == 401


class TestTwoPhase:
    def test_a_hold_counts_against_the_balance_then_posts_once(self, client, boss, fin):
        key = funded(client, boss, 1000)
        hold = move(key, "revenue", 600, action="hold")
        assert post(client, boss, hold).json()[0]["state"] == "pending"
        b = balance(client, fin, key)
        assert (b["balance_minor"], b["available_minor"], b["debits_pending"]) == (1000, 400, 600)
        problem(post(client, boss, move(key, "revenue", 500)), 409, "accounting.exceeds_credits")
        commit = {"id": str(uuid.uuid4()), "action": "commit", "pending_id": hold["id"], "code": "manual"}
        [c] = post(client, boss, commit).json()
        assert c["pending_id"] == hold["id"] and c["amount_minor"] == 600
        b = balance(client, fin, key)
        assert (b["balance_minor"], b["available_minor"], b["debits_pending"]) == (400, 400, 0)
        void = {"id": str(uuid.uuid4()), "action": "void", "pending_id": hold["id"], "code": "manual"}
        problem(post(client, boss, void), 409, "accounting.pending_already_resolved")
        problem(post(client, boss, {**commit, "id": str(uuid.uuid4())}), 409, "accounting.pending_already_resolved")
        assert post(client, boss, commit).json()[0]["result"] == "exists"

    def test_a_void_gives_the_held_amount_back(self, client, boss, fin):
        key = funded(client, boss, 1000)
        hold = move(key, "revenue", 1000, action="hold")
        post(client, boss, hold)
        post(client, boss, {"id": str(uuid.uuid4()), "action": "void", "pending_id": hold["id"], "code": "manual"})
        b = balance(client, fin, key)
        assert (b["balance_minor"], b["available_minor"], b["debits_pending"]) == (1000, 1000, 0)

    def test_resolving_an_unknown_or_single_phase_transfer_is_refused(self, client, boss):
        plain = move("equity", "revenue", 10)
        post(client, boss, plain)
        for pending in (str(uuid.uuid4()), plain["id"]):
            r = post(client, boss, {"id": str(uuid.uuid4()), "action": "commit", "pending_id": pending,
                                    "code": "manual"})
            problem(r, 409, "accounting.pending_not_found")

    def test_fifty_concurrent_commits_of_one_pending_transfer_post_it_once(self, call, platform, client, boss, fin):
        key = funded(client, boss, 1000)
        hold = move(key, "revenue", 700, action="hold")
        post(client, boss, hold)
        svc = ledger(platform)
        same = TransferIn.resolve(uuid.uuid4(), uuid.UUID(hold["id"]), commit=True, code="manual")
        others = [TransferIn.resolve(uuid.uuid4(), uuid.UUID(hold["id"]), commit=bool(i % 2), code="manual")
                  for i in range(10)]

        async def race():
            return await asyncio.gather(*(svc.post([same]) for _ in range(40)),
                                        *(svc.post([o]) for o in others), return_exceptions=True)

        outcomes = call(race)
        made = [o for o in outcomes if isinstance(o, list) and o[0].result == "created"]
        assert len(made) == 1, outcomes
        assert all(isinstance(o, list) or o.code == "accounting.pending_already_resolved" for o in outcomes)
        b = balance(client, fin, key)
        assert b["debits_pending"] == 0 and b["balance_minor"] in (300, 1000)


class TestReversals:
    def test_a_reversal_mirrors_a_posted_transfer_once(self, client, boss, fin):
        key = funded(client, boss, 800)
        wrong = move(key, "revenue", 300)
        post(client, boss, wrong)
        bad = {**move(key, "revenue", 300), "reverses_id": wrong["id"]}  # same direction: not a mirror
        problem(post(client, boss, bad), 409, "accounting.reversal_mismatch")
        fix = {**move("revenue", key, 300), "reverses_id": wrong["id"]}
        assert post(client, boss, fix).status_code == 201
        assert balance(client, fin, key)["balance_minor"] == 800
        again = {**move("revenue", key, 300), "reverses_id": wrong["id"]}
        problem(post(client, boss, again), 409, "accounting.reversal_mismatch")


class TestBalances:
    def test_a_balance_at_a_point_in_time(self, client, boss, fin):
        key = funded(client, boss, 100)
        between = datetime.now(timezone.utc).isoformat()
        post(client, boss, move("equity", key, 50))
        assert balance(client, fin, key)["balance_minor"] == 150
        then = balance(client, fin, key, at=between)
        assert then["balance_minor"] == 100 and then["at"] is not None
        assert balance(client, fin, key, at="2020-01-01T00:00:00Z")["balance_minor"] == 0

    def test_a_user_reads_only_their_own_payable_account(self, client, boss, call, platform):
        user, h = signed_up(client)
        call(ledger(platform).post, [TransferIn.move(uuid.uuid4(), AccountRef(kind="equity"),
                                                     AccountRef(kind="payable", owner_id=user["id"]), 42, "EUR",
                                                     code="manual")])
        assert balance(client, h, f"payable:{user['id']}")["balance_minor"] == 42
        problem(client.get("/accounting/balance", params={"account": f"payable:{uuid.uuid4()}", "currency": "EUR"},
                           headers=h), 404, "accounting.account_not_found")
        problem(client.get("/accounting/balance", params={"account": "revenue", "currency": "EUR"}, headers=h),
                404, "accounting.account_not_found")

    @pytest.mark.parametrize("account", ["cash", "payable", "revenue:" + str(uuid.uuid4()), "payable:not-a-uuid"])
    def test_a_bad_account_key_is_422(self, client, fin, account):
        r = client.get("/accounting/balance", params={"account": account, "currency": "EUR"}, headers=fin)
        assert r.status_code == 422, r.text

    def test_zero_and_three_decimal_currencies_are_whole_minor_units(self, client, boss, fin):
        yen, dinar = f"payable:{uuid.uuid4()}", f"payable:{uuid.uuid4()}"
        post(client, boss, move("equity", yen, 1500, "JPY"), )
        post(client, boss, move("equity", dinar, 1250, "KWD"))
        assert balance(client, fin, yen, "JPY")["balance_minor"] == 1500
        assert balance(client, fin, dinar, "KWD")["balance_minor"] == 1250
        assert balance(client, fin, dinar, "JPY")["balance_minor"] == 0  # one account per currency


class TestReconcileAndReports:
    def test_reconcile_needs_finance_and_reports_a_broken_account(self, client, boss, fin, call, platform):
        _, sender = signed_up(client)
        problem(client.post("/accounting/reconcile", headers=sender), 403, "auth.forbidden")
        key = funded(client, boss, 300)
        owner = uuid.UUID(key.split(":")[1])
        svc = ledger(platform)

        async def tamper(delta: int):
            async with svc.uow() as uow:
                await uow.session.execute(update(LedgerAccount).where(LedgerAccount.owner_id == owner)
                                          .values(credits_posted=LedgerAccount.credits_posted + delta))

        call(tamper, 7)
        try:
            out = client.post("/accounting/reconcile", headers=fin).json()
            mine = [m for m in out["mismatches"] if m["subject"] and str(owner) in m["subject"]]
            assert not out["ok"] and [m["check"] for m in mine] == ["account_entries"], out["mismatches"]
            assert any(m["check"] == "currency_balanced" and m["subject"] == "EUR" for m in out["mismatches"])
        finally:
            call(tamper, -7)
        out = client.post("/accounting/reconcile", headers=fin).json()
        assert not [m for m in out["mismatches"] if m["subject"] and str(owner) in m["subject"]]
        assert out["transfers"] > 0 and out["accounts"] > 0

    def test_reports_show_the_trial_balance_revenue_by_period_and_escrow(self, client, boss, fin):
        post(client, boss, move("equity", "revenue", 1234, "GBP"))
        r = client.get("/accounting/reports", params={"period": "day"}, headers=fin)
        assert r.status_code == 200, r.text
        out = r.json()
        today = datetime.now(timezone.utc).strftime("%Y-%m-%d")
        assert any(x["kind"] == "revenue" and x["currency"] == "GBP" and x["period"] == today
                   and x["amount_minor"] >= 1234 for x in out["revenue_and_fees"])
        gbp = [x for x in out["trial_balance"] if x["currency"] == "GBP"]
        assert sum(x["debits_posted"] for x in gbp) == sum(x["credits_posted"] for x in gbp)
        month = client.get("/accounting/reports", params={"period": "month", "start": "2020-01-01T00:00:00Z",
                                                          "end": "2020-02-01T00:00:00Z"}, headers=fin).json()
        assert month["revenue_and_fees"] == []
        problem(client.get("/accounting/reports", headers=signed_up(client)[1]), 403, "auth.forbidden")
        assert client.get("/accounting/reports", params={"period": "year"}, headers=fin).status_code == 422
