"""The real widgets, driven with qtbot, against a real sync service and sandbox on 127.0.0.1."""

from __future__ import annotations

import sqlite3

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QPushButton

from pos_app.app import DB_NAME, Kiosk
from pos_app.viewmodels import CheckoutState
from tests.support.harness import Harness

from .conftest import restart_service

LONG = 15_000


def click(qtbot, widget) -> None:
    qtbot.mouseClick(widget, Qt.MouseButton.LeftButton)


def take_order(qtbot, kiosk: Kiosk, table: str = "7") -> str:
    w = kiosk.window
    click(qtbot, w.tables_page.buttons[table])
    w.order_page.show_category("Mains")
    click(qtbot, w.order_page.menu_buttons["MARG"])
    click(qtbot, w.order_page.menu_buttons["MARG"])
    click(qtbot, w.order_page.menu_buttons["CARB"])
    w.order_page.show_category("Drinks")
    click(qtbot, w.order_page.menu_buttons["LEMO"])
    click(qtbot, w.order_page.tip_buttons[15])
    click(qtbot, w.order_page.donation_round_up)
    return kiosk.order_vm.order.order_id


def check_out(qtbot, kiosk: Kiosk) -> dict:
    click(qtbot, kiosk.window.order_page.checkout_button)
    qtbot.waitUntil(lambda: kiosk.checkout_vm.state is CheckoutState.WAITING, timeout=LONG)
    assert kiosk.window.root.currentWidget() is kiosk.window.checkout_panel
    attempt = kiosk.checkout_vm.attempt
    assert kiosk.window.checkout_panel.qr.data == attempt.checkout_url
    return {"checkout_url": attempt.checkout_url, "payment_id": attempt.payment_id}


def local_row(tmp_path, order_id: str) -> tuple:
    with sqlite3.connect(tmp_path / "kiosk" / DB_NAME) as conn:
        return conn.execute("SELECT status, paid_at FROM orders WHERE order_id = ?", [order_id]).fetchone()


def test_order_with_tip_and_round_up_is_paid_through_the_sandbox(qtbot, kiosk: Kiosk, harness: Harness, tmp_path):
    order_id = take_order(qtbot, kiosk)
    totals = kiosk.order_vm.totals()
    # 2 x 9.50 + 13.50 + 3.50 = 36.00; 15 % = 5.40; 41.40 rounds up by 0.60
    assert (totals.dishes.amount, totals.tip.amount, totals.donation.amount, totals.total.amount) == (
        3600,
        540,
        60,
        4200,
    )
    assert kiosk.window.order_page.total_value.text() == "€42.00"
    payment = check_out(qtbot, kiosk)
    assert harness.payment(payment["payment_id"])["amount_total"] == 4200
    assert "€42.00" in kiosk.window.checkout_panel.wait_amount.text()
    assert local_row(tmp_path, order_id)[0] == "open"
    harness.complete(payment, "succeeded")
    qtbot.waitUntil(lambda: kiosk.checkout_vm.state is CheckoutState.PAID, timeout=LONG)
    assert "PAID" in kiosk.window.checkout_panel.headline.text()
    assert kiosk.window.checkout_panel.done_button.isVisible()
    assert local_row(tmp_path, order_id)[0] == "paid"
    click(qtbot, kiosk.window.checkout_panel.done_button)
    assert [row.order_id for row in kiosk.orders_vm.paid_rows] == [order_id]
    assert kiosk.orders_vm.open_rows == []


def test_declined_payment_is_retried_to_paid(qtbot, kiosk: Kiosk, harness: Harness, tmp_path):
    order_id = take_order(qtbot, kiosk)
    first = check_out(qtbot, kiosk)
    harness.complete(first, "failed")
    qtbot.waitUntil(lambda: kiosk.checkout_vm.state is CheckoutState.FAILED, timeout=LONG)
    panel = kiosk.window.checkout_panel
    assert panel.retry_button.isVisible() and panel.back_button.isVisible()
    assert local_row(tmp_path, order_id)[0] == "open"
    click(qtbot, panel.retry_button)
    qtbot.waitUntil(lambda: kiosk.checkout_vm.state is CheckoutState.WAITING, timeout=LONG)
    second = kiosk.checkout_vm.attempt
    assert second.attempt == 2 and second.payment_id != first["payment_id"]
    harness.complete({"checkout_url": second.checkout_url}, "succeeded")
    qtbot.waitUntil(lambda: kiosk.checkout_vm.state is CheckoutState.PAID, timeout=LONG)
    assert local_row(tmp_path, order_id)[0] == "paid"


def test_expired_checkout_says_so_and_offers_retry(qtbot, kiosk: Kiosk, harness: Harness, tmp_path):
    order_id = take_order(qtbot, kiosk)
    payment = check_out(qtbot, kiosk)
    response = harness.stripe_http.post(f"/_sandbox/checkout/sessions/{harness.session_id(payment)}/expire_now")
    assert response.status_code == 200, response.text
    qtbot.waitUntil(lambda: kiosk.checkout_vm.state is CheckoutState.EXPIRED, timeout=LONG)
    panel = kiosk.window.checkout_panel
    assert "expired" in panel.headline.text().lower() and panel.retry_button.isVisible()
    click(qtbot, panel.back_button)
    assert kiosk.window.pages.currentWidget() is kiosk.window.order_page
    assert local_row(tmp_path, order_id)[0] == "open"


def test_waiter_cancels_the_checkout(qtbot, kiosk: Kiosk, harness: Harness, tmp_path):
    order_id = take_order(qtbot, kiosk)
    payment = check_out(qtbot, kiosk)
    click(qtbot, kiosk.window.checkout_panel.cancel_button)
    qtbot.waitUntil(lambda: kiosk.checkout_vm.state is CheckoutState.CANCELLED, timeout=LONG)
    assert harness.payment(payment["payment_id"])["status"] == "cancelled"
    assert kiosk.window.checkout_panel.retry_button.isVisible()
    assert local_row(tmp_path, order_id)[0] == "open"


def test_service_restart_during_checkout_loses_no_event(qtbot, kiosk: Kiosk, harness: Harness, tmp_path):
    order_id = take_order(qtbot, kiosk)
    payment = check_out(qtbot, kiosk)
    harness.service.stop()
    qtbot.waitUntil(lambda: kiosk.feed_vm.connection.value == "offline", timeout=LONG)
    assert "Offline" in kiosk.window.connection_pill.text()
    harness.complete(payment, "succeeded")  # the webhook cannot arrive: the sandbox retries it
    restarted = restart_service(harness)
    try:
        qtbot.waitUntil(lambda: kiosk.checkout_vm.state is CheckoutState.PAID, timeout=30_000)
        assert local_row(tmp_path, order_id)[0] == "paid"
        assert "Online" in kiosk.window.connection_pill.text()
        with sqlite3.connect(tmp_path / "kiosk" / DB_NAME) as conn:
            applied = [row[0] for row in conn.execute("SELECT event FROM applied_events ORDER BY seq")]
            cursor = conn.execute("SELECT after FROM feed_cursor").fetchone()[0]
        service_feed = harness.feed()
        assert applied == [event["event"] for event in service_feed]
        assert applied == ["payment.created", "payment.succeeded", "order.status"]
        assert cursor == service_feed[-1]["seq"]
    finally:
        restarted.stop()


def test_checkout_while_the_service_is_unreachable_keeps_the_order(qtbot, kiosk: Kiosk, harness: Harness, tmp_path):
    order_id = take_order(qtbot, kiosk)
    harness.service.stop()
    click(qtbot, kiosk.window.order_page.checkout_button)
    qtbot.waitUntil(lambda: kiosk.checkout_vm.state is CheckoutState.OFFLINE, timeout=LONG)
    assert "needs the connection" in kiosk.window.checkout_panel.result_message.text()
    assert local_row(tmp_path, order_id)[0] == "open"
    assert [row.order_id for row in kiosk.orders_vm.open_rows] == [order_id]


def test_the_order_screen_fits_1280x800_with_five_lines_and_no_clipped_button(qtbot, kiosk: Kiosk):
    w = kiosk.window
    assert (w.width(), w.height()) == (1280, 800)  # nobody pinned it
    click(qtbot, w.tables_page.buttons["2"])
    for sku in ("MARG", "CARB", "LASA", "TIRA", "LEMO"):
        kiosk.order_vm.add_item(sku)
    page = w.order_page
    # The rows are built at once; Qt shows and lays them out when it handles its posted events.
    qtbot.waitUntil(
        lambda: (
            len(page.line_rows) == 5
            and all(target.isVisible() and target.height() >= 56 for row in page.line_rows.values() for target in row)
        )
    )
    assert not page.lines_scroll.verticalScrollBar().isVisible()
    viewport = page.lines_scroll.viewport()
    for minus, plus, remove in page.line_rows.values():
        for target in (minus, plus, remove):
            assert target.width() >= 56 and target.height() >= 56
        top_left = remove.mapTo(viewport, remove.rect().topLeft())
        assert viewport.rect().contains(top_left) and top_left.x() + remove.width() <= viewport.width()
    for chip in (*page.tip_buttons.values(), page.donation_round_up, page.checkout_button):
        assert chip.height() >= 56


def test_send_to_kitchen_without_a_pos_says_it_is_not_set_up(qtbot, kiosk: Kiosk, harness: Harness):
    order_id = take_order(qtbot, kiosk)
    page = kiosk.window.order_page
    click(qtbot, page.kitchen_button)
    qtbot.waitUntil(lambda: "no restaurant POS set up" in page.kitchen_message.text(), timeout=LONG)
    assert kiosk.store.order(order_id).sent == {} and not page.pos_badge.isVisible()


def test_names_with_an_ampersand_show_as_written(qtbot, kiosk: Kiosk):
    tile = kiosk.window.order_page.menu_buttons["BURR"]
    assert tile.text().startswith("Burrata && tomatoes\n")  # '&&' is how Qt draws one '&'
    table_tiles = [b.text() for b in kiosk.window.findChildren(QPushButton) if b.objectName() == "TableButton"]
    assert "Bar 1" in table_tiles
