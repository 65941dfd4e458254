"""Pay-first (TABLEPAY_KITCHEN=after_payment) end to end over real HTTP, with the R-Keeper simulator.

The service's background loops are off: the test runs the outbox itself, so "nothing reached the
POS" is asserted after the outbox ran, not after a sleep. For Stripe and Mollie, SQLite and PostgreSQL.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.service.test_pos_sync import PRICES, dish, dishes_in, restaurant_order, send, sim_order, sim_orders
from tests.service.test_webhooks import post_webhook, sign
from tests.support.bills import Table, split_order
from tests.support.harness import Harness, running_harness
from tests.support.providers import PROVIDERS

pytestmark = pytest.mark.parametrize("provider", PROVIDERS)


def history(h: Harness, order_id: str) -> dict[str, Any]:
    response = h.kiosk.get(f"/v1/orders/{order_id}/history")
    assert response.status_code == 200, response.text
    return dict(response.json())


def statuses(h: Harness, order_id: str) -> list[str]:
    """The order's `order.status` events, in feed order."""
    return [e["order_status"] for e in h.feed() if e["event"] == "order.status" and e["order_id"] == order_id]


def outbox_rows(h: Harness, order_id: str) -> list[tuple[str, str]]:
    with h.db() as conn:
        return conn.execute(
            "SELECT topic, state FROM outbox WHERE ordering_key = ? ORDER BY id", (order_id,)
        ).fetchall()


def checkout(h: Harness, order: dict[str, Any]) -> dict[str, Any]:
    response = h.checkout(order)
    assert response.status_code == 201, response.text
    return dict(response.json())


def expire(h: Harness, payment: dict[str, Any]) -> None:
    """The checkout times out at the provider, unpaid."""
    h.complete(payment, "expired")
    h.wait_status(payment["payment_id"], "expired")


def pay_after_expiry(h: Harness, payment: dict[str, Any], held: list[str]) -> None:
    """The guest's payment reaches us after the checkout expired: for Stripe, the session's completion was
    held while its (crafted, signed) expiry arrived first; for Mollie, a bank transfer paid after expiry."""
    if h.provider.name == "mollie":
        tr = h.provider.session_id(payment)
        answer = h.provider.http.post(f"/_sandbox/mollie/payments/{tr}/status", json={"status": "paid", "force": True})
        assert answer.status_code == 200, answer.text
        return
    for event_id in held:
        h.stripe_http.post(f"/_sandbox/events/{event_id}/resend")


def stripe_expiry_overtaken(h: Harness, payment: dict[str, Any]) -> list[str]:
    """Stripe: the guest pays, its webhooks are held, and an expiry of the session is delivered first."""
    h.sandbox_mode("hold")
    h.complete(payment, "succeeded")
    held = [d["event"] for d in h.stripe_http.get("/_sandbox/deliveries").json()["data"]]
    session = h.stripe_http.get(f"/v1/checkout/sessions/{h.session_id(payment)}").json()
    expired = {
        "id": f"evt_expired_{payment['payment_id']}",
        "object": "event",
        "type": "checkout.session.expired",
        "data": {"object": {**session, "status": "expired", "payment_status": "unpaid", "payment_intent": None}},
    }
    body = json.dumps(expired).encode()
    assert post_webhook(h, body, sign(body)).json()["outcome"] == "applied"
    h.wait_status(payment["payment_id"], "expired")
    return list(dict.fromkeys(held))


def test_nothing_reaches_the_pos_before_paid_then_one_order_is_cooked_paid_and_closed(
    tmp_path: Path, provider: str, database_url: str | None
) -> None:
    with running_harness(
        tmp_path, pos=True, background=False, kitchen="after_payment", provider=provider, database_url=database_url
    ) as h:
        order = restaurant_order()
        answer = send(h, order)
        assert answer["package"] is None and answer["pos_status"] is None and answer["kitchen"] == "after_payment"
        assert "once it is paid" in answer["message"] and answer["order_status"] == "awaiting_payment"
        payment = checkout(h, order)
        assert h.run_outbox() == 0
        assert sim_orders(h) == [] and outbox_rows(h, order["order_id"]) == []
        assert history(h, order["order_id"])["order_status"] == "awaiting_payment"

        h.complete(payment, "succeeded")
        h.wait_status(payment["payment_id"], "paid")
        assert [topic for topic, _ in outbox_rows(h, order["order_id"])] == ["pos.package", "pos.payment"]
        h.run_outbox()

        remote = sim_order(h, order["order_id"])
        assert sorted(dishes_in(remote)) == [("BRUS", 1000, PRICES["BRUS"]), ("MARG", 2000, PRICES["MARG"])]
        assert remote["paid"] and remote["finished"] and remote["visit_finished"]
        assert len(remote["payments"]) == 1
        assert h.pos_state(order["order_id"])["status"] == "paid"
        assert history(h, order["order_id"])["order_status"] == "closed"
        assert statuses(h, order["order_id"]) == ["paid", "in_kitchen", "closed"]
        assert h.payment(payment["payment_id"])["attention"] is None
        # Sending again after the payment: refused, nothing queued twice.
        assert h.kiosk.post("/v1/orders", json=order).status_code == 409
        assert h.run_outbox() == 0 and len(sim_orders(h)) == 1


def test_an_order_that_expires_unpaid_never_reaches_the_pos(
    tmp_path: Path, provider: str, database_url: str | None
) -> None:
    with running_harness(
        tmp_path, pos=True, background=False, kitchen="after_payment", provider=provider, database_url=database_url
    ) as h:
        order = restaurant_order()
        send(h, order)
        expire(h, checkout(h, order))
        cancelled_order = restaurant_order()
        cancelled = checkout(h, cancelled_order)
        assert h.kiosk.post(f"/v1/payments/{cancelled['payment_id']}/cancel").status_code == 200

        assert h.run_outbox() == 0
        assert sim_orders(h) == []
        assert outbox_rows(h, order["order_id"]) == outbox_rows(h, cancelled_order["order_id"]) == []
        assert history(h, order["order_id"])["order_status"] == "expired"
        assert history(h, cancelled_order["order_id"])["order_status"] == "cancelled"
        # A new checkout makes it payable again.
        checkout(h, order)
        assert history(h, order["order_id"])["order_status"] == "awaiting_payment"
        assert statuses(h, order["order_id"]) == ["expired", "awaiting_payment"]


def test_a_payment_after_expiry_reaches_the_kitchen_once_and_is_flagged(
    tmp_path: Path, provider: str, database_url: str | None
) -> None:
    with running_harness(
        tmp_path, pos=True, background=False, kitchen="after_payment", provider=provider, database_url=database_url
    ) as h:
        order = restaurant_order()
        payment = checkout(h, order)
        if provider == "stripe":
            held = stripe_expiry_overtaken(h, payment)
        else:
            held = []
            expire(h, payment)
        assert history(h, order["order_id"])["order_status"] == "expired"
        assert h.run_outbox() == 0 and sim_orders(h) == []

        pay_after_expiry(h, payment, held)
        paid = h.wait_status(payment["payment_id"], "paid")
        assert paid["attention"].startswith("paid_after_expiry: ")
        h.webhooks_settled()  # every event of it applied: any second effect would be queued by now
        h.run_outbox()

        remote = sim_order(h, order["order_id"])
        assert sorted(dishes_in(remote)) == [("BRUS", 1000, PRICES["BRUS"]), ("MARG", 2000, PRICES["MARG"])]
        assert remote["paid"] and remote["visit_finished"]
        assert [topic for topic, _ in outbox_rows(h, order["order_id"])] == ["pos.package", "pos.payment"]
        assert history(h, order["order_id"])["order_status"] == "closed"
        lookup = h.kiosk.post("/v1/payments/lookup", json={"payment_ids": [payment["payment_id"]]}).json()
        [seen] = lookup["payments"]
        assert seen["attention"] == paid["attention"] and seen["order_status"] == "closed"


def test_a_split_bill_goes_to_the_kitchen_once_settled(tmp_path: Path, provider: str, database_url: str | None) -> None:
    lines = [dish("MARG", 2), dish("BRUS", 1)]
    with running_harness(
        tmp_path, pos=True, background=False, kitchen="after_payment", provider=provider, database_url=database_url
    ) as h:
        table = Table(h, split_order("ord-pay-first-split", lines=lines, table="Bar 1"))
        table.pay(table.take(mode="amount", amount=1000))
        assert h.run_outbox() == 0 and sim_orders(h) == []
        table.pay(table.take(mode="remaining"))
        h.run_outbox()
        remote = sim_order(h, "ord-pay-first-split")
        assert sorted(dishes_in(remote)) == [("BRUS", 1000, PRICES["BRUS"]), ("MARG", 2000, PRICES["MARG"])]
        assert remote["paid"] and remote["visit_finished"] and len(remote["payments"]) == 2
        assert history(h, "ord-pay-first-split")["order_status"] == "closed"


def test_an_order_can_choose_pay_first_on_a_service_that_sends_on_send(
    tmp_path: Path, provider: str, database_url: str | None
) -> None:
    with running_harness(tmp_path, pos=True, background=False, provider=provider, database_url=database_url) as h:
        usual, pay_first = restaurant_order(), restaurant_order(kitchen="after_payment")
        assert send(h, usual)["package"] == 1
        assert send(h, pay_first)["package"] is None
        h.run_outbox()
        assert [o for o in sim_orders(h) if pay_first["order_id"] in json.dumps(o)] == []
        sim_order(h, usual["order_id"])
        # The choice is the order's from its first store: sending it later as on_send changes nothing.
        assert send(h, {**pay_first, "kitchen": "on_send"})["kitchen"] == "after_payment"
