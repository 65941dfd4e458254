"""Pay-first on the kiosk (TABLEPAY_KITCHEN=after_payment), from the real widgets against the real
service and the sandbox's R-Keeper simulator: the orders waiting for their payment are listed apart
from those in the kitchen, Send to kitchen says the order goes once paid, and a paid order reaches
the POS and shows its order status."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QCoreApplication, QEvent

from pos_app.app import Kiosk
from tests.service.test_pos_sync import sim_order, sim_orders
from tests.support.harness import Harness, running_harness

from .test_kiosk_flows import LONG, check_out, click
from .test_kitchen import order_pizzas, send


@pytest.fixture
def harness(tmp_path: Path) -> Iterator[Harness]:
    with running_harness(tmp_path, pos=True, kitchen="after_payment") as running:
        yield running


def test_pay_first_orders_wait_apart_and_reach_the_kitchen_once_paid(
    qtbot, kiosk: Kiosk, harness: Harness, tmp_path: Path
) -> None:
    qtbot.waitUntil(lambda: kiosk.offer_vm.pay_first, timeout=LONG)
    waiting = order_pizzas(qtbot, kiosk, table="5")
    send(qtbot, kiosk, "goes to the kitchen once it is paid")
    page = kiosk.window.order_page
    assert page.pos_badge.text() == "Kitchen after payment"
    assert kiosk.store.order(waiting).sent == {}  # nothing went: the waiter may still change every dish
    assert sim_orders(harness) == []

    # Another order this service was told to send at once (a per-order choice, e.g. another screen's).
    cooking = order_pizzas(qtbot, kiosk, table="6")
    snapshot = {**kiosk.order_vm.snapshot(), "kitchen": "on_send"}
    assert harness.kiosk.post("/v1/orders", json=snapshot).json()["package"] == 1
    qtbot.waitUntil(lambda: kiosk.store.order(cooking).pos_status is not None, timeout=LONG)

    kiosk.orders_vm.refresh()
    assert [row.order_id for row in kiosk.orders_vm.waiting_rows] == [waiting]
    assert [row.order_id for row in kiosk.orders_vm.open_rows] == [cooking]
    click(qtbot, kiosk.window.nav_orders)
    orders = kiosk.window.orders_page
    qtbot.waitUntil(lambda: orders.isVisible(), timeout=LONG)
    assert orders.pos_badges[waiting].text() == "Kitchen after payment"
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete.value)  # rows a redraw replaced: gone
    QCoreApplication.processEvents()
    shots = Path(os.environ.get("TABLEPAY_SCREENSHOTS", tmp_path))
    shots.mkdir(parents=True, exist_ok=True)
    assert kiosk.window.grab().save(str(shots / "kiosk-pay-first-orders.png"))

    # The guest pays the waiting one: now, and only now, the POS gets it, paid and closed.
    kiosk.order_vm.open_order(waiting)
    payment = check_out(qtbot, kiosk)
    assert [o for o in sim_orders(harness) if waiting in str(o)] == []
    harness.complete(payment, "succeeded")
    qtbot.waitUntil(lambda: kiosk.store.order(waiting).service_status == "closed", timeout=LONG)
    remote = sim_order(harness, waiting)
    assert remote["paid"] and remote["visit_finished"]
    assert kiosk.store.order(waiting).pos_status == "paid"
    kiosk.orders_vm.refresh()
    assert waiting not in [row.order_id for row in kiosk.orders_vm.waiting_rows]
    [paid] = [row for row in kiosk.orders_vm.paid_rows if row.order_id == waiting]
    assert paid.order_status == "Closed"
