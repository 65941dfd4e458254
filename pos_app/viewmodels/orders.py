"""The order list: every open order of this kiosk with its payment state, and today's paid ones."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from PySide6.QtCore import QObject, Signal

from tablepay_domain.money import Money

from ..money_format import format_money
from ..settings import KioskSettings
from ..store import KioskStore, LocalOrder
from .kitchen import ORDER_STATUS_LABELS, PAY_FIRST_LABEL, POS_LABELS, waits_for_payment
from .offer import OfferViewModel

# What the waiter reads for each local payment state.
PAYMENT_LABELS = {
    None: "No checkout yet",
    "open": "Waiting for guest",
    "pending": "Processing",
    "authorized": "Authorised",
    "paid": "Paid",
    "failed": "Declined",
    "cancelled": "Cancelled",
    "expired": "Expired",
    "partially_refunded": "Partly refunded",
    "refunded": "Refunded",
}


@dataclass(frozen=True)
class OrderRow:
    order_id: str
    table: str
    items: int
    total: str
    payment: str
    payment_status: str | None
    time: str
    pos: str = ""  # the POS badge ("" when never sent to the kitchen)
    pos_status: str | None = None
    order_status: str = ""  # the service's order status, in words ("" until it said one)


class OrdersViewModel(QObject):
    changed = Signal()

    def __init__(
        self,
        store: KioskStore,
        settings: KioskSettings,
        offer: OfferViewModel | None = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.store, self.settings, self.offer = store, settings, offer
        self.open_rows: list[OrderRow] = []  # pay-first: those the kitchen has (or that were sent before)
        self.waiting_rows: list[OrderRow] = []  # pay-first orders waiting for their payment
        self.paid_rows: list[OrderRow] = []

    @property
    def pay_first(self) -> bool:
        """The service sends orders to the kitchen once paid: the open ones waiting for it are listed apart."""
        return self.offer is not None and self.offer.pay_first

    def _row(self, order: LocalOrder) -> OrderRow:
        status = order.latest_attempt.status.value if order.latest_attempt else None
        if order.is_paid:
            status = "paid"
        stamp = order.paid_at if order.is_paid and order.paid_at else order.created_at
        try:
            shown = datetime.fromisoformat(stamp).astimezone().strftime("%H:%M")
        except ValueError:
            shown = ""
        total: Money = order.totals().total
        return OrderRow(
            order.order_id,
            order.table,
            sum(line.quantity for line in order.lines),
            format_money(total, self.settings.locale),
            PAYMENT_LABELS.get(status, status or ""),
            status,
            shown,
            PAY_FIRST_LABEL
            if waits_for_payment(order, self.pay_first)
            else POS_LABELS.get(order.pos_status, order.pos_status or ""),
            order.pos_status,
            self._order_status(order),
        )

    def _order_status(self, order: LocalOrder) -> str:
        """Pay-first only: there the order's status says what the pills and headings do not (a waiting
        order's "Waiting for payment" is its heading already)."""
        status = order.service_status or ""
        if not self.pay_first or status == "awaiting_payment":
            return ""
        return ORDER_STATUS_LABELS.get(status, status)

    def refresh(self, *_: object) -> None:
        midnight = datetime.now().astimezone().replace(hour=0, minute=0, second=0, microsecond=0)
        open_orders = [o for o in self.store.orders("open") if o.lines]
        waiting = [waits_for_payment(o, self.pay_first) for o in open_orders]
        self.waiting_rows = [self._row(o) for o, w in zip(open_orders, waiting, strict=True) if w]
        self.open_rows = [self._row(o) for o, w in zip(open_orders, waiting, strict=True) if not w]
        self.paid_rows = [self._row(o) for o in self.store.orders("paid", since=midnight.astimezone(UTC).isoformat())]
        self.changed.emit()

    def open_tables(self) -> dict[str, int]:
        """Table label -> number of open orders, for the table picker's badges."""
        counts: dict[str, int] = {}
        for row in [*self.waiting_rows, *self.open_rows]:
            counts[row.table] = counts.get(row.table, 0) + 1
        return counts
