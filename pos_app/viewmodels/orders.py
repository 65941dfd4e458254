"""The order list: every open order of this kiosk and of the partners, with its payment state; today's paid ones."""

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
    title: str = ""  # "Table 7", or "Pickup A-12" for a partner's pickup order
    detail: str = ""  # "2 items · 13:05", or "via menu-app · 13:05" for a partner's order
    openable: bool = True  # False for a partner's order: its guest pays on the partner's checkout
    order_status: str = ""  # the service's order status, in words ("" until it said one)


def _listed_open(order: LocalOrder) -> bool:
    """An open order of this kiosk once it has a dish; a partner's only while its guest can still pay (an
    expired or failed partner checkout is never tried again: the history keeps it)."""
    if order.partner is None:
        return bool(order.lines)
    return order.latest_checkout is not None and order.latest_checkout.status.is_live


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

    def _payment(self, order: LocalOrder) -> tuple[str | None, str]:
        """(state key for the pill's colour, the pill's words): a split bill's progress, else the attempt's."""
        fmt = lambda amount: format_money(Money(amount, order.currency), self.settings.locale)
        if order.is_paid:
            return "paid", PAYMENT_LABELS["paid"]
        if order.bill is not None and order.bill.is_open:
            return "split", f"Split · {fmt(order.bill.paid)} paid"
        latest = order.latest_attempt
        if (
            order.bill is not None and order.bill.is_stopped and (latest is None or latest.share)
        ):  # no rest checkout yet
            return "split_stopped", f"Split stopped · {fmt(order.bill.remaining)} left"
        status = latest.status.value if latest else None
        return status, PAYMENT_LABELS.get(status, status or "")

    def _row(self, order: LocalOrder) -> OrderRow:
        status, payment = self._payment(order)
        stamp = order.paid_at if order.is_paid and order.paid_at else order.created_at
        try:
            shown = datetime.fromisoformat(stamp).astimezone().strftime("%H:%M")
        except ValueError:
            shown = ""
        total: Money = order.totals().total
        items = sum(line.quantity for line in order.lines)
        detail = f"{items} item" + ("" if items == 1 else "s")
        title = f"Table {order.table}"
        if order.partner is not None:
            # Its dishes are the partner's; what the kiosk knows is what its checkout asks of the guest.
            amount = order.latest_checkout.amount_total if order.latest_checkout else 0
            total = Money(amount, order.currency)
            detail = f"via {order.partner}"
            if order.table.startswith("pickup "):
                title = "Pickup " + order.table.removeprefix("pickup ")
        return OrderRow(
            order.order_id,
            order.table,
            items,
            format_money(total, self.settings.locale),
            payment,
            status,
            shown,
            PAY_FIRST_LABEL
            if waits_for_payment(order, self.pay_first)
            else POS_LABELS.get(order.pos_status, order.pos_status or ""),
            order.pos_status,
            title,
            f"{detail} · {shown}",
            order.partner is None,
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
        open_orders = [o for o in self.store.orders("open") if _listed_open(o)]
        waiting = [waits_for_payment(o, self.pay_first) for o in open_orders]
        self.waiting_rows = [self._row(o) for o, w in zip(open_orders, waiting, strict=True) if w]
        self.open_rows = [self._row(o) for o, w in zip(open_orders, waiting, strict=True) if not w]
        self.paid_rows = [self._row(o) for o in self.store.orders("paid", since=midnight.astimezone(UTC).isoformat())]
        self.changed.emit()

    def open_tables(self) -> dict[str, int]:
        """Table label -> number of open orders, for the table picker's badges (a partner's order is not
        one a waiter can open there)."""
        counts: dict[str, int] = {}
        for row in [*self.waiting_rows, *self.open_rows]:
            if not row.openable:
                continue
            counts[row.table] = counts.get(row.table, 0) + 1
        return counts
