"""The kiosk window: header with navigation, the pages, a status bar; the checkout panel over all."""

from __future__ import annotations

from PySide6.QtWidgets import QFrame, QHBoxLayout, QMainWindow, QStackedWidget, QWidget

from ..viewmodels import (
    CheckoutState,
    CheckoutViewModel,
    FeedViewModel,
    HistoryModel,
    KitchenViewModel,
    ManagerViewModel,
    OrdersViewModel,
    OrderViewModel,
    PartnersViewModel,
    ReconcileViewModel,
    RefundViewModel,
    SettingsViewModel,
)
from .checkout_panel import CheckoutPanel
from .manager_page import ManagerPage
from .order_page import OrderPage
from .orders_page import OrdersPage
from .settings_page import PinPad, SettingsPage
from .tables_page import TablesPage
from .theme import STYLE, TONE_COLOURS, WARN, pill_style
from .widgets import BrandLogo, button, label, vbox

WINDOW_SIZE = (1280, 800)  # the kiosk's touch screen


class MainWindow(QMainWindow):
    def __init__(
        self,
        order_vm: OrderViewModel,
        orders_vm: OrdersViewModel,
        checkout_vm: CheckoutViewModel,
        feed_vm: FeedViewModel,
        settings_vm: SettingsViewModel,
        service_url: str,
        *,
        kitchen_vm: KitchenViewModel,
        menu_note: tuple[str, bool] = ("", False),
        manager: tuple[ManagerViewModel, HistoryModel, RefundViewModel, ReconcileViewModel, PartnersViewModel],
    ) -> None:
        super().__init__()
        self.setWindowTitle("TablePay kiosk")
        self.setStyleSheet(STYLE)
        self.resize(*WINDOW_SIZE)
        self.order_vm, self.orders_vm, self.checkout_vm, self.feed_vm = order_vm, orders_vm, checkout_vm, feed_vm
        self.settings_vm, self.kitchen_vm = settings_vm, kitchen_vm

        self.tables_page = TablesPage(order_vm.menu.tables, orders_vm)
        self.order_page = OrderPage(order_vm, kitchen_vm)
        self.orders_page = OrdersPage(orders_vm)
        self.pages = QStackedWidget()
        for page in (self.tables_page, self.order_page, self.orders_page):
            self.pages.addWidget(page)

        shell = QWidget()
        column = vbox(spacing=0)
        column.addWidget(self._header())
        column.addWidget(self.pages, 1)
        # `service_url` is no longer shown here (the settings screen has it); app.py still passes it.
        column.addWidget(self._status_bar(menu_note))
        shell.setLayout(column)

        self.checkout_panel = CheckoutPanel(checkout_vm, order_vm)
        self.root = QStackedWidget()
        self.root.addWidget(shell)
        self.root.addWidget(self.checkout_panel)
        self.settings_page = SettingsPage(settings_vm, order_vm)
        self.root.addWidget(self.settings_page)
        self.setCentralWidget(self.root)
        self.pin_pad = PinPad(self.root, settings_vm)
        self.pin_pad.unlocked.connect(self.show_settings)
        self.logo.secretGesture.connect(self.pin_pad.ask)
        self.settings_page.closed.connect(self._on_settings_closed)
        # Manager mode: its own PIN (lock stored locally), then the manager page over everything.
        self.manager_vm, self.history_model = manager[0], manager[1]
        self.manager_page = ManagerPage(*manager)
        self.root.addWidget(self.manager_page)
        self.manager_pin_pad = PinPad(self.root, self.manager_vm)
        self.manager_pin_pad.unlocked.connect(self.show_manager)
        self.nav_manager.clicked.connect(self.manager_pin_pad.ask)
        self.manager_page.closed.connect(self._on_settings_closed)
        feed_vm.ordersChanged.connect(self._on_orders_changed_for_manager)
        settings_vm.changed.connect(self.order_page.on_settings_changed)
        settings_vm.changed.connect(orders_vm.refresh)

        self.tables_page.tablePicked.connect(self._on_table_picked)
        self.orders_page.orderPicked.connect(self._on_order_picked)
        self.order_page.checkoutRequested.connect(self._on_checkout)
        self.order_page.splitRequested.connect(self._on_split)
        self.checkout_panel.closed.connect(self._on_checkout_closed)
        checkout_vm.stateChanged.connect(self._on_checkout_state)
        feed_vm.status.changed.connect(self._on_status)
        checkout_vm.stateChanged.connect(feed_vm.status.refresh)  # a new checkout now waits for the service
        manager[2].changed.connect(feed_vm.status.refresh)  # so does a refund sent without an answer
        feed_vm.ordersChanged.connect(orders_vm.refresh)
        feed_vm.ordersChanged.connect(order_vm.reload)  # also redraws the POS badge (kitchen_vm follows order_vm)
        feed_vm.ordersChanged.connect(checkout_vm.on_orders_changed)
        order_vm.changed.connect(orders_vm.refresh)
        feed_vm.status.set_connection(feed_vm.connection)
        orders_vm.refresh()
        self.show_tables()

    def _header(self) -> QWidget:
        header = QFrame()
        header.setObjectName("Header")
        header.setFixedHeight(68)
        row = QHBoxLayout(header)
        row.setContentsMargins(24, 6, 24, 6)
        row.setSpacing(12)
        self.logo = BrandLogo()  # long press or 5 taps: the settings PIN pad
        row.addWidget(self.logo)
        self.context = label("", "Context")
        row.addSpacing(20)
        row.addWidget(self.context, 1)
        self.nav_tables, self.nav_order, self.nav_orders = (
            button("Tables", "NavButton", True),
            button("Order", "NavButton", True),
            button("Orders", "NavButton", True),
        )
        self.nav_manager = button("Manager", "NavButton")
        for nav in (self.nav_tables, self.nav_order, self.nav_orders, self.nav_manager):
            nav.setFixedHeight(56)
            row.addWidget(nav)
        self.nav_tables.clicked.connect(self.show_tables)
        self.nav_order.clicked.connect(lambda: self._show(self.order_page) if self.order_vm.order else None)
        self.nav_orders.clicked.connect(lambda: self._show(self.orders_page))
        return header

    def _status_bar(self, menu_note: tuple[str, bool]) -> QWidget:
        """Connected or since when not, what the waiter can still do, what waits for the service."""
        bar = QFrame()
        bar.setObjectName("StatusBar")
        bar.setFixedHeight(36)
        row = QHBoxLayout(bar)
        row.setContentsMargins(24, 0, 24, 0)
        self.connection_pill = label("")
        row.addWidget(self.connection_pill)
        row.addSpacing(12)
        # The kiosk id and the service URL are on the settings screen: a waiter needs neither here.
        self.status_detail = label("")
        row.addWidget(self.status_detail, 1)
        row.addSpacing(12)
        text, degraded = menu_note
        self.menu_note = label(text)
        if degraded:  # asked for the POS menu, showing a saved one or the file: say it plainly
            self.menu_note.setStyleSheet(f"color: {WARN}; font-weight: 700;")
        row.addWidget(self.menu_note)
        return bar

    # -- navigation --------------------------------------------------------------
    def _show(self, page: QWidget) -> None:
        self.root.setCurrentIndex(0)
        self.pages.setCurrentWidget(page)
        self.nav_tables.setChecked(page is self.tables_page)
        self.nav_order.setChecked(page is self.order_page)
        self.nav_orders.setChecked(page is self.orders_page)
        self.nav_order.setEnabled(self.order_vm.order is not None)
        order = self.order_vm.order
        self.context.setText(f"Table {order.table}" if order and page is self.order_page else "")

    def show_tables(self) -> None:
        self.order_vm.close()
        self._show(self.tables_page)

    def _on_table_picked(self, table: str) -> None:
        self.order_vm.open_table(table)
        self._show(self.order_page)

    def _on_order_picked(self, order_id: str) -> None:
        self.order_vm.open_order(order_id)
        self._show(self.order_page)

    def show_settings(self) -> None:
        self.settings_page.open()
        self.root.setCurrentWidget(self.settings_page)

    def show_manager(self) -> None:
        self.manager_page.open()
        self.root.setCurrentWidget(self.manager_page)

    def _on_orders_changed_for_manager(self, _: list[str]) -> None:
        if self.root.currentWidget() is self.manager_page:  # else it reloads when it opens
            self.history_model.refresh()
            if self.manager_page.tabs.currentWidget() is self.manager_page.totals:
                self.manager_page.totals.show_day(self.manager_page.totals.day)

    def _on_settings_closed(self) -> None:
        self.root.setCurrentIndex(0)
        if self.checkout_vm.state is not CheckoutState.IDLE:
            self.root.setCurrentWidget(self.checkout_panel)

    def _on_checkout(self) -> None:
        self.checkout_vm.start()

    def _on_split(self) -> None:
        self.checkout_vm.split()

    def _on_checkout_state(self, _: str) -> None:
        if self.checkout_vm.state is not CheckoutState.IDLE:
            self.root.setCurrentWidget(self.checkout_panel)

    def _on_checkout_closed(self) -> None:
        paid = self.checkout_vm.state is CheckoutState.PAID
        waiting = self.checkout_vm.live
        self.checkout_vm.back()
        if paid:
            self.show_tables()
        elif waiting:
            self._show(self.orders_page)
        else:
            self._show(self.order_page)

    def _on_status(self) -> None:
        status = self.feed_vm.status
        colour = TONE_COLOURS[status.tone.value]
        self.connection_pill.setText(f"●  {status.headline}")
        self.connection_pill.setStyleSheet(pill_style(colour))
        self.status_detail.setText(status.detail)
        self.settings_page.set_connection((status.headline, colour))
