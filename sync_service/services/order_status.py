"""Keep each order's status (tablepay_domain/order_status.py) inside the transactions that change it.

The status is worked out again from the stored facts (attempts, split bill, POS progress) after every
change that can move it: a new checkout, a payment's change, a package or payment delivered to the POS.
When it moved it is written on the order and an `order.status` event goes into the kiosk's feed.
"""

from __future__ import annotations

from dataclasses import replace

import structlog

from tablepay_domain.order import KitchenMode, Order
from tablepay_domain.order_status import OrderFacts, OrderStatus
from tablepay_domain.order_status import order_status as status_from

from ..storage.repository import Repository
from .transitions import Change

log = structlog.get_logger(__name__)

LATE_PAYMENT_PREFIX = "paid_after_expiry"


def order_status(repo: Repository, order_id: str) -> str | None:
    """The order's status as stored (awaiting_payment, paid, in_kitchen, closed, expired, cancelled), or None
    for an order the service does not know. What the feed, the kiosk and partner webhooks report."""
    stored = repo.stored_order(order_id)
    return stored.order_status if stored else None


def kitchen_of(repo: Repository, order: Order, default: KitchenMode) -> KitchenMode:
    """When the POS hears of this order: as it was first stored, else as the order asks, else the service's."""
    stored = repo.stored_order(order.order_id)
    if stored is not None:
        return KitchenMode(stored.kitchen)
    return order.kitchen or default


class OrderStatuses:
    """Inside the caller's transaction: no commit, no notification (the caller wakes the kiosk)."""

    def __init__(self, repo: Repository) -> None:
        self._repo = repo

    def refresh(self, order_id: str) -> OrderStatus | None:
        """Work the status out again; when it moved, store it and append `order.status` to the feed."""
        stored = self._repo.stored_order(order_id)
        if stored is None:
            return None
        attempts = self._repo.attempts(order_id)
        bill = self._repo.bill_for_order(order_id)
        in_pos, closed = self._repo.pos_progress(order_id)
        status = status_from(
            OrderFacts(
                kitchen=KitchenMode(stored.kitchen),
                attempts=[a.status for a in attempts],
                paid=any(a.status.is_paid and a.bill_id is None for a in attempts)
                or (bill is not None and bill.status == "settled"),
                bill_open=bill is not None and bill.status == "open",
                dishes_in_pos=in_pos,
                closed_in_pos=closed,
            )
        )
        if status.value != stored.order_status:
            self._repo.set_order_status(order_id, status.value)
            self._repo.append_order_status_feed(stored.kiosk_id, order_id, stored.currency, status.value)
            log.info("order_status", order_id=order_id, status=f"{stored.order_status}->{status.value}")
        return status

    def flag_late_payment(self, change: Change) -> Change:
        """A payment of an order that had expired or was cancelled unpaid is honoured (its order goes to the
        kitchen now), and flagged: the guest may have left, or been served something else meanwhile."""
        if not change.became_paid or change.after.bill_id is not None:
            return change
        stored = self._repo.stored_order(change.after.order_id)
        if stored is None or not OrderStatus(stored.order_status).ended_unpaid:
            return change
        after = change.after
        log.warning("paid_after_expiry", payment_id=after.payment_id, order_id=after.order_id, was=stored.order_status)
        note = (
            f"{LATE_PAYMENT_PREFIX}: order {after.order_id} was {stored.order_status} unpaid when this payment "
            "arrived; the payment was honoured and the order is paid (a pay-first order goes to the kitchen "
            "now): check that the guest is still there, or refund it"
        )
        attention = f"{after.attention} | {note}" if after.attention else note
        return replace(change, after=replace(after, attention=attention))
