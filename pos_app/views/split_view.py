"""The split bill's screen: the bill page's QR for the guests, beside the table, the bill's total,
the guests' progress (live, from the feed) and the waiter's two buttons."""

from __future__ import annotations

from PySide6.QtWidgets import QWidget

from ..viewmodels import CheckoutViewModel
from .checkout_parts import qr_beside_info
from .widgets import WrapButton, hbox, label


class SplitView(QWidget):
    def __init__(self, vm: CheckoutViewModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.vm = vm
        self.table = label("", "BigTable")
        self.amount = label("", "BigAmount")
        self.progress = label("", "Countdown", wrap=True)  # "€42.10 of €96.00 paid · 1 guest paying"
        self.message = label("", "PanelMessage", wrap=True)
        self.qr, info = qr_beside_info(
            self, "Scan to see the bill and pay your part", [self.table, self.amount, self.progress, self.message]
        )
        self.hide_button = WrapButton("Back to orders", "Secondary")
        self.stop_button = WrapButton("Stop split", "Danger")
        self.stop_button.clicked.connect(self.vm.stop_split)
        info.addLayout(hbox(self.hide_button, self.stop_button))

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
