"""A bill split between guests, over real HTTP: the kiosk opens it, guests take shares from its page's
API and pay them at the provider (the sandbox), for Stripe and Mollie, on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.bills import Table, split_order
from tests.support.harness import Harness, running_harness
from tests.support.providers import PROVIDERS
from tests.support.waiting import eventually

pytestmark = pytest.mark.parametrize("provider", PROVIDERS)

ODD = [{"sku": "MENU", "name": "Tasting menu", "quantity": 1, "unit_amount": 10000}]
PIZZAS = [
    {"sku": "PIZZA", "name": "Pizza", "quantity": 3, "unit_amount": 1200},
    {"sku": "WATER", "name": "Water", "quantity": 1, "unit_amount": 300},
]


def at_once(count: int, work: Callable[[int], Any]) -> list[Any]:
    """`work(i)` for i < count in threads released together, so their requests race."""
    gate = threading.Barrier(count)

    def run(i: int) -> Any:
        gate.wait()
        return work(i)

    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(run, range(count)))


def bill_events(h: Harness) -> list[dict[str, Any]]:
    return [e for e in h.feed() if e["event"].startswith("bill.")]


def test_three_guests_pay_equal_thirds_of_an_odd_total_at_once(
    tmp_path: Path, provider: str, database_url: str | None
) -> None:
    with running_harness(tmp_path, provider=provider, database_url=database_url) as h:
        table = Table(h, split_order("ord-thirds", lines=ODD))
        assert (table.bill["total"], table.bill["remaining"], table.bill["status"]) == (10000, 10000, "open")
        version = table.state()["version"]
        clients = [httpx.Client(timeout=30) for _ in range(3)]
        try:
            answers = at_once(
                3,
                lambda i: clients[i].post(
                    f"{table.url}/shares",
                    json={"mode": "equal", "shares": 3, "pay_shares": 1, "tip_amount": 100 * i, "version": version},
                ),
            )
        finally:
            for client in clients:
                client.close()
        assert [a.status_code for a in answers] == [201, 201, 201], [a.text for a in answers]
        shares = [a.json() for a in answers]
        # Whoever came last paid the rest: 3333 + 3333 + 3334, whatever the order.
        assert sorted(s["amount"] for s in shares) == [3333, 3333, 3334]
        assert sum(s["amount"] for s in shares) == 10000
        assert [s["tip_amount"] for s in shares] == [0, 100, 200]
        assert all(s["amount_total"] == s["amount"] + s["tip_amount"] for s in shares)
        during = table.state()
        assert (during["held"], during["remaining"], during["guests_paying"]) == (10000, 0, 3)
        assert during["equal_shares_left"] == 0

        for share in shares[:2]:
            table.pay(share)
        assert table.state()["status"] == "open"
        table.pay(shares[2])
        settled = eventually(lambda: _status(table, "settled"), message="bill settled")
        assert (settled["paid"], settled["remaining"], settled["held"]) == (10000, 0, 0)
        # Each share charged what the service priced: its part plus its tip, at the provider itself.
        for share in shares:
            charged, currency = h.provider.charged({"checkout_url": share["checkout_url"]}, 2)
            assert (charged, currency) == (share["amount"] + share["tip_amount"], "EUR")
        names = [e["event"] for e in bill_events(h)]
        assert names.count("bill.share_paid") == 3 and names[-1] == "bill.settled", names
        assert bill_events(h)[-1]["bill"]["paid"] == 10000


def _status(table: Table, status: str) -> dict[str, Any]:
    state = table.state()
    assert state["status"] == status, state
    return state


def test_two_guests_claiming_the_last_unit_of_a_dish_get_one_201_and_one_409(
    tmp_path: Path, provider: str, database_url: str | None
) -> None:
    with running_harness(tmp_path, provider=provider, database_url=database_url) as h:
        table = Table(h, split_order("ord-last-pizza", lines=PIZZAS))
        table.take(mode="items", items=[{"sku": "PIZZA", "quantity": 2}])
        version = table.state()["version"]
        clients = [httpx.Client(timeout=30) for _ in range(2)]
        try:
            answers = at_once(
                2,
                lambda i: clients[i].post(
                    f"{table.url}/shares",
                    json={"mode": "items", "items": [{"sku": "PIZZA", "quantity": 1}], "version": version},
                ),
            )
        finally:
            for client in clients:
                client.close()
        assert sorted(a.status_code for a in answers) == [201, 409], [a.text for a in answers]
        refused = next(a for a in answers if a.status_code == 409).json()
        assert refused["error"]["code"] == "bill_changed"
        assert "Pizza" in refused["error"]["message"]
        pizza = next(line for line in refused["state"]["lines"] if line["sku"] == "PIZZA")
        assert (pizza["held"], pizza["free"]) == (3, 0)
        # The water is still free for anyone.
        assert table.take(mode="items", items=[{"sku": "WATER", "quantity": 1}])["amount"] == 300


def test_a_lapsed_hold_frees_its_dishes_and_expires_its_checkout(
    tmp_path: Path, provider: str, database_url: str | None
) -> None:
    with running_harness(tmp_path, provider=provider, database_url=database_url, share_hold_seconds=1) as h:
        table = Table(h, split_order("ord-lapse", lines=PIZZAS))
        share = table.take(mode="items", items=[{"sku": "PIZZA", "quantity": 3}])
        assert share["expires_at"] <= time.time() + 2
        assert table.state()["lines"][0]["free"] == 0
        # The hold job stops the checkout at the provider; the share becomes expired and its pizzas free.
        _stopped(h, share)
        state = table.state()
        assert (state["lines"][0]["free"], state["held"], state["guests_paying"]) == (3, 0, 0)
        assert _provider_stopped(h, share), "the share's checkout still takes payments at the provider"
        assert table.take(mode="items", items=[{"sku": "PIZZA", "quantity": 3}])["amount"] == 3600


def _stopped(h: Harness, share: dict[str, Any]) -> dict[str, Any]:
    """Wait until the share's checkout was stopped: Stripe calls that expired, Mollie canceled."""

    def stopped() -> dict[str, Any]:
        payment = h.payment(share["share_id"])
        assert payment["status"] in ("expired", "cancelled"), payment
        return payment

    return eventually(stopped, timeout=15, message=f"share {share['share_id']} stopped")


def _provider_stopped(h: Harness, share: dict[str, Any]) -> bool:
    session = h.provider.session_id({"checkout_url": share["checkout_url"]})
    if h.provider.name == "stripe":
        return bool(h.stripe_http.get(f"/v1/checkout/sessions/{session}").json()["status"] == "expired")
    found = h.provider.http.get(f"/v2/payments/{session}").json()
    return found["status"] in ("canceled", "expired")


def test_a_success_after_its_hold_lapsed_counts_when_it_still_fits(
    tmp_path: Path, provider: str, database_url: str | None
) -> None:
    # No hold job (background=False): the checkout is left open at the provider, as one that cannot be stopped is.
    with running_harness(
        tmp_path, provider=provider, database_url=database_url, share_hold_seconds=1, background=False
    ) as h:
        table = Table(h, split_order("ord-late-fits", lines=PIZZAS))
        late = table.take(mode="items", items=[{"sku": "PIZZA", "quantity": 1}])
        eventually(lambda: _held(table, 0), message="the hold lapsed")
        table.pay(late)
        state = table.state()
        assert (state["paid"], state["lines"][0]["paid"]) == (1200, 1)
        assert h.payment(late["share_id"])["attention"] is None


def test_a_success_after_its_hold_lapsed_that_overpays_is_flagged_and_kept(
    tmp_path: Path, provider: str, database_url: str | None
) -> None:
    with running_harness(
        tmp_path, provider=provider, database_url=database_url, share_hold_seconds=1, background=False
    ) as h:
        table = Table(h, split_order("ord-late-overpays", lines=PIZZAS))
        late = table.take(mode="remaining")
        eventually(lambda: _held(table, 0), message="the hold lapsed")
        other = table.take(mode="remaining", tip_amount=300)
        table.pay(other)
        eventually(lambda: _status(table, "settled"), message="bill settled by the other guest")
        table.pay(late)  # the late guest's money arrives: the bill has no room for it
        flagged = h.payment(late["share_id"])
        assert flagged["status"] == "paid"
        assert flagged["attention"] and flagged["attention"].startswith("overpaid:"), flagged
        state = table.state()
        assert (state["paid"], state["remaining"]) == (3900, 0)
        assert [s["amount"] for s in state["paid_shares"]] == [3900]
        # Nothing is lost: the money is on record, the kiosk sees the flag and can refund it.
        found = h.kiosk.post("/v1/payments/lookup", json={"payment_ids": [late["share_id"]]}).json()["payments"]
        assert found[0]["attention"].startswith("overpaid:")
        assert h.refund(late["share_id"], flagged["amount_total"]).status_code == 202


def _held(table: Table, held: int) -> dict[str, Any]:
    state = table.state()
    assert state["held"] == held, state
    return state


def test_the_waiter_adds_a_dish_mid_split(tmp_path: Path, provider: str, database_url: str | None) -> None:
    with running_harness(tmp_path, provider=provider, database_url=database_url) as h:
        order = split_order("ord-more", lines=PIZZAS)
        table = Table(h, order)
        paid = table.take(mode="items", items=[{"sku": "WATER", "quantity": 1}])
        table.pay(paid)
        holding = table.take(mode="items", items=[{"sku": "PIZZA", "quantity": 2}])
        old_version = table.state()["version"]

        more = {**order, "lines": [*PIZZAS, {"sku": "TIRAMISU", "name": "Tiramisu", "quantity": 1, "unit_amount": 650}]}
        changed = table.reopen(more)
        assert changed["version"] == old_version + 1
        assert (changed["total"], changed["paid"], changed["held"]) == (3600 + 300 + 650, 300, 0)
        # The open hold was released and its checkout stopped; the paid water stays paid.
        _stopped(h, holding)
        state = table.state()
        assert [line["sku"] for line in state["lines"]] == ["PIZZA", "WATER", "TIRAMISU"]
        assert state["lines"][1]["paid"] == 1 and state["lines"][0]["free"] == 3
        stale = table.ask(mode="remaining", version=old_version)
        assert stale.status_code == 409 and stale.json()["state"]["version"] == old_version + 1
        rest = table.take(mode="remaining")
        assert rest["amount"] == 3600 + 650
        assert "bill.updated" in [e["event"] for e in bill_events(h)]
        # Fewer dishes than guests paid for is refused.
        fewer = h.kiosk.post(f"/v1/orders/{order['order_id']}/bill", json={**order, "lines": PIZZAS[:1]})
        assert fewer.status_code == 409, fewer.text


def test_replayed_and_reordered_webhooks_of_a_share_change_it_once(
    tmp_path: Path, provider: str, database_url: str | None
) -> None:
    with running_harness(tmp_path, provider=provider, database_url=database_url) as h:
        table = Table(h, split_order("ord-replay", lines=PIZZAS))
        first = table.take(mode="amount", amount=2000)
        second = table.take(mode="remaining")
        h.provider.delivery_mode("hold")
        for share in (first, second):
            h.complete({"payment_id": share["share_id"], "checkout_url": share["checkout_url"]}, "succeeded")
        h.provider.redeliver_held(3)  # every event three times, newest first
        h.provider.delivery_mode("deliver")
        h.provider.release()
        h.webhooks_settled()
        eventually(lambda: _status(table, "settled"), message="bill settled")
        names = [e["event"] for e in bill_events(h)]
        assert names.count("bill.share_paid") == 2 and names.count("bill.settled") == 1, names
        assert table.state()["paid"] == 3900


def test_stop_the_split_then_pay_the_rest_in_full(tmp_path: Path, provider: str, database_url: str | None) -> None:
    with running_harness(tmp_path, provider=provider, database_url=database_url) as h:
        order = split_order("ord-stop", lines=PIZZAS)
        table = Table(h, order)
        table.pay(table.take(mode="amount", amount=1000, tip_amount=100))
        holding = table.take(mode="items", items=[{"sku": "PIZZA", "quantity": 1}])
        full = h.checkout(order)
        assert full.status_code == 409 and "split" in full.json()["error"]["message"]

        stopped = h.kiosk.delete(f"/v1/orders/{order['order_id']}/bill")
        assert stopped.status_code == 200 and stopped.json()["status"] == "stopped"
        _stopped(h, holding)
        refused = table.ask(mode="remaining")
        assert refused.status_code == 409 and "waiter" in refused.json()["error"]["message"]

        rest = h.checkout({**order, "tip_amount": 250})
        assert rest.status_code == 201, rest.text
        assert (rest.json()["dish_subtotal"], rest.json()["amount_total"]) == (2900, 2900 + 250)
        h.complete(rest.json(), "succeeded")
        h.wait_status(rest.json()["payment_id"], "paid")
        eventually(lambda: _status(table, "settled"), message="bill settled by the rest")
        assert h.checkout(order).status_code == 409  # paid: no new checkout


def test_a_refund_applies_to_one_share(tmp_path: Path, provider: str, database_url: str | None) -> None:
    with running_harness(tmp_path, provider=provider, database_url=database_url) as h:
        table = Table(h, split_order("ord-refund-share", lines=PIZZAS))
        one = table.pay(table.take(mode="equal", shares=2, tip_amount=200))
        other = table.pay(table.take(mode="equal", shares=2))
        eventually(lambda: _status(table, "settled"), message="bill settled")
        assert h.refund(one["payment_id"], one["amount_total"]).status_code == 202
        h.provider.settle_refunds({"payment_id": one["payment_id"], "checkout_url": one["checkout_url"]})
        h.wait_status(one["payment_id"], "refunded")
        assert h.payment(other["payment_id"])["status"] == "paid"
        names = [e["event"] for e in bill_events(h)]
        assert "bill.share_refunded" in names
        history = h.kiosk.get("/v1/orders/ord-refund-share/history").json()
        assert [a["status"] for a in history["attempts"]] == ["refunded", "paid"]


def test_the_pos_is_paid_once_with_a_payment_line_per_share(
    tmp_path: Path, provider: str, database_url: str | None
) -> None:
    from tests.service.test_pos_split_payment import calls, lines_in
    from tests.service.test_pos_sync import dish, sim_order

    lines = [dish("MARG", 2), dish("BRUS", 1), dish("TIRA", 1)]  # 2 x 950 + 650 + 690 = 3240, as the POS sells
    with running_harness(tmp_path, provider=provider, database_url=database_url, pos=True) as h:
        table = Table(h, split_order("ord-split-pos", lines=lines, table="Bar 1"))
        # Opening the bill sent every dish to the kitchen; nothing is paid in the POS yet.
        eventually(lambda: h.pos_state("ord-split-pos")["status"] == "in_pos", message="dishes in the POS")
        first = table.pay(table.take(mode="items", items=[{"sku": "MARG", "quantity": 1}], tip_amount=150))
        second = table.pay(table.take(mode="amount", amount=1000, donation_amount=60))
        assert not sim_order(h, "ord-split-pos")["paid"]  # the POS wants the whole sum at once
        third = table.pay(table.take(mode="remaining", tip_amount=200))
        eventually(lambda: h.pos_state("ord-split-pos")["status"] == "paid", timeout=15, message="paid in the POS")

        remote = sim_order(h, "ord-split-pos")
        assert remote["paid"] and remote["visit_finished"] and remote["unpaidSum"] == 0
        assert calls(h)["PayOrder"] == 1
        booked = lines_in(remote)
        assert [(amount, tip) for amount, tip, _, _ in booked] == [(950, 150), (1000, 0), (1290, 200)]
        assert sum(amount for amount, _, _, _ in booked) == 3240 == remote["orderSum"]  # the donation is not there
        references = [reference for _, _, _, reference in booked]
        for share, reference in zip((first, second, third), references, strict=True):
            found = h.payment(share["payment_id"])
            assert reference.startswith(f"{provider}:") and reference != f"{provider}:{found['payment_id']}"
        assert len(set(references)) == 3


def test_a_share_whose_webhooks_are_lost_is_repaired_by_the_sweep_and_settles_the_bill(
    tmp_path: Path, provider: str, database_url: str | None
) -> None:
    with running_harness(
        tmp_path,
        provider=provider,
        database_url=database_url,
        reconcile_after_seconds=0.2,
        reconcile_interval_seconds=0.2,
    ) as h:
        table = Table(h, split_order("ord-split-sweep", lines=PIZZAS))
        h.sandbox_mode("drop")
        share = table.take(mode="remaining", tip_amount=100)
        h.complete({"payment_id": share["share_id"], "checkout_url": share["checkout_url"]}, "succeeded")
        h.wait_status(share["share_id"], "paid", timeout=15)
        settled = eventually(lambda: _status(table, "settled"), message="bill settled by the sweep")
        assert settled["paid"] == 3900
        names = [e["event"] for e in bill_events(h)]
        assert names.count("bill.share_paid") == 1 and names[-1] == "bill.settled", names


def _bank_confirming(h: Harness, share: dict[str, Any]) -> None:
    """The guest paid by a method confirmed later: Stripe's delayed methods (SEPA and the like) go
    pending; at Mollie (which calls no webhook for pending) a pay-later method goes authorized."""
    session = h.provider.session_id({"checkout_url": share["checkout_url"]})
    if h.provider.name == "stripe":
        body = {"outcome": "delayed_succeeded", "settle": False}
        assert h.stripe_http.post(f"/_sandbox/checkout/sessions/{session}/complete", json=body).status_code == 200
    else:
        sent = h.provider.http.post(f"/_sandbox/mollie/payments/{session}/status", json={"status": "authorized"})
        assert sent.status_code == 200, sent.text


def _bank_confirmed(h: Harness, share: dict[str, Any]) -> None:
    session = h.provider.session_id({"checkout_url": share["checkout_url"]})
    if h.provider.name == "stripe":
        body = {"outcome": "delayed_succeeded"}
        assert h.stripe_http.post(f"/_sandbox/checkout/sessions/{session}/complete", json=body).status_code == 200
    else:
        sent = h.provider.http.post(f"/_sandbox/mollie/payments/{session}/status", json={"status": "paid"})
        assert sent.status_code == 200, sent.text


def test_a_share_the_bank_is_confirming_keeps_its_part_past_its_hold(
    tmp_path: Path, provider: str, database_url: str | None
) -> None:
    with running_harness(tmp_path, provider=provider, database_url=database_url, share_hold_seconds=2) as h:
        table = Table(h, split_order("ord-split-pending", lines=PIZZAS))
        confirming = table.take(mode="items", items=[{"sku": "PIZZA", "quantity": 3}])
        _bank_confirming(h, confirming)
        h.wait_status(confirming["share_id"], "pending" if provider == "stripe" else "authorized")
        time.sleep(2.5)  # past its 2 s hold: the money is on its way, so the pizzas stay its
        state = table.state()
        assert (state["held"], state["guests_paying"], state["lines"][0]["free"]) == (3600, 1, 0), state
        assert table.ask(mode="items", items=[{"sku": "PIZZA", "quantity": 1}]).status_code == 409
        assert h.payment(confirming["share_id"])["status"] in ("pending", "authorized")  # the hold job left it alone
        # Nor can the waiter take its dishes off the bill meanwhile.
        fewer = h.kiosk.post(
            "/v1/orders/ord-split-pending/bill", json=split_order("ord-split-pending", lines=PIZZAS[1:])
        )
        assert fewer.status_code == 409, fewer.text
        _bank_confirmed(h, confirming)
        h.wait_status(confirming["share_id"], "paid")
        state = table.state()
        assert (state["paid"], state["held"], h.payment(confirming["share_id"])["attention"]) == (3600, 0, None)


def test_a_share_that_reaches_the_bank_after_its_hold_lapsed_is_judged_when_paid(
    tmp_path: Path, provider: str, database_url: str | None
) -> None:
    with running_harness(
        tmp_path, provider=provider, database_url=database_url, share_hold_seconds=1, background=False
    ) as h:
        table = Table(h, split_order("ord-split-late-bank", lines=PIZZAS))
        late = table.take(mode="remaining")
        eventually(lambda: _held(table, 0), message="the hold lapsed")
        _bank_confirming(h, late)
        h.wait_status(late["share_id"], "pending" if provider == "stripe" else "authorized")
        assert table.state()["held"] == 0  # it lapsed before: it does not take its part back
        table.pay(table.take(mode="remaining"))
        _bank_confirmed(h, late)
        h.wait_status(late["share_id"], "paid")
        assert h.payment(late["share_id"])["attention"].startswith("overpaid:")
        assert table.state()["paid"] == 3900
