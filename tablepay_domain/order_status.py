"""An order's status, next to its payments' statuses: where the order as a whole stands. No I/O.

A payment attempt says what happened to one checkout; the order status says what the restaurant must
do: wait for the guest, cook, or nothing more. It is derived from facts the service keeps (the
attempts, a split bill, what the POS has), so it can always be worked out again, never edited.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum

from .order import KitchenMode
from .payment_state import PaymentStatus


class OrderStatus(str, Enum):
    AWAITING_PAYMENT = "awaiting_payment"  # not paid yet, and the guest can still pay
    PAID = "paid"  # paid; the kitchen has not got the dishes yet (or there is no POS to tell)
    IN_KITCHEN = "in_kitchen"  # the dishes are in the restaurant's POS (its kitchen tickets)
    CLOSED = "closed"  # paid, and paid and closed in the POS: nothing more to do
    EXPIRED = "expired"  # never paid: its last checkout expired and none is live
    CANCELLED = "cancelled"  # never paid: its last checkout was cancelled and none is live

    @property
    def ended_unpaid(self) -> bool:
        """The order was given up without a payment: a payment arriving now is a late one."""
        return self in (OrderStatus.EXPIRED, OrderStatus.CANCELLED)


@dataclass(frozen=True)
class OrderFacts:
    kitchen: KitchenMode
    last_attempt: PaymentStatus | None  # the newest attempt's status (a split bill's shares included)
    live: bool = False  # an attempt the guest may still pay
    paid: bool = False  # paid in full by one attempt, or its split bill settled
    bill_open: bool = False  # guests are paying shares of it
    dishes_in_pos: bool = False  # at least one package of dishes was delivered to the POS
    closed_in_pos: bool = False  # paid and the visit closed in the POS

    @classmethod
    def of(cls, kitchen: KitchenMode, attempts: Sequence[PaymentStatus], **facts: bool) -> OrderFacts:
        """From every attempt's status, oldest first."""
        last = attempts[-1] if attempts else None
        return cls(kitchen, last, live=any(s.is_live for s in attempts), **facts)


def order_status(facts: OrderFacts) -> OrderStatus:
    """The rules, in order:

    - paid: `closed` once the POS has it paid and closed, else `in_kitchen` once its dishes are in
      the POS, else `paid` (pay-first: the dishes are on their way; without a POS it stays `paid`);
    - not paid, but its dishes are in the POS (an `on_send` order, sent before it was paid):
      `in_kitchen`, whatever became of its checkouts: the kitchen cooks and the guest still owes;
    - not paid, and a checkout is live, a split bill is open, no checkout was opened yet, or the last one
      only failed (a declined card may be tried again): `awaiting_payment`;
    - otherwise its last checkout ended unpaid: `cancelled` when the waiter cancelled it, else `expired`.

    Neither `expired` nor `cancelled` is final: a new checkout makes the order `awaiting_payment`
    again, and a late payment makes it `paid` (and flags it for the staff).
    """
    if facts.paid:
        if facts.closed_in_pos:
            return OrderStatus.CLOSED
        return OrderStatus.IN_KITCHEN if facts.dishes_in_pos else OrderStatus.PAID
    if facts.dishes_in_pos:
        return OrderStatus.IN_KITCHEN
    if facts.bill_open or facts.live or facts.last_attempt is None:
        return OrderStatus.AWAITING_PAYMENT
    last = facts.last_attempt
    if last is PaymentStatus.CANCELLED:
        return OrderStatus.CANCELLED
    if last is PaymentStatus.EXPIRED:
        return OrderStatus.EXPIRED
    return OrderStatus.AWAITING_PAYMENT
