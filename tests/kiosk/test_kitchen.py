"""Send to kitchen from the real widgets, against a real sync service with a POS configured.

The POS here never answers (a closed port), so every package stays queued: the outbox retries
in the background with a long backoff and never gives up during a test, which keeps the POS
status deterministic. Tests that need the POS to answer run against the sandbox's simulator.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QTimer

from pos_app.app import Kiosk
from tests.support.harness import Harness, running_harness
from tests.support.live_server import refused_url

from .conftest import running_kiosk
from .test_kiosk_flows import LONG, click

# A POS on a port nobody listens on: deliveries fail as "unavailable" (retried, never parked).
QUEUED_FOREVER = dict(outbox_max_attempts=100, outbox_backoff_base_seconds=60, outbox_backoff_cap_seconds=3600)


@pytest.fixture
def harness(tmp_path: Path) -> Iterator[Harness]:
    with (
        refused_url() as pos_url,
        running_harness(tmp_path, pos=True, rkeeper_url=pos_url, **QUEUED_FOREVER) as running,
    ):
        yield running


def order_pizzas(qtbot, kiosk: Kiosk, table: str = "5") -> str:
    w = kiosk.window
    click(qtbot, w.tables_page.buttons[table])
    w.order_page.show_category("Mains")
    click(qtbot, w.order_page.menu_buttons["MARG"])
    click(qtbot, w.order_page.menu_buttons["MARG"])
    w.order_page.show_category("Drinks")
    click(qtbot, w.order_page.menu_buttons["LEMO"])
    return kiosk.order_vm.order.order_id


def send(qtbot, kiosk: Kiosk, expected: str) -> None:
    page = kiosk.window.order_page
    assert page.kitchen_button.isEnabled()
    click(qtbot, page.kitchen_button)
    qtbot.waitUntil(lambda: expected in page.kitchen_message.text(), timeout=LONG)
    assert not kiosk.kitchen_vm.sending and page.kitchen_button.isEnabled()


def packages(harness: Harness, order_id: str) -> list[list[tuple[str, int]]]:
    return [
        [(line["sku"], line["quantity"]) for line in package["lines"]]
        for package in harness.pos_state(order_id)["packages"]
    ]


def test_send_to_kitchen_then_only_the_new_dish_goes(qtbot, kiosk: Kiosk, harness: Harness):
    order_id = order_pizzas(qtbot, kiosk)
    page = kiosk.window.order_page
    assert page.kitchen_button.height() >= 64 and not page.pos_badge.isVisible()
    send(qtbot, kiosk, "Sent to kitchen (package 1)")
    assert packages(harness, order_id) == [[("MARG", 2), ("LEMO", 1)]]
    qtbot.waitUntil(lambda: page.pos_badge.text() == "Kitchen: queued", timeout=LONG)
    assert page.pos_badge.isVisible()

    page.show_category("Desserts")
    click(qtbot, page.menu_buttons["TIRA"])
    assert page.kitchen_button.text() == "Send to kitchen · 1 new"
    send(qtbot, kiosk, "Sent to kitchen (package 2)")
    assert packages(harness, order_id) == [[("MARG", 2), ("LEMO", 1)], [("TIRA", 1)]]
    send(qtbot, kiosk, "Nothing new to send")
    assert len(packages(harness, order_id)) == 2
    assert kiosk.store.order(order_id).sent == {"MARG": 2, "LEMO": 1, "TIRA": 1}


def test_a_success_fades_but_a_refusal_stays(qtbot, kiosk: Kiosk, harness: Harness, monkeypatch):
    monkeypatch.setattr(kiosk.kitchen_vm, "OK_MESSAGE_MS", 200)
    order_pizzas(qtbot, kiosk)
    page = kiosk.window.order_page
    send(qtbot, kiosk, "package 1")
    qtbot.waitUntil(lambda: not page.kitchen_message.isVisible(), timeout=LONG)
    assert page.pos_badge.text() == "Kitchen: queued"  # the state stays on the badge
    kiosk.order_vm.decrement("MARG")
    # The fade, driven by hand: its timer (the view model's only one) goes off as if its time had come.
    [fade] = kiosk.kitchen_vm.findChildren(QTimer)
    assert not fade.isActive()  # a refusal starts no fade
    fade.timeout.emit()
    assert "already went to the kitchen" in page.kitchen_message.text() and page.kitchen_message.isVisible()


def test_the_waiter_cannot_take_back_what_the_kitchen_got(qtbot, kiosk: Kiosk, harness: Harness):
    order_id = order_pizzas(qtbot, kiosk)
    send(qtbot, kiosk, "package 1")
    page = kiosk.window.order_page
    minus, plus, remove = page.line_rows["MARG"]
    assert not minus.isEnabled() and not remove.isEnabled() and plus.isEnabled()
    click(qtbot, plus)
    minus, plus, remove = page.line_rows["MARG"]
    assert minus.isEnabled() and not remove.isEnabled()
    click(qtbot, minus)  # back to the two the kitchen has: fine
    kiosk.order_vm.remove("MARG")  # what a stale screen would ask for: refused and said
    assert "2 × Pizza margherita already went to the kitchen" in page.kitchen_message.text()
    assert [(line.sku, line.quantity) for line in kiosk.store.order(order_id).lines] == [("MARG", 2), ("LEMO", 1)]


def test_the_services_refusal_is_shown_when_the_kitchen_got_more(qtbot, kiosk: Kiosk, harness: Harness):
    order_id = order_pizzas(qtbot, kiosk)
    snapshot = kiosk.order_vm.snapshot()
    more = [{**line, "quantity": 3} if line["sku"] == "MARG" else line for line in snapshot["lines"]]
    assert harness.kiosk.post("/v1/orders", json={**snapshot, "lines": more}).status_code == 202  # e.g. a lost screen
    send(qtbot, kiosk, "Not sent: 3 x Pizza margherita already went to the kitchen")
    page = kiosk.window.order_page
    assert "Void dishes at the restaurant's POS" in page.kitchen_message.text()
    assert "The order now shows what the kitchen has." in page.kitchen_message.text()
    assert packages(harness, order_id) == [[("MARG", 3), ("LEMO", 1)]]
    order = kiosk.store.order(order_id)  # the kiosk caught up with the service's packages
    assert order.sent == {"MARG": 3, "LEMO": 1} and [(line.sku, line.quantity) for line in order.lines] == [
        ("MARG", 3),
        ("LEMO", 1),
    ]
    send(qtbot, kiosk, "Nothing new to send")


def test_offline_send_says_so_and_keeps_the_order(qtbot, kiosk: Kiosk, harness: Harness):
    order_id = order_pizzas(qtbot, kiosk)
    harness.service.stop()
    send(qtbot, kiosk, "No connection to the sync service: nothing went to the kitchen")
    order = kiosk.store.order(order_id)
    assert [(line.sku, line.quantity) for line in order.lines] == [("MARG", 2), ("LEMO", 1)]
    assert order.sent == {} and order.pos_status is None
    assert kiosk.window.order_page.line_rows["MARG"][2].isEnabled()  # nothing sent: still removable


def test_the_orders_list_shows_the_pos_badge(qtbot, kiosk: Kiosk, harness: Harness):
    order_id = order_pizzas(qtbot, kiosk)
    send(qtbot, kiosk, "package 1")
    click(qtbot, kiosk.window.nav_orders)
    badges = kiosk.window.orders_page.pos_badges
    qtbot.waitUntil(lambda: order_id in badges and badges[order_id].text() == "Kitchen: queued", timeout=LONG)


def test_a_checkout_sends_the_dishes_first_and_the_kiosk_knows_it(qtbot, kiosk: Kiosk, harness: Harness):
    order_id = order_pizzas(qtbot, kiosk)
    click(qtbot, kiosk.window.order_page.checkout_button)
    qtbot.waitUntil(lambda: kiosk.checkout_vm.state.value == "waiting", timeout=LONG)
    assert packages(harness, order_id) == [[("MARG", 2), ("LEMO", 1)]]
    qtbot.waitUntil(lambda: kiosk.store.order(order_id).sent == {"MARG": 2, "LEMO": 1}, timeout=LONG)
    assert kiosk.store.order(order_id).pos_status == "queued"


def test_a_pos_that_refuses_the_order_shows_pos_problem_from_the_feed(qtbot, qasync_loop, tmp_path):
    # The simulator refuses a wrong password: retrying cannot help, so the package is parked at once.
    with running_harness(tmp_path, pos=True, rkeeper_password="wrong") as harness:
        with running_kiosk(qtbot, qasync_loop, harness, tmp_path / "kiosk") as kiosk:
            order_id = order_pizzas(qtbot, kiosk)
            send(qtbot, kiosk, "Sent to kitchen (package 1)")
            page = kiosk.window.order_page
            qtbot.waitUntil(lambda: page.pos_badge.text() == "POS problem", timeout=LONG)
            assert kiosk.store.order(order_id).pos_status == "failed"
            assert [e["event"] for e in harness.feed()] == ["pos.queued", "pos.failed"]
            click(qtbot, kiosk.window.nav_orders)
            assert kiosk.window.orders_page.pos_badges[order_id].text() == "POS problem"


def sim_dishes(harness: Harness, order_id: str) -> list[list[tuple[str, int]]]:
    """The dishes of each session (package) of the order in the R-Keeper simulator; quantities in units."""
    response = harness.stripe_http.get("/_sandbox/rkeeper/orders")
    assert response.status_code == 200, response.text
    [remote] = [o for o in response.json() if json.dumps(o).find(order_id) >= 0]
    return [[(d["code"], int(d["quantity"]) // 1000) for d in session["dishes"]] for session in remote["sessions"]]


def test_with_the_simulator_the_badge_follows_the_pos_from_queued_to_paid(qtbot, qasync_loop, tmp_path):
    with running_harness(tmp_path, pos=True) as harness:
        with running_kiosk(qtbot, qasync_loop, harness, tmp_path / "kiosk") as kiosk:
            order_id = order_pizzas(qtbot, kiosk, table="Bar 1")
            page = kiosk.window.order_page
            send(qtbot, kiosk, "Sent to kitchen (package 1)")
            qtbot.waitUntil(lambda: page.pos_badge.text() == "In POS", timeout=LONG)
            assert sim_dishes(harness, order_id) == [[("MARG", 2), ("LEMO", 1)]]

            page.show_category("Desserts")
            click(qtbot, page.menu_buttons["TIRA"])
            send(qtbot, kiosk, "Sent to kitchen (package 2)")
            qtbot.waitUntil(lambda: len(sim_dishes(harness, order_id)) == 2, timeout=LONG)
            assert sim_dishes(harness, order_id)[1] == [("TIRA", 1)]  # only the new dish
            qtbot.waitUntil(lambda: page.pos_badge.text() == "In POS", timeout=LONG)

            click(qtbot, page.checkout_button)
            qtbot.waitUntil(lambda: kiosk.checkout_vm.state.value == "waiting", timeout=LONG)
            harness.complete({"checkout_url": kiosk.checkout_vm.attempt.checkout_url}, "succeeded")
            qtbot.waitUntil(lambda: kiosk.store.order(order_id).pos_status == "paid", timeout=LONG)
            click(qtbot, kiosk.window.checkout_panel.done_button)
            assert [row.pos for row in kiosk.orders_vm.paid_rows] == ["Paid in POS"]
            pos_events = [e["event"] for e in harness.feed() if e["event"].startswith("pos.")]
            assert pos_events == ["pos.queued", "pos.in_pos", "pos.queued", "pos.in_pos", "pos.paid"]
