"""Payout Service over HTTP: payouts out of the payable balance through the sandbox
provider, settled on a poll (paid: hold committed; failed: voided, money back), exactly
once under races and replays, users' lists, and finance's batch runs."""
from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor

from deployments.payouts.errors import ProviderUnavailable
from storage.models.payouts import PayoutBatch
from tests.factories.common import problem
from tests.factories.identity import signed_up, user_with
from tests.factories.payouts import create_payout, events_of, payable, payout_body, seed_payable, transfers


def payouts(platform):
    return platform.runtime.services["payouts"]


def traveler(client, call, platform, amount_minor: int = 10_000, currency: str = "EUR"):
    user, h = user_with(client, call, platform, "traveler")
    seed_payable(call, platform, user["id"], amount_minor, currency)
    return user, h


class TestCreate:
    def test_a_payout_is_held_submitted_and_paid_on_the_next_read(self, client, call, platform, earner):
        user, h = earner
        p = create_payout(client, h, amount_minor=4000)
        assert p["status"] == "in_transit" and p["amount_minor"] == 4000 and p["provider_ref"].startswith("po_sb_")
        bal = payable(call, platform, user["id"])
        assert (bal.balance_minor, bal.available_minor, bal.debits_pending) == (10_000, 6000, 4000)
        assert transfers(call, platform, p["hold_transfer_id"])[p["hold_transfer_id"]].state == "pending"

        got = client.get(f"/payouts/{p['id']}", headers=h).json()
        assert got["status"] == "paid" and got["settled_at"] and got["resolve_transfer_id"]
        bal = payable(call, platform, user["id"])
        assert (bal.balance_minor, bal.available_minor, bal.debits_pending) == (6000, 6000, 0)
        found = transfers(call, platform, got["hold_transfer_id"], got["resolve_transfer_id"])
        assert found[got["hold_transfer_id"]].state == "committed"
        assert found[got["resolve_transfer_id"]].action == "commit" and found[got["resolve_transfer_id"]].code == \
            "payout.paid"
        assert events_of(call, platform, p["id"]) == ["payout.created", "payout.paid"]

    def test_without_an_amount_the_whole_available_balance_is_paid_out(self, client, call, platform, earner):
        user, h = earner
        p = create_payout(client, h)
        assert p["amount_minor"] == 10_000 and payable(call, platform, user["id"]).available_minor == 0

    def test_a_failed_payout_gives_the_money_back(self, client, call, platform, earner):
        user, h = earner
        p = create_payout(client, h, amount_minor=7000, destination="ba_sandbox_fail_account_closed")
        assert payable(call, platform, user["id"]).available_minor == 3000
        got = client.get(f"/payouts/{p['id']}", headers=h).json()
        assert got["status"] == "failed" and got["failure_code"] == "account_closed" and got["failure_message"]
        bal = payable(call, platform, user["id"])
        assert (bal.balance_minor, bal.available_minor) == (10_000, 10_000)
        found = transfers(call, platform, got["hold_transfer_id"], got["resolve_transfer_id"])
        assert found[got["hold_transfer_id"]].state == "voided"
        assert found[got["resolve_transfer_id"]].action == "void"
        assert events_of(call, platform, p["id"]) == ["payout.created", "payout.failed"]

    def test_a_payout_the_provider_refuses_at_submission_fails_at_once(self, client, call, platform, earner):
        user, h = earner
        p = create_payout(client, h, amount_minor=5000, destination="ba_sandbox_reject")
        assert p["status"] == "failed" and p["failure_code"] == "could_not_process" and p["provider_ref"] is None
        assert payable(call, platform, user["id"]).available_minor == 10_000

    def test_a_payout_above_the_balance_is_refused_and_changes_nothing(self, client, call, platform, earner):
        user, h = earner
        r = client.post("/payouts", json=payout_body(amount_minor=10_001), headers=h)
        problem(r, 409, "payout.exceeds_balance")
        assert r.json()["data"] == {"amount_minor": 10_001, "available_minor": 10_000, "currency": "EUR"}
        problem(client.post("/payouts", json=payout_body(currency="USD"), headers=h), 409,
                "payout.balance_below_minimum")  # nothing in USD
        assert client.get(f"/payouts/user/{user['id']}", headers=h).json()["items"] == []
        assert payable(call, platform, user["id"]).available_minor == 10_000

    def test_bad_amounts_currencies_and_destinations_are_422_and_change_nothing(self, client, call, platform, earner):
        user, h = earner
        for field, body in [("amount_minor", payout_body(amount_minor=0)),
                            ("amount_minor", payout_body(amount_minor=-500)),
                            ("amount_minor", payout_body(amount_minor=150.5)),
                            ("amount_minor", payout_body(amount_minor=150.0)),
                            ("amount_minor", payout_body(amount_minor="150")),
                            ("amount_minor", payout_body(amount_minor=10**16)),
                            ("currency", payout_body(currency="XXQ")),
                            ("currency", payout_body(currency="EURO")),
                            ("destination", payout_body(destination="ba sandbox/../ok")),
                            ("destination", payout_body(destination=None))]:
            r = client.post("/payouts", json=body, headers=h)
            problem(r, 422, "request.validation_failed")
            assert any(e["loc"][-1] == field for e in r.json()["data"]["errors"]), (field, r.json())
        problem(client.post("/payouts", json=payout_body(destination="ba_live_123"), headers=h), 422,
                "payout.invalid_destination")
        r = client.post("/payouts", json=payout_body(amount_minor=99), headers=h)
        problem(r, 422, "payout.below_minimum")
        assert r.json()["data"]["min_minor"] == 100
        problem(client.post("/payouts", content=b"{nope", headers={**h, "content-type": "application/json"}), 400,
                "request.malformed_json")
        assert client.get(f"/payouts/user/{user['id']}", headers=h).json()["items"] == []
        assert payable(call, platform, user["id"]).available_minor == 10_000

    def test_a_whole_balance_below_the_minimum_is_refused(self, client, call, platform):
        _, h = traveler(client, call, platform, amount_minor=99)
        r = client.post("/payouts", json=payout_body(), headers=h)
        problem(r, 409, "payout.balance_below_minimum")
        assert r.json()["data"]["available_minor"] == 99

    def test_currencies_of_other_exponents_are_paid_in_their_own_minor_units(self, client, call, platform):
        user, h = traveler(client, call, platform, amount_minor=1234, currency="KWD")  # 1.234 KWD
        seed_payable(call, platform, user["id"], 5000, "JPY")
        kwd, jpy = create_payout(client, h, currency="kwd"), create_payout(client, h, currency="JPY", amount_minor=300)
        assert (kwd["currency"], kwd["amount_minor"], jpy["currency"], jpy["amount_minor"]) == ("KWD", 1234, "JPY", 300)
        assert payable(call, platform, user["id"], "JPY").available_minor == 4700
        assert payable(call, platform, user["id"], "EUR").available_minor == 0

    def test_paying_out_needs_the_payouts_write_permission(self, client):
        _, h = signed_up(client)
        problem(client.post("/payouts", json=payout_body(), headers=h), 403, "auth.forbidden")
        problem(client.post("/payouts", json=payout_body()), 401, "auth.unauthorized")


class TestExactlyOnce:
    def test_twenty_concurrent_payouts_of_the_whole_balance_make_one(self, client, call, platform, earner):
        user, h = earner
        with ThreadPoolExecutor(max_workers=20) as pool:
            answers = list(pool.map(lambda _: client.post("/payouts", json=payout_body(), headers=h), range(20)))
        assert sorted(r.status_code for r in answers) == [201] + [409] * 19, [r.text for r in answers]
        assert {r.json()["code"] for r in answers if r.status_code == 409} <= {
            "payout.exceeds_balance", "payout.balance_below_minimum"}
        [made] = client.get(f"/payouts/user/{user['id']}", headers=h).json()["items"]
        assert made["amount_minor"] == 10_000
        assert payable(call, platform, user["id"]).available_minor == 0

    def test_the_same_idempotency_key_twice_makes_one_payout(self, client, call, platform, earner):
        user, h = earner
        key = {**h, "Idempotency-Key": f"payout-{uuid.uuid4()}"}
        first = client.post("/payouts", json=payout_body(amount_minor=2500), headers=key)
        again = client.post("/payouts", json=payout_body(amount_minor=2500), headers=key)
        assert first.status_code == again.status_code == 201 and again.headers.get("Idempotent-Replayed") == "true"
        assert first.json()["id"] == again.json()["id"]
        problem(client.post("/payouts", json=payout_body(amount_minor=2600), headers=key), 422,
                "idempotency.key_reused")
        assert len(client.get(f"/payouts/user/{user['id']}", headers=h).json()["items"]) == 1
        assert payable(call, platform, user["id"]).available_minor == 7500

    def test_repeated_and_concurrent_reads_settle_once(self, client, call, platform, earner):
        user, h = earner
        p = create_payout(client, h, amount_minor=6000)
        with ThreadPoolExecutor(max_workers=8) as pool:
            reads = list(pool.map(lambda _: client.get(f"/payouts/{p['id']}", headers=h), range(8)))
        assert {r.status_code for r in reads} == {200} and {r.json()["status"] for r in reads} == {"paid"}
        assert len({r.json()["version"] for r in reads}) == 1
        again = client.get(f"/payouts/{p['id']}", headers=h).json()
        assert again == reads[0].json()
        assert events_of(call, platform, p["id"]) == ["payout.created", "payout.paid"]
        bal = payable(call, platform, user["id"])
        assert (bal.balance_minor, bal.available_minor, bal.debits_posted) == (4000, 4000, 6000)

    def test_a_payout_the_provider_could_not_take_stays_pending_and_is_submitted_on_read(
            self, client, call, platform, earner, monkeypatch):
        user, h = earner

        async def down(order):
            raise ProviderUnavailable("The sandbox is down.")
        monkeypatch.setattr(payouts(platform).provider, "submit", down)
        p = create_payout(client, h, amount_minor=3000)
        assert p["status"] == "pending" and p["held_at"] and p["provider_ref"] is None
        assert payable(call, platform, user["id"]).available_minor == 7000
        monkeypatch.undo()
        got = client.get(f"/payouts/{p['id']}", headers=h).json()
        assert got["status"] == "paid" and got["provider_ref"]

    def test_the_ledger_claims_match_the_ledger(self, client, call, platform, earner, finance):
        _, h = earner
        paid = create_payout(client, h, amount_minor=1000)
        client.get(f"/payouts/{paid['id']}", headers=h)
        failed = create_payout(client, h, amount_minor=1000, destination="ba_sandbox_fail_no_account")
        client.get(f"/payouts/{failed['id']}", headers=h)
        moving = create_payout(client, h, amount_minor=1000, destination="ba_sandbox_in_transit")
        client.get(f"/payouts/{moving['id']}", headers=h)
        claims = {(c.subject, c.state) for c in call(payouts(platform).ledger_claims)}
        assert {(f"payout:{paid['id']}", "committed"), (f"payout:{paid['id']}", "posted"),
                (f"payout:{failed['id']}", "voided"), (f"payout:{failed['id']}", "posted"),
                (f"payout:{moving['id']}", "pending")} <= claims
        assert not {s for s, _ in claims if s == f"payout:{moving['id']}"} - {f"payout:{moving['id']}"}
        r = client.post("/accounting/reconcile", headers=finance[1])
        assert r.status_code == 200, r.text
        assert [m for m in r.json()["mismatches"] if (m["subject"] or "").startswith("payout:")] == []


class TestGet:
    def test_another_user_gets_a_404_and_finance_reads_it(self, client, call, platform, earner, finance):
        _, h = earner
        p = create_payout(client, h, amount_minor=1500, destination="ba_sandbox_in_transit")
        _, stranger = user_with(client, call, platform, "traveler")
        problem(client.get(f"/payouts/{p['id']}", headers=stranger), 404, "payout.not_found")
        problem(client.get(f"/payouts/{uuid.uuid4()}", headers=h), 404, "payout.not_found")
        problem(client.get("/payouts/not-a-uuid", headers=h), 422, "request.validation_failed")
        got = client.get(f"/payouts/{p['id']}", headers=finance[1])
        assert got.status_code == 200 and got.json()["status"] == "in_transit"


class TestUserPayouts:
    def test_the_user_pages_through_their_payouts(self, client, call, platform, earner):
        user, h = earner
        made = [create_payout(client, h, amount_minor=1000 + i)["id"] for i in range(3)]
        first = client.get(f"/payouts/user/{user['id']}", params={"limit": 2}, headers=h).json()
        rest = client.get(f"/payouts/user/{user['id']}", params={"limit": 2, "cursor": first["next_cursor"]},
                          headers=h).json()
        assert [p["id"] for p in first["items"] + rest["items"]] == made and rest["next_cursor"] is None
        client.get(f"/payouts/{made[0]}", headers=h)
        paid = client.get(f"/payouts/user/{user['id']}", params={"status": "paid"}, headers=h).json()
        assert [p["id"] for p in paid["items"]] == [made[0]]
        problem(client.get(f"/payouts/user/{user['id']}", params={"cursor": "garbage"}, headers=h), 400,
                "pagination.bad_cursor")
        problem(client.get(f"/payouts/user/{user['id']}", params={"status": "lost"}, headers=h), 422,
                "request.validation_failed")

    def test_another_user_is_refused_and_finance_is_allowed(self, client, call, platform, earner, finance):
        user, h = earner
        p = create_payout(client, h, amount_minor=1000)
        _, stranger = user_with(client, call, platform, "courier")
        problem(client.get(f"/payouts/user/{user['id']}", headers=stranger), 404, "payout.not_found")
        got = client.get(f"/payouts/user/{user['id']}", headers=finance[1])
        assert got.status_code == 200 and [x["id"] for x in got.json()["items"]] == [p["id"]]


class TestBatch:
    def test_a_batch_pays_every_account_above_the_minimum_in_each_currency(self, client, call, platform, finance):
        a, ha = traveler(client, call, platform, 5000, "EUR")
        seed_payable(call, platform, a["id"], 3000, "JPY")
        create_payout(client, ha, amount_minor=1000)  # a's last destination: ba_sandbox_ok
        b, _ = traveler(client, call, platform, 50, "EUR")          # below the minimum
        c, _ = traveler(client, call, platform, 2500, "KWD")        # no payout yet, no destination given
        d, _ = traveler(client, call, platform, 800, "EUR")         # given a closed account
        e, he = traveler(client, call, platform, 2000, "EUR")
        moving = create_payout(client, he, destination="ba_sandbox_in_transit")
        users = [a["id"], b["id"], c["id"], d["id"], e["id"]]
        r = client.post("/payouts/batch", json={"user_ids": users, "destinations": {
            d["id"]: "ba_sandbox_fail_account_closed"}}, headers=finance[1])
        assert r.status_code == 201, r.text
        out = r.json()
        # created: a EUR 4000, a JPY 3000, d EUR 800; submitted with them: a's earlier payout was in transit.
        assert (out["created"], out["submitted"], out["paid"], out["failed"], out["in_transit"]) == (3, 3, 3, 1, 1)
        assert sorted((s["user_id"], s["currency"], s["reason"]) for s in out["skipped"]) == sorted([
            (b["id"], "EUR", "below_minimum"), (c["id"], "KWD", "no_destination")])
        assert (payable(call, platform, a["id"], "EUR").balance_minor, payable(call, platform, a["id"], "JPY")
                .balance_minor) == (0, 0)
        assert payable(call, platform, d["id"]).available_minor == 800
        assert payable(call, platform, c["id"], "KWD").available_minor == 2500
        assert client.get(f"/payouts/{moving['id']}", headers=he).json()["status"] == "in_transit"
        made = [client.get(f"/payouts/{i}", headers=finance[1]).json() for i in out["payout_ids"]]
        assert sorted((p["currency"], p["amount_minor"], p["status"], p["batch_id"]) for p in made) == sorted([
            ("EUR", 4000, "paid", out["id"]), ("JPY", 3000, "paid", out["id"]), ("EUR", 800, "failed", out["id"])])

        async def recorded():
            async with payouts(platform).uow(read=True) as uow:
                return await uow.repo(PayoutBatch).get(uuid.UUID(out["id"]))
        row = call(recorded)
        assert (row.created, row.submitted, row.paid, row.failed, len(row.skipped)) == (3, 3, 3, 1, 2)

        again = client.post("/payouts/batch", json={"user_ids": users}, headers=finance[1]).json()
        assert again["created"] == 0 and again["paid"] == again["failed"] == 0
        assert {(s["user_id"], s["reason"]) for s in again["skipped"]} == {
            (b["id"], "below_minimum"), (c["id"], "no_destination"), (d["id"], "no_destination")}

    def test_a_batch_in_one_currency_submits_pending_payouts(self, client, call, platform, finance, monkeypatch):
        u, h = traveler(client, call, platform, 4000, "GBP")
        seed_payable(call, platform, u["id"], 4000, "EUR")

        async def down(order):
            raise ProviderUnavailable("The sandbox is down.")
        monkeypatch.setattr(payouts(platform).provider, "submit", down)
        stuck = create_payout(client, h, currency="GBP")
        assert stuck["status"] == "pending"
        monkeypatch.undo()
        out = client.post("/payouts/batch", json={"currency": "GBP", "user_ids": [u["id"]]},
                          headers=finance[1]).json()
        assert (out["created"], out["submitted"], out["paid"], out["currency"]) == (0, 1, 1, "GBP")
        assert client.get(f"/payouts/{stuck['id']}", headers=h).json()["status"] == "paid"
        assert payable(call, platform, u["id"], "EUR").available_minor == 4000  # another currency: untouched

    def test_a_batch_needs_finance_and_a_valid_body(self, client, call, platform, earner, finance):
        _, h = earner
        problem(client.post("/payouts/batch", json={}, headers=h), 403, "auth.forbidden")
        for body in [{"currency": "XXQ"}, {"limit": 0}, {"user_ids": ["nope"]}, {"destinations": {"x": "ba_ok"}},
                     {"surprise": 1}]:
            problem(client.post("/payouts/batch", json=body, headers=finance[1]), 422, "request.validation_failed")

