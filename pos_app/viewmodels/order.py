"""The order being built at a table: lines, note, tip and donation, saved locally on every change."""

from __future__ import annotations

import uuid
from typing import Any

from PySide6.QtCore import QObject, Signal

from tablepay_domain.money import Money
from tablepay_domain.tips import DonationChoice, DonationKind, TipChoice, TipKind, Totals, round_up_amount

from ..menu import Menu
from ..money_format import format_money
from ..settings import KioskSettings
from ..store import AlreadySent, KioskStore, LocalOrder
from .offer import OfferViewModel


class OrderViewModel(QObject):
    changed = Signal()
    notice = Signal(str)  # a change refused, in words for the waiter

    def __init__(
        self,
        store: KioskStore,
        menu: Menu,
        settings: KioskSettings,
        offer: OfferViewModel | None = None,
        parent: QObject | None = None,
    ) -> None:
        """`offer`: what the sync service lets the kiosk offer (None: no word from it, the settings decide)."""
        super().__init__(parent)
        self.store, self.menu, self.settings, self.offer = store, menu, settings, offer
        self.order: LocalOrder | None = None
        self.busy = False  # a send to the kitchen is on its way: the lines wait for its answer
        if offer is not None:
            offer.changed.connect(self._on_offer_changed)

    @property
    def donations_offered(self) -> bool:
        """Whether the donation row is shown: not when the service takes no donations."""
        return self.offer is None or self.offer.takes_donations

    @property
    def donation_partner_text(self) -> str:
        """Who the donation goes to, for the line under the donation buttons ('' without a partner or donations)."""
        partner = self.settings.donation_partner.strip()
        return f"Donations go to {partner}" if partner and self.donations_offered else ""

    # -- which order --------------------------------------------------------
    def open_table(self, table: str) -> LocalOrder:
        """The table's open order, or a new one."""
        existing = self.store.open_order_for_table(table)
        if existing is not None:
            self.order = self._offered(existing)
        else:
            order_id = f"{self.settings.kiosk_id}-{uuid.uuid4().hex[:12]}"
            self.order = self.store.create_order(order_id, table, self.menu.currency, self.settings.waiter)
        self.changed.emit()
        return self.order

    def open_order(self, order_id: str) -> None:
        self.order = self._offered(self.store.order(order_id))
        self.changed.emit()

    def reload(self, order_ids: list[str] | None = None) -> None:
        if self.order is not None and (order_ids is None or self.order.order_id in order_ids):
            self.order = self._offered(self.store.order(self.order.order_id))
            self.changed.emit()

    def _on_offer_changed(self) -> None:
        if self.order is not None:
            self.order = self._offered(self.store.order(self.order.order_id))
        self.changed.emit()  # the donation row shows or hides even with no order open

    async def confirm_offer(self) -> None:
        """Before a checkout: hear the service's word on donations if it has not spoken yet."""
        if self.offer is not None:
            await self.offer.known()

    def _offered(self, order: LocalOrder) -> LocalOrder:
        """The order without a donation when the service takes none, so no checkout carries one.
        Only while the order can change: a live or paid attempt keeps the amounts it was opened with."""
        if self.donations_offered or order.donation.kind is DonationKind.NONE or not self._can_change(order):
            return order
        self.store.set_donation(order.order_id, DonationChoice())
        return self.store.order(order.order_id)

    def close(self) -> None:
        """Leave the order; an empty one that never reached the service is discarded."""
        if self.order is not None and not self.order.lines and self.order.latest_attempt is None:
            self.store.delete_order(self.order.order_id)
        self.order = None
        self.changed.emit()

    def _require(self) -> LocalOrder:
        if self.order is None:
            raise RuntimeError("no order is open")
        return self.order

    @property
    def editable(self) -> bool:
        """Dishes and amounts are frozen while a checkout is live or once paid."""
        return self.order is not None and not self.busy and self._can_change(self.order)

    @staticmethod
    def _can_change(order: LocalOrder) -> bool:
        return not order.is_paid and (order.latest_attempt is None or not order.latest_attempt.status.is_live)

    def set_busy(self, busy: bool) -> None:
        self.busy = busy
        self.reload()

    def _after_change(self) -> None:
        self.reload()

    # -- lines ------------------------------------------------------------------
    def add_item(self, sku: str) -> None:
        if not self.editable:
            return
        item = self.menu.item(sku)
        self.store.add_line(self._require().order_id, item.sku, item.name, item.unit_amount)
        self._after_change()

    def set_quantity(self, sku: str, quantity: int) -> None:
        if not self.editable:
            return
        order = self._require()
        sent = order.sent_quantity(sku)
        if quantity < sent:
            name = next((line.name for line in order.lines if line.sku == sku), sku)
            self.notice.emit(
                f"{sent} × {name} already went to the kitchen: the order cannot have fewer. "
                "Void dishes at the restaurant's POS."
            )
            return
        try:
            self.store.set_quantity(order.order_id, sku, max(0, min(quantity, 999)))
        except AlreadySent:  # the kitchen's count moved on since this order was read
            self.notice.emit("Those dishes already went to the kitchen: the order cannot have fewer.")
        self._after_change()

    def increment(self, sku: str) -> None:
        self.set_quantity(sku, self._quantity(sku) + 1)

    def decrement(self, sku: str) -> None:
        self.set_quantity(sku, self._quantity(sku) - 1)

    def remove(self, sku: str) -> None:
        self.set_quantity(sku, 0)

    def _quantity(self, sku: str) -> int:
        return next((line.quantity for line in self._require().lines if line.sku == sku), 0)

    def set_note(self, note: str) -> None:
        if self.order is not None and note != self.order.note:
            self.store.set_note(self.order.order_id, note[:500])
            self._after_change()

    # -- tip and donation ---------------------------------------------------------
    def set_tip(self, tip: TipChoice) -> None:
        if self.editable:
            self.store.set_tip(self._require().order_id, tip)
            self._after_change()

    def set_tip_percent(self, percent: int) -> None:
        self.set_tip(TipChoice(TipKind.PERCENT, percent) if percent else TipChoice())

    def set_tip_custom(self, amount: int) -> None:
        self.set_tip(TipChoice(TipKind.CUSTOM, amount) if amount else TipChoice())

    def set_donation(self, donation: DonationChoice) -> None:
        if self.editable and (self.donations_offered or donation.kind is DonationKind.NONE):
            self.store.set_donation(self._require().order_id, donation)
            self._after_change()

    def set_donation_round_up(self) -> None:
        self.set_donation(DonationChoice(DonationKind.ROUND_UP))

    def set_donation_fixed(self, amount: int) -> None:
        self.set_donation(DonationChoice(DonationKind.FIXED, amount) if amount else DonationChoice())

    # -- paying: in full, or split ----------------------------------------------------
    @property
    def split_open(self) -> bool:
        """Guests are paying their parts: paying in full waits until the waiter stops the split."""
        order = self.order
        return order is not None and not order.is_paid and order.bill is not None and order.bill.is_open

    @property
    def _checkout_live(self) -> bool:
        checkout = self.order.latest_checkout if self.order is not None else None
        return checkout is not None and checkout.status.is_live

    @property
    def can_pay(self) -> bool:
        order = self.order
        return order is not None and bool(order.lines) and not order.is_paid and not self.split_open

    @property
    def pay_text(self) -> str:
        if self._checkout_live:
            return "Show payment QR"
        stopped = self.order is not None and self.order.bill is not None and self.order.bill.is_stopped
        return "Pay the rest in full" if stopped else "Pay in full"

    @property
    def can_split(self) -> bool:
        order = self.order
        return order is not None and bool(order.lines) and not order.is_paid and not self._checkout_live

    @property
    def split_text(self) -> str:
        return "Show split QR" if self.split_open else "Split the bill"

    # -- what the views show ----------------------------------------------------------
    def totals(self) -> Totals:
        if self.order is None:
            zero = Money.zero(self.menu.currency)
            return Totals(zero, zero, zero)
        return self.order.totals()

    def round_up_preview(self) -> Money:
        totals = self.totals()
        return round_up_amount(totals.dishes + totals.tip)

    def fmt(self, amount: int | Money) -> str:
        money = amount if isinstance(amount, Money) else Money(amount, self.menu.currency)
        return format_money(money, self.settings.locale)

    def bill_snapshot(self) -> dict[str, Any]:
        """The order as POST /v1/orders/{id}/bill takes it: without tip and donation (each guest adds their
        own), with the kiosk's tip percentages for the bill page (it offers at most 4: the first ones)."""
        return {**self.snapshot(), "tip_amount": 0, "donation_amount": 0, "tip_presets": self.settings.tip_presets[:4]}

    def snapshot(self) -> dict[str, Any]:
        """The order as POST /v1/checkouts and /v1/orders take it (the service recomputes the total)."""
        order = self._require()
        totals = order.totals()
        return {
            "order_id": order.order_id,
            "kiosk_id": self.settings.kiosk_id,
            "currency": order.currency,
            "table": order.table,
            "waiter": order.waiter,
            "lines": [
                {"sku": line.sku, "name": line.name, "quantity": line.quantity, "unit_amount": line.unit_amount}
                for line in order.lines
            ],
            "tip_amount": totals.tip.amount,
            "donation_amount": totals.donation.amount,
            "note": order.note,
        }
