"""The full-screen checkout: a large QR code while the guest pays (or the guests pay their parts of
a split bill), then PAID or what went wrong."""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import QSizePolicy, QStackedWidget, QWidget

from ..viewmodels import CheckoutState, CheckoutViewModel, OrderViewModel
from .checkout_parts import qr_beside_info
from .split_view import SplitView
from .theme import DANGER, MUTED, PAID, WARN
from .widgets import WrapButton, button, hbox, label, vbox

HEADLINES = {
    CheckoutState.STARTING: ("Opening the checkout…", MUTED),
    CheckoutState.CANCELLING: ("Cancelling…", MUTED),
    CheckoutState.PAID: ("✓  PAID", PAID),
    CheckoutState.FAILED: ("Payment declined", DANGER),
    CheckoutState.EXPIRED: ("Checkout expired", WARN),
    CheckoutState.CANCELLED: ("Checkout cancelled", MUTED),
    CheckoutState.OFFLINE: ("No connection", WARN),
    CheckoutState.ERROR: ("Checkout refused", DANGER),
    CheckoutState.STOPPED: ("Split stopped", WARN),
}
SPLIT_HEADLINES = {  # the same states, when the waiter chose Split the bill
    CheckoutState.SPLITTING: ("Opening the split bill…", MUTED),
    CheckoutState.STOPPING: ("Stopping the split…", MUTED),
    CheckoutState.ERROR: ("Split refused", DANGER),
}
PROBLEMS = (
    CheckoutState.FAILED,
    CheckoutState.EXPIRED,
    CheckoutState.CANCELLED,
    CheckoutState.OFFLINE,
    CheckoutState.ERROR,
)


class CheckoutPanel(QWidget):
    closed = Signal()

    def __init__(self, vm: CheckoutViewModel, order_vm: OrderViewModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("CheckoutPanel")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        self.vm, self.order_vm = vm, order_vm
        self.stack = QStackedWidget()
        self.stack.addWidget(self._waiting_view())
        self.stack.addWidget(self._result_view())
        self.split_view = SplitView(vm)
        self.split_view.hide_button.clicked.connect(self._back)
        self.stack.addWidget(self.split_view)
        root = vbox(margins=0)
        root.addWidget(self.stack)
        self.setLayout(root)
        self.timer = QTimer(self)
        self.timer.setInterval(1000)
        self.timer.timeout.connect(self._tick)
        vm.stateChanged.connect(self._on_state)

    # -- waiting: QR ----------------------------------------------------------
    def _waiting_view(self) -> QWidget:
        page = QWidget()
        self.wait_table = label("", "BigTable")
        self.wait_amount = label("", "BigAmount")
        self.wait_breakdown = label("", "Subtitle", wrap=True)
        self.countdown = label("", "Countdown")
        self.wait_message = label("", "PanelMessage", wrap=True)
        self.qr, info = qr_beside_info(
            page,
            "Scan with your phone camera to pay",
            [self.wait_table, self.wait_amount, self.wait_breakdown, self.countdown, self.wait_message],
        )
        # Two lines each on a 1024 px screen rather than a smaller code.
        self.cancel_button = WrapButton("Cancel checkout", "Danger")
        self.cancel_button.clicked.connect(self.vm.cancel)
        self.hide_button = WrapButton("Back to orders", "Secondary")
        self.hide_button.clicked.connect(self._back)
        info.addLayout(hbox(self.hide_button, self.cancel_button))
        return page

    # -- paid / problem ------------------------------------------------------------
    def _result_view(self) -> QWidget:
        page = QWidget()
        page.setObjectName("ResultView")
        page.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        self.result_page = page
        column = vbox(spacing=18, margins=64)
        column.addStretch(2)
        self.headline = label("", "Headline")
        self.result_amount = label("", "BigAmount")
        self.result_table = label("", "BigTable")
        self.result_message = label("", "PanelMessage", wrap=True)
        for widget in (self.headline, self.result_amount, self.result_table, self.result_message):
            widget.setAlignment(Qt.AlignmentFlag.AlignCenter)
            column.addWidget(widget)
        column.addStretch(3)
        self.back_button = button("Back to order", "Secondary")
        self.back_button.clicked.connect(self._back)
        self.retry_button = button("Retry payment", "Primary")
        self.retry_button.clicked.connect(self.vm.retry)
        self.done_button = button("Done", "Primary")
        self.done_button.clicked.connect(self._back)
        self.pay_rest_button = button("Pay the rest in full", "Primary")
        self.pay_rest_button.clicked.connect(self.vm.pay_rest)
        buttons = hbox(spacing=20)
        buttons.addStretch(1)  # centred, at most 400 px each: as on 1280x800, and no wider than 1024 px needs
        for result_button in (self.back_button, self.retry_button, self.pay_rest_button, self.done_button):
            result_button.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
            result_button.setMaximumWidth(400)
            buttons.addWidget(result_button, 4)
        buttons.addStretch(1)
        column.addLayout(buttons)
        page.setLayout(column)
        return page

    # -- updates -------------------------------------------------------------------
    def _on_state(self, _: str) -> None:
        state = self.vm.state
        order = self.order_vm.order
        attempt = self.vm.attempt
        amount = self.vm.amount_text
        table = f"Table {order.table}" if order else ""
        if state is CheckoutState.SPLIT:
            self.timer.stop()
            self.split_view.show_bill(table)
            self.stack.setCurrentWidget(self.split_view)
            return
        if state is CheckoutState.WAITING and attempt is not None and attempt.checkout_url:
            if self.qr.data != attempt.checkout_url:
                self.qr.set_data(attempt.checkout_url)
            self.wait_table.setText(table)
            self.wait_amount.setText(amount)
            self.wait_breakdown.setText(
                f"Dishes {self.order_vm.fmt(attempt.amount_total - attempt.tip_amount - attempt.donation_amount)}"
                f"  ·  Tip {self.order_vm.fmt(attempt.tip_amount)}"
                f"  ·  Donation {self.order_vm.fmt(attempt.donation_amount)}"
            )
            self.wait_message.setText(
                self.vm.message if self.vm.message != "Scan to pay" else "Waiting for the guest to pay…"
            )
            self.cancel_button.setEnabled(True)
            self.stack.setCurrentIndex(0)
            self._tick()
            self.timer.start()
            return
        self.timer.stop()
        text, colour = (SPLIT_HEADLINES if self.vm.splitting else {}).get(state) or HEADLINES.get(state, ("", MUTED))
        paid = state is CheckoutState.PAID
        self.result_page.setStyleSheet(
            f"#ResultView {{ background: {PAID}; }} #ResultView QLabel {{ color: white; }}"
            f"#ResultView QPushButton#Primary {{ background: white; color: {PAID}; }}"
            if paid
            else ""
        )
        self.headline.setText(text)
        self.headline.setStyleSheet("" if paid else f"color: {colour};")
        self.result_amount.setText(amount)
        self.result_table.setText(table)
        self.result_message.setText("The sync service confirmed the payment." if paid else self.vm.message)
        problem, stopped = state in PROBLEMS, state is CheckoutState.STOPPED
        self.retry_button.setText("Try the split again" if self.vm.splitting else "Retry payment")
        self.retry_button.setVisible(problem)
        self.back_button.setVisible(problem or stopped)
        self.pay_rest_button.setVisible(stopped)
        self.done_button.setVisible(paid)
        self.stack.setCurrentIndex(1)

    def _tick(self) -> None:
        left = self.vm.seconds_left()
        minutes, seconds = divmod(left, 60)
        self.countdown.setText(f"Expires in {minutes}:{seconds:02d}" if left else "Expiring…")

    def _back(self) -> None:
        self.timer.stop()
        self.closed.emit()
