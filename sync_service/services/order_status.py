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
from tablepay_domain.payment_state import PaymentStatus

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
        found = self._repo.order_facts(order_id)
        if found is None:
            return None
        status = status_from(
            OrderFacts(
                kitchen=KitchenMode(found.kitchen),
                last_attempt=PaymentStatus(found.last_attempt) if found.last_attempt else None,
                live=found.live,
                paid=found.paid or found.bill_status == "settled",
                bill_open=found.bill_status == "open",
                dishes_in_pos=found.dishes_in_pos,
                closed_in_pos=found.closed_in_pos,
            )
        )
        if status.value != found.order_status:
            self._repo.set_order_status(order_id, status.value)
            self._repo.append_order_status_feed(found.kiosk_id, order_id, found.currency, status.value)
            log.info("order_status", order_id=order_id, status=f"{found.order_status}->{status.value}")
        return status

    def flag_late_payment(self, change: Change) -> Change:
        """A payment of an order that had expired or was cancelled unpaid is honoured (a pay-first order goes
        to the kitchen now), and flagged: the guest may have left, or been served something else meanwhile.

        Judged from the attempt as the batch saw it before this change (expired or cancelled) and the order's
        other attempts (none live), never from the stored order status: that is written at the end of the
        batch, and an expiry and a payment in one batch must read as they do one by one."""
        before, after = change.before, change.after
        if not change.became_paid or after.bill_id is not None or not before.status.can_retry:
            return change
        if before.status is PaymentStatus.FAILED:
            return change  # a declined card tried again: the order was never given up
        others = [a for a in self._repo.attempts(after.order_id) if a.payment_id != after.payment_id]
        if any(a.status.is_live or a.status.is_paid for a in others):
            return change  # the order was still being paid (or is paid: the double payment note says it)
        was = before.status.value
        log.warning("paid_after_expiry", payment_id=after.payment_id, order_id=after.order_id, was=was)
        note = (
            f"{LATE_PAYMENT_PREFIX}: order {after.order_id} was {was} unpaid when this payment arrived; the "
            "payment was honoured and the order is paid (a pay-first order goes to the kitchen now): check "
            "that the guest is still there, or refund it"
        )
        attention = f"{after.attention} | {note}" if after.attention else note
        return replace(change, after=replace(after, attention=attention))
