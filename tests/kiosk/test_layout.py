"""Nothing a waiter or manager needs is cut off, at the kiosk's 1280x800 and at 1024x768.

The real widgets with the kiosk's style sheet. Here the manager page is shown on its own at the
size the window would give it (it covers the window), and the long-partner test runs in the
1280x800 window and at the order page's own minimum width; test_small_screen.py walks the whole
window through every screen at 1024x768 and 1280x800.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QWidget

from bench.manager_seed import seed_payments
from pos_app.app import Kiosk
from pos_app.feed import Connection
from pos_app.views.manager_page import ManagerPage
from pos_app.views.order_page import OrderPage
from pos_app.views.pickers import PICKER_HEIGHT
from pos_app.views.theme import STYLE

from .test_manager import open_manager, pick

SIZES = [(1280, 800), (1024, 768)]
TOUCH = 48  # the least a finger can hit reliably; our pickers are 56
LONG_PARTNER = "Médecins Sans Frontières / Doctors Without Borders"


def shown(qtbot, widget: QWidget, size: tuple[int, int]) -> QWidget:
    widget.setStyleSheet(STYLE)
    qtbot.addWidget(widget)
    widget.resize(*size)
    widget.show()
    qtbot.waitExposed(widget)
    qtbot.waitUntil(lambda: (widget.width(), widget.height()) == size)
    return widget


def manager_page(qtbot, kiosk: Kiosk, size: tuple[int, int]) -> ManagerPage:
    seed_payments(kiosk.store.db, 300, datetime.now(UTC) - timedelta(days=2), every=timedelta(minutes=9))
    page = ManagerPage(kiosk.manager_vm, kiosk.history_model, kiosk.refund_vm, kiosk.reconcile_vm, kiosk.partners_vm)
    shown(qtbot, page, size)
    page.open()
    qtbot.waitUntil(lambda: kiosk.history_model.rowCount() > 0)
    return page


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_the_history_default_columns_fit_whole_without_a_horizontal_scroll_bar(qtbot, kiosk: Kiosk, size):
    page = manager_page(qtbot, kiosk, size)
    view, model = page.history.view, kiosk.history_model
    qtbot.waitUntil(lambda: view.columnWidth(model.column_of("state")) > 0)
    assert not view.horizontalScrollBar().isVisible()
    header = view.horizontalHeader()
    columns = [c for c in range(model.columnCount()) if not view.isColumnHidden(c)]
    assert [model.column_key(c) for c in columns] == [
        "time",
        "table",
        "waiter",
        "order",
        "state",
        "tip",
        "total",
        "pos",
    ]
    for column in columns:  # as wide as the header and every loaded row need: nothing elided
        assert view.columnWidth(column) >= header.sectionSizeHint(column), model.column_key(column)
        assert view.columnWidth(column) >= view.sizeHintForColumn(column), model.column_key(column)
    assert sum(view.columnWidth(c) for c in columns) <= view.viewport().width()
    metrics = view.fontMetrics()
    for row in range(model.rowCount()):
        for column in columns:  # each cell's text fits its column (the delegate adds a few px of margin)
            text = model.data(model.index(row, column))
            assert metrics.horizontalAdvance(text) < view.columnWidth(column), (row, model.column_key(column), text)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_each_history_filter_has_a_visible_label_and_a_finger_sized_picker(qtbot, kiosk: Kiosk, size):
    page = manager_page(qtbot, kiosk, size)
    tab = page.history
    assert page.minimumSizeHint().width() <= size[0] and page.minimumSizeHint().height() <= size[1]
    fields = {
        "DAYS": tab.days.button,
        "STATE": tab.state.button,
        "WAITER": tab.waiter.button,
        "TABLE": tab.table.button,
        "ORDER ID": tab.search,
    }
    for caption, field in fields.items():
        label = next(w for w in tab.findChildren(QLabel) if w.text() == caption)
        assert label.isVisible() and label.buddy() is field
        assert label.geometry().width() >= label.sizeHint().width()  # the caption is not cut either
        assert field.isVisible() and field.height() >= PICKER_HEIGHT >= TOUCH, caption
        assert field.font().pixelSize() >= 16 or field.font().pointSize() >= 12, caption
    for picker in (tab.days, tab.state, tab.waiter, tab.table):  # the value shows whole on the button
        assert picker.button.width() >= picker.button.sizeHint().width(), picker.value()
    for button in (tab.columns_button, tab.detail_button, tab.refund_button, tab.export_button):
        assert button.height() >= TOUCH and button.width() >= button.sizeHint().width(), button.text()

    click_at = tab.table.button
    qtbot.mouseClick(click_at, Qt.MouseButton.LeftButton)
    chips = tab.choice_overlay.chips
    assert tab.choice_overlay.isVisible() and all(chip.height() >= TOUCH for chip in chips.values())
    assert list(chips)[:4] == [None, "1", "2", "3"]  # tables in natural order, not 1, 10, 11
    dialog = tab.choice_overlay.dialog
    assert dialog.geometry().top() >= 0 and dialog.geometry().bottom() <= size[1]  # the list fits the screen
    qtbot.mouseClick(tab.choice_overlay.close_button, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(tab.days.button, Qt.MouseButton.LeftButton)
    days = tab.days_overlay
    for button in (days.first.minus, days.first.plus, days.last.minus, days.last.plus, *days.quick.values()):
        assert button.height() >= TOUCH and button.width() >= TOUCH
    for stepper in (days.first, days.last):
        assert stepper.day.width() >= stepper.day.sizeHint().width()  # "Wed 25 Nov 2026" whole
    assert days.dialog.geometry().bottom() <= size[1]


def test_more_columns_are_one_tap_away_and_default_columns_brings_back_the_fit(qtbot, kiosk: Kiosk):
    page = manager_page(qtbot, kiosk, (1024, 768))
    tab, model = page.history, kiosk.history_model
    qtbot.mouseClick(tab.columns_button, Qt.MouseButton.LeftButton)
    overlay = tab.columns_overlay
    for key in ("dishes", "donation", "reference"):
        qtbot.mouseClick(overlay.chips[key], Qt.MouseButton.LeftButton)
    assert not tab.view.isColumnHidden(model.column_of("reference")) and len(model.shown) == 11
    qtbot.waitUntil(tab.view.horizontalScrollBar().isVisible)  # eleven columns scroll sideways, none is cut
    qtbot.mouseClick(overlay.default_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not tab.view.horizontalScrollBar().isVisible())
    assert tab.view.isColumnHidden(model.column_of("reference"))


def test_counts_agree_in_number(qtbot, kiosk: Kiosk):
    from pos_app.viewmodels.reconcile import summary
    from pos_app.viewmodels.wording import counted

    assert [counted(n, "payment") for n in (0, 1, 2, 1000)] == [
        "0 payments",
        "1 payment",
        "2 payments",
        "1,000 payments",
    ]
    assert counted(1000, "refund", "de_DE") == "1.000 refunds" and counted(1, "package") == "1 package"
    assert counted(2, "dish") == "2 dishes" and counted(1, "event") == "1 event" and counted(3, "order") == "3 orders"
    assert summary(1, 3, 7) == "1 of 3 payments of the last 7 days disagrees."
    assert summary(2, 2, 1) == "2 of 2 payments of the last 1 day disagree."
    assert summary(0, 1, 7) == "The one payment of the last 7 days agrees."
    assert kiosk.manager_vm.pos_summary({"status": "in_pos", "packages": [{}]}) == "Status: in_pos · 1 package"

    seed_payments(kiosk.store.db, 2, datetime.now(UTC) - timedelta(hours=1), every=timedelta(minutes=5))
    open_manager(qtbot, kiosk)
    tab = kiosk.window.manager_page.history
    assert tab.count.text() == "2 payments"
    qtbot.keyClicks(tab.search, "ord-000001")
    qtbot.waitUntil(lambda: tab.count.text() == "1 payment")
    tab.search.clear()
    pick(qtbot, tab, tab.state, "Declined")
    assert tab.count.text() == "0 payments"


@pytest.mark.parametrize("narrowest", [False, True], ids=["1280x800 window", "narrowest order page"])
def test_a_long_donation_partner_is_shown_whole_on_the_order_screen(qtbot, kiosk: Kiosk, narrowest: bool):
    """In the kiosk's window, and on the order page at the narrowest it can be (its minimum width,
    less than a 1024 px window gives it)."""
    kiosk.order_vm.settings.donation_partner = LONG_PARTNER
    kiosk.window.order_page.on_settings_changed()
    kiosk.window.tables_page.tablePicked.emit("3")
    kiosk.order_vm.add_item("MARG")
    page = kiosk.window.order_page
    if narrowest:
        page = OrderPage(kiosk.order_vm, kiosk.kitchen_vm)
        page.setStyleSheet(STYLE)
        shown(qtbot, page, (page.minimumSizeHint().width(), 768 - 68 - 36))
    partner = page.donation_partner
    qtbot.waitUntil(partner.isVisible)
    assert partner.text() == f"Donations go to {LONG_PARTNER}"
    assert partner.wordWrap() or partner.width() >= partner.sizeHint().width()
    qtbot.waitUntil(lambda: partner.height() >= partner.heightForWidth(partner.width()))  # every wrapped line
    assert partner.mapTo(page, partner.rect().bottomRight()).x() <= page.width()
    sums = [w.text() for w in page.findChildren(QLabel) if w.objectName() == "SumLabel"]
    assert sums == ["Dishes", "Tip", "Donation"]  # the name is not squeezed into the sums line either
    for chip in page.donation_buttons.values():
        assert chip.height() >= 56


def test_the_status_bar_says_online_or_since_when_offline_and_never_the_url(qtbot, kiosk: Kiosk):
    window, status = kiosk.window, kiosk.feed_vm.status
    bar_text = lambda: window.connection_pill.text() + " " + window.status_detail.text()
    assert "Online" in window.connection_pill.text()
    assert "http" not in bar_text() and kiosk.client.base_url.split("//")[1] not in bar_text()
    now = [datetime(2026, 11, 23, 12, 4, tzinfo=UTC).timestamp()]
    status._clock, status.tz = lambda: now[0], UTC  # a hand-driven clock: no sleeping for minutes
    status.set_connection(Connection.OFFLINE)
    now[0] += 6 * 60 + 10
    status.set_connection(Connection.OFFLINE)  # a retry that failed again: still offline since 12:04
    assert window.connection_pill.text() == "●  Offline since 12:04 (6 min)"
    assert window.status_detail.text() == "Orders are kept; payments need the connection."
    kiosk.order_vm.open_table("4")
    kiosk.order_vm.add_item("MARG")
    kiosk.store.record_attempt(
        {
            "payment_id": "pay_waiting",
            "order_id": kiosk.order_vm.order.order_id,
            "attempt": 1,
            "status": "open",
            "currency": "EUR",
            "amount_total": 950,
            "tip_amount": 0,
            "donation_amount": 0,
        }
    )
    status.refresh()
    assert window.status_detail.text() == (
        "Orders are kept; payments need the connection. 1 payment waits for the service."
    )
    assert window.status_detail.width() >= window.status_detail.sizeHint().width()
    status.set_connection(Connection.ONLINE)
    assert window.connection_pill.text() == "●  Online" and "1 payment waits for the service" in bar_text()
    assert "http" not in bar_text()
