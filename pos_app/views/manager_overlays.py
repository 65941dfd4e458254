"""Manager mode's overlays: an order's detail (lines, attempts and their events, POS trail) and a refund."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QScrollArea, QWidget

from ..viewmodels import PAYMENT_LABELS, ManagerViewModel, RefundState, RefundViewModel
from .overlays import Overlay
from .theme import DANGER, MUTED, PAID, WARN
from .widgets import button, clear, hbox, key_pad, label, vbox

REFUND_TONES = {
    RefundState.EDITING: MUTED,
    RefundState.SENDING: MUTED,
    RefundState.REQUESTED: PAID,
    RefundState.REFUSED: DANGER,
    RefundState.NO_ANSWER: WARN,
}


class DetailOverlay(Overlay):
    """Read-only: what the kiosk knows of the order, and the POS trail when the service answers."""

    def __init__(self, parent: QWidget, manager: ManagerViewModel) -> None:
        super().__init__(parent, "Order", width=960)
        self.manager = manager
        self.order_id = ""
        self.heading = label("", "Subtitle", wrap=True)
        self.body.addWidget(self.heading)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setMinimumHeight(440)
        holder = QWidget()
        self.content = vbox(spacing=6)
        holder.setLayout(self.content)
        scroll.setWidget(holder)
        self.body.addWidget(scroll)
        self.pos_box = vbox(spacing=4)
        self.close_button = button("Close", "Secondary")
        self.close_button.clicked.connect(self.hide)
        self.body.addWidget(self.close_button)
        manager.posTrail.connect(self._on_pos_trail)
        manager.providerEvents.connect(self._on_provider_events)

    def show_order(self, order_id: str) -> None:
        m, detail = self.manager, self.manager.detail(order_id)
        order = detail.order
        self.order_id = order_id
        self.heading.setText(m.order_heading(order))
        clear(self.content)
        self.content.addWidget(label("DISHES", "SectionLabel"))
        for line in order.lines:
            self.content.addWidget(label(f"{line.quantity} × {line.name}   {m.fmt(line.amount, order.currency)}"))
        if m.bill_text(order):
            self.content.addWidget(label(m.bill_text(order), wrap=True))
        for attempt in detail.attempts:
            p = attempt.payment
            self.content.addSpacing(8)
            self.content.addWidget(label(m.attempt_heading(p), "SectionLabel"))
            refunded = f" · refunded {m.fmt(p.amount_refunded, p.currency)}" if p.amount_refunded else ""
            self.content.addWidget(
                label(
                    f"{PAYMENT_LABELS.get(p.status, p.status)} · total {m.fmt(p.amount_total, p.currency)} "
                    f"(dishes {m.fmt(p.dish_subtotal, p.currency)}, tip {m.fmt(p.tip_amount, p.currency)}, "
                    f"donation {m.fmt(p.donation_amount, p.currency)}){refunded}{m.charged_back_text(p)} · "
                    f"{p.provider_reference or 'no reference yet'}",
                    wrap=True,
                )
            )
            for event in attempt.events:
                extra = f" · refunded {m.fmt(event.amount_refunded, p.currency)}" if event.amount_refunded else ""
                self.content.addWidget(
                    label(
                        f"   {m.local_time(event.occurred_at or event.applied_at, '%H:%M:%S')}  {event.event}{extra}",
                        "LineMeta",
                    )
                )
            if not attempt.events:
                self.content.addWidget(label("   no feed events yet", "LineMeta"))
        self.content.addSpacing(8)
        self.content.addWidget(label("PROVIDER EVENTS (as the sync service received them)", "SectionLabel"))
        self.provider_message = label("Asking the sync service…", "LineMeta", wrap=True)
        self.content.addWidget(self.provider_message)
        self.content.addSpacing(8)
        self.content.addWidget(label("POS TRAIL", "SectionLabel"))
        self.pos_message = label("Asking the sync service…", "LineMeta", wrap=True)
        self.content.addWidget(self.pos_message)
        self.content.addStretch(1)
        self.open()
        self.manager.load_pos_trail(order_id)
        self.manager.load_provider_events(order_id)

    def _on_provider_events(self, order_id: str, body: Any, message: str) -> None:
        if order_id != self.order_id or not self.isVisible():
            return
        if body is None:
            self.provider_message.setText(message)
            return
        lines: list[str] = []
        for attempt in body.get("attempts") or []:
            lines.append(f"Attempt {attempt.get('attempt')} · {attempt.get('status')}")
            lines += [
                f"   {self.manager.local_time(e.get('received_at'), '%H:%M:%S')}  {e.get('type')}  ({e.get('outcome')})"
                for e in attempt.get("events") or []
            ]
        self.provider_message.setText("\n".join(lines) or "No events yet.")

    def _on_pos_trail(self, order_id: str, body: Any, message: str) -> None:
        if order_id != self.order_id or not self.isVisible():
            return
        if body is None:
            self.pos_message.setText(message)
            return
        lines = [self.manager.pos_summary(body)]
        lines += [
            f"{self.manager.local_time(step.get('at'), '%H:%M:%S')}  {step.get('step')}  {step.get('detail', '')}"
            for step in body.get("trail") or []
        ]
        self.pos_message.setText("\n".join(lines))


class RefundOverlay(Overlay):
    """The amount on a till-style pad (minor units), checked locally, then sent once."""

    def __init__(self, parent: QWidget, vm: RefundViewModel) -> None:
        super().__init__(parent, "Refund", width=600)
        self.body.setSpacing(10)
        self.vm = vm
        self.info = label("", "Subtitle", wrap=True)
        self.body.addWidget(self.info)
        self.display = label("", "PadDisplay")
        self.display.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.body.addWidget(self.display)
        grid, self.keys = key_pad(self.press, spacing=10, key_height=60)  # 60 px keys: the dialog fits 800 px
        self.body.addLayout(grid)
        self.full_button = button("Everything left", "Chip")
        self.full_button.clicked.connect(lambda: self.vm.set_amount(self.vm.left))
        self.body.addWidget(self.full_button)
        self.message = label("", "PinMessage", wrap=True)
        self.body.addWidget(self.message)
        self.close_button, self.refund_button = button("Close", "Secondary"), button("Refund", "Primary")
        self.close_button.clicked.connect(self.hide)
        self.refund_button.clicked.connect(self.vm.submit)
        self.body.addLayout(hbox(self.close_button, self.refund_button))
        vm.changed.connect(self._render)

    def ask(self, payment_id: str) -> None:
        self.vm.begin(payment_id)
        self._render()
        self.open()

    def press(self, key: str) -> None:
        amount = self.vm.amount
        if key == "C":
            amount = 0
        elif key == "⌫":
            amount //= 10
        elif amount < 10**10:
            amount = amount * 10 + int(key)
        self.vm.set_amount(amount)

    def _render(self) -> None:
        vm, p = self.vm, self.vm.payment
        if p is None:
            self.info.setText("")
            self.display.setText("")
        else:
            fmt = lambda amount: vm.manager.fmt(amount, p.currency)
            self.info.setText(
                f"Order {p.order_id} · Table {p.table} · paid {fmt(p.amount_total)}"
                + (f", already refunded {fmt(p.amount_refunded)}" if p.amount_refunded else "")
                + f" · left {fmt(vm.left)}"
            )
            self.display.setText(fmt(vm.amount))
        problem = vm.problem() if vm.state is RefundState.EDITING and p is not None else ""
        text = vm.message or problem
        tone = DANGER if problem and not vm.message else REFUND_TONES[vm.state]
        self.message.setText(text)
        self.message.setStyleSheet(f"color: {tone}; font-weight: 600;")
        sending = vm.state is RefundState.SENDING
        self.refund_button.setEnabled(not sending and p is not None and vm.state is not RefundState.REQUESTED)
        self.refund_button.setText("Refund again" if vm.state is RefundState.NO_ANSWER else "Refund")
        for key in self.keys.values():
            key.setEnabled(not sending)
        self._centre()
