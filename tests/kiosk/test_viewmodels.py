"""View models without widgets: the sync API faked with httpx.MockTransport."""

from __future__ import annotations

import json

import httpx
import pytest

from pos_app.client import SyncClient
from pos_app.menu import load_menu
from pos_app.store import KioskStore, open_db
from pos_app.viewmodels import CheckoutState, CheckoutViewModel, OrderViewModel

from .conftest import kiosk_settings


@pytest.fixture
def order_vm(tmp_path, qapp) -> OrderViewModel:
    return OrderViewModel(KioskStore(open_db(tmp_path / "k.sqlite")), load_menu(), kiosk_settings())


def test_order_building_and_snapshot(order_vm):
    order_vm.open_table("3")
    for sku in ("MARG", "MARG", "LEMO"):
        order_vm.add_item(sku)
    order_vm.decrement("LEMO")
    order_vm.add_item("CARB")
    order_vm.set_tip_percent(20)
    order_vm.set_donation_fixed(200)
    order_vm.set_note("No onions")
    snapshot = order_vm.snapshot()
    assert [(line["sku"], line["quantity"]) for line in snapshot["lines"]] == [("MARG", 2), ("CARB", 1)]
    assert snapshot["tip_amount"] == 650 and snapshot["donation_amount"] == 200  # 20 % of 32.50
    assert snapshot["note"] == "No onions" and snapshot["kiosk_id"] == "kiosk-1"
    assert order_vm.open_table("3").order_id == snapshot["order_id"]  # the table's open order comes back


def test_custom_tip_and_round_up_preview(order_vm):
    order_vm.open_table("3")
    order_vm.add_item("ESPR")
    order_vm.set_tip_custom(55)
    assert order_vm.round_up_preview().amount == 25  # 2.20 + 0.55 -> 3.00
    order_vm.set_donation_round_up()
    assert order_vm.totals().total.amount == 300


def test_checkout_unreachable_keeps_the_order(order_vm, qtbot, qasync_loop):
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    client = SyncClient("http://127.0.0.1:9", "t", transport=httpx.MockTransport(refuse))
    vm = CheckoutViewModel(order_vm.store, client, order_vm)
    order_vm.open_table("5")
    order_vm.add_item("MARG")
    vm.start()
    qtbot.waitUntil(lambda: vm.state is CheckoutState.OFFLINE, timeout=5000)
    assert "needs the connection" in vm.message
    assert order_vm.store.order(order_vm.order.order_id).status == "open"


def test_checkout_sends_one_idempotency_key_per_attempt_and_waits_for_the_feed(order_vm, qtbot, qasync_loop):
    seen: list[tuple[str, dict]] = []

    def service(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        seen.append((request.headers["Idempotency-Key"], body))
        return httpx.Response(
            201,
            json={
                "payment_id": "p1",
                "order_id": body["order_id"],
                "attempt": 1,
                "status": "paid",
                "currency": "EUR",
                "checkout_url": "http://c/1",
                "expires_at": 2_000_000_000,
                "amount_total": 950,
                "tip_amount": 0,
                "donation_amount": 0,
                "paid_at": None,
            },
        )

    vm = CheckoutViewModel(
        order_vm.store, SyncClient("http://svc", "t", transport=httpx.MockTransport(service)), order_vm
    )
    order_vm.open_table("5")
    order_vm.add_item("MARG")
    vm.start()
    # Even an answer saying "paid" only shows the QR: only a feed event makes the order paid.
    qtbot.waitUntil(lambda: vm.state is CheckoutState.WAITING, timeout=5000)
    assert seen[0][0] == f"{order_vm.order.order_id}:1"
    assert vm.seconds_left(now=2_000_000_000 - 90) == 90
    order_vm.store.apply_events(
        [
            {
                "seq": 1,
                "event_id": "e1",
                "event": "payment.succeeded",
                "order_id": order_vm.order.order_id,
                "payment_id": "p1",
                "attempt": 1,
                "status": "paid",
                "currency": "EUR",
                "amount_total": 950,
                "tip_amount": 0,
                "donation_amount": 0,
                "paid_at": None,
            }
        ],
        1,
    )
    vm.on_orders_changed([order_vm.order.order_id])
    assert vm.state is CheckoutState.PAID
