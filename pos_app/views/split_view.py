"""The split bill's screen: the bill page's QR for the guests, beside the table, the bill's total,
the guests' progress (live, from the feed) and the waiter's two buttons."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QWidget

from ..viewmodels import CheckoutViewModel
from .checkout_parts import InfoColumn, qr_card
from .widgets import WrapButton, hbox, label, vbox


class SplitView(QWidget):
    def __init__(self, vm: CheckoutViewModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.vm = vm
        row = QHBoxLayout(self)
        row.setContentsMargins(48, 40, 48, 40)
        row.setSpacing(48)
        card, self.qr = qr_card("Scan to see the bill and pay your part")
        row.addWidget(card, 0, Qt.AlignmentFlag.AlignVCenter)
        info = vbox(spacing=14)
        side = InfoColumn()
        side.setLayout(info)
        info.addStretch(1)
        self.table = label("", "BigTable")
        self.amount = label("", "BigAmount")
        self.progress = label("", "Countdown", wrap=True)  # "€42.10 of €96.00 paid · 1 guest paying"
        self.message = label("", "PanelMessage", wrap=True)
        for widget in (self.table, self.amount, self.progress, self.message):
            info.addWidget(widget)
        info.addStretch(1)
        self.hide_button = WrapButton("Back to orders", "Secondary")
        self.stop_button = WrapButton("Stop split", "Danger")
        self.stop_button.clicked.connect(self.vm.stop_split)
        info.addLayout(hbox(self.hide_button, self.stop_button))
        row.addWidget(side, 0)

    def show_bill(self, table: str) -> None:
        if self.qr.data != self.vm.bill_url:
            self.qr.set_data(self.vm.bill_url)
        self.table.setText(table)
        self.amount.setText(self.vm.amount_text)
        # A narrow column breaks the line only between its parts ("… paid ·" / "1 guest paying").
        parts = self.vm.progress_text.split(" · ")
        self.progress.setText(" · ".join(part.replace(" ", "\u00a0") for part in parts))
        self.progress.setVisible(bool(self.vm.progress_text))
        self.message.setText(self.vm.message)
