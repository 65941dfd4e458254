"""The split bill's edges: hostile or mistaken requests from a guest's page or a kiosk get a clear
refusal and change nothing (one provider and engine: these are the service's own checks)."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import psycopg

from sync_service.api.auth import issue_kiosk_token
from tablepay_sandbox.mollie import MollieOptions
from tests.support.bills import Table, split_order
from tests.support.harness import running_harness
from tests.support.waiting import eventually

PIZZAS = [
    {"sku": "PIZZA", "name": "Pizza", "quantity": 3, "unit_amount": 1200},
    {"sku": "WATER", "name": "Water", "quantity": 1, "unit_amount": 300},
]


def test_a_guest_request_that_is_wrong_is_refused_in_words_and_changes_nothing(tmp_path: Path) -> None:
    with running_harness(tmp_path) as h:
        table = Table(h, split_order("ord-guards", lines=PIZZAS))
        before = table.state()
        cases = [
            ({"mode": "items", "items": []}, 422, "Choose at least one dish"),
            ({"mode": "items", "items": [{"sku": "CAVIAR", "quantity": 1}]}, 409, "not on this bill"),
            ({"mode": "items", "items": [{"sku": "PIZZA", "quantity": 4}]}, 409, "only 3 left"),
            ({"mode": "amount", "amount": 10}, 422, "at least"),
            ({"mode": "amount", "amount": 999999}, 409, "Only"),
            ({"mode": "amount"}, 422, "Enter the amount"),
            ({"mode": "equal", "pay_shares": 1}, 422, "how many ways"),
            ({"mode": "equal", "shares": 3, "pay_shares": 4}, 422, "1 to 3"),
            ({"mode": "amount", "amount": "12.50"}, 422, "amount"),
            ({"mode": "amount", "amount": 12.5}, 422, "amount"),
            ({"mode": "remaining", "tip_amount": -1}, 422, "tip_amount"),
            ({"mode": "remaining", "secret": 1}, 422, "secret"),
            ({"mode": "everything"}, 422, "mode"),
            ({"mode": "remaining", "tip_amount": 10**9}, 422, "at most the whole bill"),
        ]
        for body, status, words in cases:
            answer = table.ask(**body)
            assert answer.status_code == status, (body, answer.text)
            assert words in answer.json()["error"]["message"], (body, answer.text)
        assert table.state() == before  # nothing held, nothing changed
        missing = httpx.get(f"{h.service.url}/bill/{'x' * 43}/state")
        assert missing.status_code == 404 and "no longer works" in missing.json()["error"]["message"]
        assert (
            httpx.post(f"{h.service.url}/bill/short/shares", json={"mode": "remaining", "version": 1}).status_code
            == 404
        )


def test_the_token_is_unguessable_and_the_state_tells_nothing_of_others(tmp_path: Path) -> None:
    with running_harness(tmp_path) as h:
        first = Table(h, split_order("ord-a", lines=PIZZAS, waiter="Ana", table="7"))
        second = Table(h, split_order("ord-b", lines=PIZZAS))
        tokens = {first.bill["token"], second.bill["token"]}
        assert len(tokens) == 2 and all(len(t) >= 43 for t in tokens)  # 32 random bytes in base64url
        assert first.bill["bill_url"] == f"{h.service.url}/bill/{first.bill['token']}"
        text = httpx.get(f"{first.url}/state").text
        for secret in ("kiosk-1", "ord-a", "ord-b", "Ana", second.bill["token"], "bill_"):
            assert secret not in text, secret
        # Another order's share is not this bill's receipt.
        share = second.take(mode="remaining")
        assert "receipt" not in first.state(share=share["share_id"])
        assert second.state(share=share["share_id"])["receipt"]["amount"] == 3900


def test_a_settled_bill_link_stops_working_an_hour_later(tmp_path: Path) -> None:
    with running_harness(tmp_path) as h:
        table = Table(h, split_order("ord-hour", lines=PIZZAS))
        table.pay(table.take(mode="remaining"))
        assert table.state()["status"] == "settled"
        repo = h.app.state.repo

        async def an_hour_ago() -> None:
            with repo.transaction():
                repo.update_bill(table.bill["bill_id"], closed_at=time.time() - 3601)

        h.service.run(an_hour_ago())
        assert httpx.get(f"{table.url}/state").status_code == 404


def test_a_token_flood_is_rate_limited(tmp_path: Path) -> None:
    with running_harness(tmp_path) as h:
        table = Table(h, split_order("ord-flood", lines=PIZZAS))
        with httpx.Client(timeout=30) as guest:
            answers = [guest.post(f"{table.url}/shares", json={"mode": "items", "version": 1}) for _ in range(30)]
        codes = [a.status_code for a in answers]
        assert codes[:20] == [422] * 20 and 429 in codes[20:], codes
        limited = next(a for a in answers if a.status_code == 429)
        assert limited.headers["Retry-After"] and "wait" in limited.json()["error"]["message"]


def test_kiosk_routes_check_the_token_and_the_order(tmp_path: Path) -> None:
    with running_harness(tmp_path) as h:
        order = split_order("ord-kiosk-guard", lines=PIZZAS)
        assert httpx.post(f"{h.service.url}/v1/orders/ord-kiosk-guard/bill", json=order).status_code == 401
        tipped = h.kiosk.post("/v1/orders/ord-kiosk-guard/bill", json={**order, "tip_amount": 100})
        assert tipped.status_code == 422 and "own tip" in tipped.json()["error"]["message"]
        wrong_path = h.kiosk.post("/v1/orders/another/bill", json=order)
        assert wrong_path.status_code == 422
        assert h.kiosk.post("/v1/orders/ord-kiosk-guard/bill", json=order).status_code == 201
        assert h.kiosk.post("/v1/orders/ord-kiosk-guard/bill", json=order).status_code == 200

        async def second_kiosk() -> str:  # on the service's loop, which owns its connection
            return issue_kiosk_token(h.app.state.repo, "kiosk-2")

        other = h.service.run(second_kiosk())
        with httpx.Client(base_url=h.service.url, headers={"Authorization": f"Bearer {other}"}) as stranger:
            assert (
                stranger.post("/v1/orders/ord-kiosk-guard/bill", json={**order, "kiosk_id": "kiosk-2"}).status_code
                == 403
            )
            assert stranger.delete("/v1/orders/ord-kiosk-guard/bill").status_code == 404


def test_a_token_with_bytes_no_token_has_is_a_404_on_every_engine(tmp_path: Path, database_url: str | None) -> None:
    # PostgreSQL refuses a NUL in a text parameter: a hostile link must not reach the query as one (it was a 500).
    with running_harness(tmp_path, database_url=database_url) as h:
        hostile = "%00" * 30
        assert httpx.get(f"{h.service.url}/bill/{hostile}").status_code == 404
        assert httpx.get(f"{h.service.url}/bill/{hostile}/state").status_code == 404
        taken = httpx.post(f"{h.service.url}/bill/{hostile}/shares", json={"mode": "remaining", "version": 1})
        assert taken.status_code == 404, taken.text


def test_the_last_cents_of_a_bill_stay_payable_at_the_provider(tmp_path: Path) -> None:
    # The provider charges at least 0.50 EUR: a part leaving less behind made the next guest's share a 502.
    espresso = {"sku": "ESPRESSO", "name": "Espresso", "quantity": 1, "unit_amount": 30}
    with running_harness(tmp_path) as h:
        table = Table(h, split_order("ord-cents", lines=[*PIZZAS, espresso]))
        leaves_too_little = table.ask(mode="amount", amount=3900)
        assert leaves_too_little.status_code == 422, leaves_too_little.text
        assert "leave at least 0.50 EUR" in leaves_too_little.json()["error"]["message"]
        table.pay(table.take(mode="items", items=[{"sku": "PIZZA", "quantity": 3}, {"sku": "WATER", "quantity": 1}]))
        untipped = table.ask(mode="remaining")
        assert untipped.status_code == 422, untipped.text
        assert "add a tip" in untipped.json()["error"]["message"]
        assert table.state()["held"] == 0
        last = table.take(mode="remaining", tip_amount=20)
        assert (last["amount"], last["amount_total"]) == (30, 50)


def test_an_earlier_checkout_paid_after_the_split_opened_ends_the_shares(tmp_path: Path) -> None:
    # Stripe keeps a declined checkout open: the guest may pay it after the waiter opened the split.
    with running_harness(tmp_path) as h:
        order = split_order("ord-paid-before", lines=PIZZAS)
        full = h.checkout(order).json()
        h.complete(full, "failed")
        h.wait_status(full["payment_id"], "failed")
        table = Table(h, order)
        held = table.take(mode="items", items=[{"sku": "PIZZA", "quantity": 1}])
        h.complete(full, "succeeded")  # the whole order is paid now
        h.wait_status(full["payment_id"], "paid")
        more = table.ask(mode="remaining")
        assert more.status_code == 409, more.text  # was 201: the order would be paid twice
        late = table.pay(held)  # a share already being paid is kept, left out of the bill, flagged
        assert late["attention"] and "refund" in late["attention"], late
        state = table.state()
        assert (state["paid"], state["status"]) == (0, "open")
        assert h.payment(full["payment_id"])["attention"] is None


def test_a_late_success_and_a_share_on_another_instance_never_both_take_the_rest(
    tmp_path: Path, postgres_url: str
) -> None:
    # Both decide before either commits: the test holds the feed counter every transaction writes last,
    # so a decision that is not taken with the order locked reads the bill without the other's share.
    with (
        running_harness(tmp_path, database_url=postgres_url, share_hold_seconds=1, background=False) as h,
        h.second_instance(background=False, share_hold_seconds=300) as other,
    ):
        table = Table(h, split_order("ord-race", lines=PIZZAS))
        late = table.take(mode="remaining")
        eventually(lambda: table.state()["held"] == 0 or _fail(), message="the hold lapsed")
        h.sandbox_mode("hold")  # the late success reaches the service only by the kiosk's refresh below
        h.complete({"payment_id": late["share_id"], "checkout_url": late["checkout_url"]}, "succeeded")
        with psycopg.connect(postgres_url) as gate, psycopg.connect(postgres_url, autocommit=True) as watch:
            gate.execute("SELECT last_seq FROM feed_counter WHERE id = 1 FOR UPDATE")
            with ThreadPoolExecutor(2) as pool:
                taken = pool.submit(
                    httpx.post,
                    f"{other.url}/bill/{table.bill['token']}/shares",
                    json={"mode": "remaining", "version": 1},
                    timeout=30,
                )
                refreshed = pool.submit(h.kiosk.post, f"/v1/payments/{late['share_id']}/refresh")

                def both_waiting() -> bool:
                    row = watch.execute(
                        "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                        "AND datname = current_database()"
                    ).fetchone()
                    assert row is not None and row[0] >= 2, row
                    return True

                eventually(both_waiting, message="both transactions waiting")
                gate.rollback()
                share, seen = taken.result(), refreshed.result()
        assert seen.status_code == 200 and seen.json()["status"] == "paid", seen.text
        state = table.state()
        assert state["paid"] + state["held"] <= state["total"], (state, share.text)  # never more than the bill
        assert (share.status_code == 201) == bool(h.payment(late["share_id"])["attention"]), share.text


def _fail() -> bool:
    raise AssertionError("not yet")


def test_a_lapsed_hold_the_provider_cannot_stop_tells_the_kiosk(tmp_path: Path) -> None:
    # Mollie's card and iDEAL checkouts cannot be cancelled while open: the part is free all the same,
    # and the kiosk's split screen must hear it (it showed the guest as still paying).
    options = MollieOptions(retry_time_factor=1e-4, cancelable_while_open=False)
    with running_harness(tmp_path, provider="mollie", mollie_options=options, share_hold_seconds=1) as h:
        table = Table(h, split_order("ord-unstoppable", lines=PIZZAS))
        share = table.take(mode="remaining")

        def told() -> dict[str, object]:
            last = [e for e in h.feed() if e["event"].startswith("bill.")][-1]
            assert last["event"] == "bill.updated" and last["bill"]["held"] == 0, last
            return last

        last = eventually(told, timeout=10, message="the kiosk told the hold lapsed")
        assert last["bill"]["guests_paying"] == 0 and last["bill"]["remaining"] == 3900
        assert h.payment(share["share_id"])["status"] == "open"  # still payable at Mollie: judged if paid


def test_a_checkout_the_provider_keeps_failing_to_stop_is_tried_for_ten_minutes_then_left(tmp_path: Path) -> None:
    # Mollie's fake answers 503 to every call while armed; the hold job is driven by hand (background off).
    with running_harness(tmp_path, provider="mollie", background=False, share_hold_seconds=1) as h:
        table = Table(h, split_order("ord-unstoppable", lines=PIZZAS))
        share = table.take(mode="remaining")
        repo, bills = h.app.state.repo, h.app.state.bills

        def lapsed(seconds_ago: float) -> float | None:
            async def move() -> float | None:
                with repo.transaction():
                    repo.update_payment(share["share_id"], hold_until=time.time() - seconds_ago)
                await bills.stop_lapsed_holds()
                found = repo.payment(share["share_id"])
                return found.hold_until if found else None

            return h.service.run(move())

        armed = h.provider.http.post("/_sandbox/mollie/faults", json={"status": 503, "count": 1000})
        assert armed.status_code == 200, armed.text
        assert lapsed(5) > 0  # still being tried, on the next round
        assert lapsed(601) == 0  # given up: left open, its part free
        assert h.payment(share["share_id"])["status"] == "open"
        assert table.state()["held"] == 0
