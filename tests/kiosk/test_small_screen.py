"""Every screen of the real kiosk window fits a 1024x768 screen, and still its usual 1280x800.

One walk through the screens a waiter and a manager see (tables, a long order, the QR code, paid,
orders, settings behind the PIN, manager mode's three tabs, and an unpaired kiosk's pairing screen),
and at each: the window's minimum size fits 1024x768, no visible button is cut off by what holds it
or is lower than a finger needs, no label is cut short, and the QR code is big enough to scan.
TABLEPAY_SCREENSHOTS=docs/screenshots (scripts/screenshots) keeps the 1024x768 screenshots.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from PySide6.QtWidgets import QAbstractScrollArea, QLabel, QPushButton, QWidget

from bench.manager_seed import seed_payments
from pos_app.app import Kiosk, build_pairing_screen
from pos_app.pin import hash_pin
from pos_app.settings import KioskSettings
from pos_app.viewmodels import CheckoutState
from pos_app.views.widgets import ElidedLabel, QrCode, WrapButton
from tests.support.harness import Harness

from .test_kiosk_flows import LONG, click
from .test_layout import LONG_PARTNER, TOUCH
from .test_manager import open_manager

SIZES = [(1024, 768), (1280, 800)]
SMALL = (1024, 768)
QR_LEAST = 360  # px, quiet zone included: a phone reads it from across a table
LONG_ORDER = ("MARG", "MARG", "CARB", "LASA", "RISO", "SALM", "TIRA", "LEMO", "LEMO", "GELA")


def resized(qtbot, window: QWidget, size: tuple[int, int]) -> None:
    window.resize(*size)
    qtbot.waitUntil(lambda: (window.width(), window.height()) == size)


def screenshot(window: QWidget, name: str, size: tuple[int, int]) -> None:
    folder = os.environ.get("TABLEPAY_SCREENSHOTS")
    if folder and size == SMALL:
        window.grab().save(str(Path(folder) / name))


def unclipped(widget: QWidget) -> bool:
    """Inside each parent up to the window, or up to the scroll area whose contents it is (scrolling
    is not cutting)."""
    child, parent = widget, widget.parentWidget()
    while parent is not None:
        if isinstance(parent.parentWidget(), QAbstractScrollArea) and parent.objectName() == "qt_scrollarea_viewport":
            return True
        if not parent.rect().contains(child.geometry()):
            return False
        child, parent = parent, parent.parentWidget()
    return True


def problems(window: QWidget, size: tuple[int, int]) -> list[str]:
    """What does not fit on this screen, in words (empty: everything does)."""
    found = []
    least = window.minimumSizeHint()
    if least.width() > SMALL[0] or least.height() > SMALL[1]:
        found.append(f"the window needs {least.width()}x{least.height()}")
    if (window.width(), window.height()) != size:
        found.append(f"the window grew to {window.width()}x{window.height()}")
    for button in window.findChildren(QPushButton):
        if not button.isVisible():
            continue
        name = f"button {button.text()!r} ({button.objectName()})"
        if button.height() < TOUCH:
            found.append(f"{name} is {button.height()} px high")
        if not unclipped(button):
            found.append(f"{name} is cut off by its parent")
        if isinstance(button, WrapButton):  # its lines each fit, and all of them fit its height
            text, room = button.shown_text(), button.width() - button._chrome()
            widest = max(button.fontMetrics().horizontalAdvance(line) for line in text.split("\n"))
            if widest > room or text.count("\n") + 1 > button.lines:
                found.append(f"{name} shows {text!r} in {room} px")
        elif button.width() < button.minimumSizeHint().width():
            found.append(f"{name} is {button.width()} px wide, its text needs {button.minimumSizeHint().width()}")
    for label in window.findChildren(QLabel):
        if not label.isVisible() or not label.text() or label.objectName() == "LineName":
            continue  # a long dish name on an order line may end in "…" (docs/kiosk.md); nothing else may
        name = f"label {label.text()!r} ({label.objectName()})"
        if isinstance(label, ElidedLabel):
            if label.fontMetrics().horizontalAdvance(label.text()) > label.contentsRect().width():
                found.append(f"{name} ends in … at {label.width()} px")
        elif label.wordWrap():
            if label.height() < label.heightForWidth(label.width()):
                found.append(f"{name} is cut at the bottom")
        elif label.width() < label.sizeHint().width() or label.height() < label.minimumSizeHint().height():
            found.append(f"{name} is {label.width()}x{label.height()}, needs {label.sizeHint().toTuple()}")
    for qr in window.findChildren(QrCode):
        if qr.isVisible():
            side, module = qr.painted()
            if side < QR_LEAST or side > min(qr.width(), qr.height()) or module < 1 or not unclipped(qr):
                found.append(f"the QR code is {side} px ({module} px modules) in {qr.width()}x{qr.height()}")
    return found


def assert_fits(qtbot, window: QWidget, size: tuple[int, int], screen: str) -> None:
    # Rows are rebuilt with deleteLater and laid out when Qt handles its posted events: wait for that.
    try:
        qtbot.waitUntil(lambda: not problems(window, size), timeout=3000)
    except qtbot.TimeoutError:
        pass
    assert problems(window, size) == [], screen


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_every_screen_of_the_kiosk_fits(qtbot, qasync_loop, kiosk: Kiosk, harness: Harness, tmp_path: Path, size):
    window = kiosk.window
    kiosk.order_vm.settings.donation_partner = LONG_PARTNER
    window.order_page.on_settings_changed()
    resized(qtbot, window, size)
    assert_fits(qtbot, window, size, "tables")

    click(qtbot, window.tables_page.buttons["Terrace 2"])
    page = window.order_page
    for sku in LONG_ORDER:
        kiosk.order_vm.add_item(sku)
    assert len(kiosk.order_vm.order.lines) >= 6
    page.show_category("Mains")
    click(qtbot, page.tip_buttons[15])
    click(qtbot, page.donation_round_up)
    qtbot.waitUntil(lambda: page.donation_partner.isVisible() and len(page.line_rows) >= 6)
    assert page.donation_partner.text() == f"Donations go to {LONG_PARTNER}"
    assert kiosk.order_vm.totals().tip.amount > 0 and kiosk.order_vm.totals().donation.amount > 0
    assert_fits(qtbot, window, size, "order")
    lines = page.lines_scroll
    lines.verticalScrollBar().setValue(lines.verticalScrollBar().maximum())  # the last line can be reached
    last = list(page.line_rows.values())[-1][2]
    qtbot.waitUntil(lambda: lines.viewport().rect().contains(last.mapTo(lines.viewport(), last.rect().center())))
    screenshot(window, "kiosk-order-1024x768.png", size)

    click(qtbot, page.checkout_button)
    qtbot.waitUntil(lambda: kiosk.checkout_vm.state is CheckoutState.WAITING, timeout=LONG)
    panel = window.checkout_panel
    qtbot.waitUntil(lambda: panel.qr.isVisible() and bool(panel.qr.data))
    assert_fits(qtbot, window, size, "checkout QR")
    assert panel.qr.painted()[0] >= QR_LEAST
    screenshot(window, "kiosk-qr-1024x768.png", size)

    harness.complete({"checkout_url": kiosk.checkout_vm.attempt.checkout_url}, "succeeded")
    qtbot.waitUntil(lambda: kiosk.checkout_vm.state is CheckoutState.PAID, timeout=LONG)
    qtbot.waitUntil(panel.done_button.isVisible)
    assert_fits(qtbot, window, size, "paid")

    click(qtbot, panel.done_button)
    click(qtbot, window.tables_page.buttons["4"])
    kiosk.order_vm.add_item("MARG")  # an open order beside the paid one
    click(qtbot, window.nav_orders)
    qtbot.waitUntil(lambda: window.pages.currentWidget() is window.orders_page)
    assert_fits(qtbot, window, size, "orders")

    kiosk.settings_vm.settings.settings_pin_hash = hash_pin("2468")
    window.pin_pad.ask()
    assert_fits(qtbot, window, size, "settings PIN pad")
    dialog = window.pin_pad.dialog
    assert dialog.geometry().top() >= 0 and dialog.geometry().bottom() <= size[1]
    for digit in "2468":
        click(qtbot, window.pin_pad.keys[digit])
    click(qtbot, window.pin_pad.ok_button)
    qtbot.waitUntil(lambda: window.root.currentWidget() is window.settings_page)
    assert_fits(qtbot, window, size, "settings")
    click(qtbot, window.settings_page.cancel_button)

    # A busy day, all of it today whatever the hour the test runs (its totals pass 1,000 EUR): the
    # day's figures must fit however large they grow.
    midnight = datetime.now().astimezone().replace(hour=0, minute=1, second=0, microsecond=0)
    seed_payments(kiosk.store.db, 120, midnight.astimezone(UTC), every=timedelta(minutes=9))
    open_manager(qtbot, kiosk)
    manager = window.manager_page
    qtbot.waitUntil(lambda: kiosk.history_model.rowCount() > 0)
    for index, tab in enumerate(("history", "day totals", "reconciliation")):
        click(qtbot, manager.tab_buttons[index])
        assert_fits(qtbot, window, size, f"manager {tab}")

    screen = build_pairing_screen(tmp_path / "unpaired", KioskSettings(service_url=harness.service.url))
    pairing = screen.window
    qtbot.addWidget(pairing)
    pairing.show()
    resized(qtbot, pairing, size)
    assert_fits(qtbot, pairing, size, "pairing: address")
    screen.vm.start()
    qtbot.waitUntil(lambda: pairing.pages.currentWidget() is pairing.code_page, timeout=LONG)
    assert_fits(qtbot, pairing, size, "pairing: code")
    click(qtbot, pairing.code_token_button)
    assert_fits(qtbot, pairing, size, "pairing: token")
    closing = qasync_loop.create_task(screen.vm.aclose())
    qtbot.waitUntil(closing.done, timeout=LONG)
