"""Every open order of this kiosk with its payment state; paid orders under "Paid today"."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import QHBoxLayout, QLabel, QScrollArea, QVBoxLayout, QWidget

from ..viewmodels import OrdersViewModel
from ..viewmodels.orders import OrderRow
from .order_page import NARROW_WIDTH
from .theme import POS_COLOURS, STATUS_COLOURS, pill_style
from .widgets import ElidedLabel, button, card, clear, label, vbox


class OrdersPage(QWidget):
    orderPicked = Signal(str)

    def __init__(self, vm: OrdersViewModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("Page")
        self.vm = vm
        self.root = QHBoxLayout(self)
        self.root.setContentsMargins(24, 20, 24, 20)
        self.root.setSpacing(20)
        self.open_box, open_card = self._column("Open orders")
        self.paid_box, paid_card = self._column("Paid today")
        self.root.addWidget(open_card, 1)
        self.root.addWidget(paid_card, 1)
        self.pos_badges: dict[str, QLabel] = {}  # order id -> its POS badge, for open orders sent to the kitchen
        vm.changed.connect(self._on_changed)

    def resizeEvent(self, event: QResizeEvent) -> None:
        # Halves on 1280 px; below NARROW_WIDTH the open orders (two pills and Open) get 3/5.
        narrow = self.width() < NARROW_WIDTH
        self.root.setStretch(0, 3 if narrow else 1)
        self.root.setStretch(1, 2 if narrow else 1)
        super().resizeEvent(event)

    def _column(self, title: str) -> tuple[QVBoxLayout, QWidget]:
        column = vbox(spacing=12)
        column.addWidget(label(title, "Title"))
        box = vbox(spacing=8)
        holder = QWidget()
        holder.setLayout(box)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setWidget(holder)
        column.addWidget(scroll, 1)
        return box, card(column, margins=16)  # 16, not 24: a row with both pills fits half of 1024 px

    def _row(self, row: OrderRow, openable: bool) -> QWidget:
        widget = QWidget()
        layout = QHBoxLayout(widget)
        layout.setContentsMargins(0, 4, 0, 4)
        layout.setSpacing(10)
        # Table and items stacked, payment and POS pills stacked: a row fits half the screen with both pills.
        text = vbox(spacing=0)
        text.addWidget(ElidedLabel(row.title, "LineName"))
        text.addWidget(ElidedLabel(" · ".join(part for part in (row.detail, row.order_status) if part), "LineMeta"))
        layout.addLayout(text, 1)
        pills = vbox(spacing=4)
        pill = label(row.payment)
        pill.setStyleSheet(pill_style(STATUS_COLOURS.get(row.payment_status, "#6b7280")))
        pill.setFixedHeight(30)
        pills.addWidget(pill, 0, Qt.AlignmentFlag.AlignRight)
        if row.pos:
            kitchen = label(row.pos)
            kitchen.setStyleSheet(pill_style(POS_COLOURS.get(row.pos_status, POS_COLOURS[None])))
            kitchen.setFixedHeight(30)
            pills.addWidget(kitchen, 0, Qt.AlignmentFlag.AlignRight)
            self.pos_badges[row.order_id] = kitchen
        layout.addLayout(pills)
        total = label(row.total, "LineTotal")
        total.setMinimumWidth(84)  # "€1,234.00" still fits: the label is never narrower than its text
        total.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        layout.addWidget(total)
        if openable and row.openable:
            open_button = button("Open", "Chip")
            open_button.clicked.connect(lambda: self.orderPicked.emit(row.order_id))
            layout.addWidget(open_button)
        widget.setProperty("order_id", row.order_id)
        return widget

    def _on_changed(self) -> None:
        self.pos_badges = {}
        clear(self.open_box)
        if self.vm.pay_first:  # pay-first: those waiting for their payment apart from the kitchen's
            self._section(self.open_box, "WAITING FOR PAYMENT", self.vm.waiting_rows, "Nobody is paying now.")
            self._section(self.open_box, "IN THE KITCHEN", self.vm.open_rows, "Nothing in the kitchen.")
        else:
            self._fill(self.open_box, self.vm.open_rows, True, "No open orders.")
        self.open_box.addStretch(1)
        clear(self.paid_box)
        self._fill(self.paid_box, self.vm.paid_rows, False, "Nothing paid yet today.")
        self.paid_box.addStretch(1)

    def _section(self, box: QVBoxLayout, title: str, rows: list[OrderRow], empty: str) -> None:
        box.addWidget(label(title, "SectionLabel"))
        self._fill(box, rows, True, empty)

    def _fill(self, box: QVBoxLayout, rows: list[OrderRow], openable: bool, empty: str) -> None:
        for row in rows:
            box.addWidget(self._row(row, openable))
        if not rows:
            box.addWidget(label(empty, "Empty"))
