"""The payment state machine: one explicit transition table, no I/O.

Provider events arrive late, twice and out of order. The table only allows
moves *forward*, so a stale event can never undo a newer one: a Paid payment
stays Paid when an old `expired` shows up, and a late `succeeded` wins over
Failed, Cancelled and Expired because the money was taken.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class PaymentStatus(str, Enum):
    OPEN = "open"
    PENDING = "pending"
    AUTHORIZED = "authorized"
    PAID = "paid"
    FAILED = "failed"
    CANCELLED = "cancelled"
    EXPIRED = "expired"
    PARTIALLY_REFUNDED = "partially_refunded"
    REFUNDED = "refunded"

    @property
    def is_live(self) -> bool:
        """The guest may still pay this attempt."""
        return self in LIVE

    @property
    def is_paid(self) -> bool:
        """Money was taken (refunds included: they happen after a payment)."""
        return self in PAID_FAMILY

    @property
    def can_retry(self) -> bool:
        """The order may get a new attempt after this one."""
        return self in UNPAID_FINAL


S = PaymentStatus
LIVE = frozenset({S.OPEN, S.PENDING, S.AUTHORIZED})
UNPAID_FINAL = frozenset({S.FAILED, S.CANCELLED, S.EXPIRED})
PAID_FAMILY = frozenset({S.PAID, S.PARTIALLY_REFUNDED, S.REFUNDED})

# from -> the states it may move to. Anything not listed is refused.
TRANSITIONS: dict[PaymentStatus, frozenset[PaymentStatus]] = {
    S.OPEN: frozenset(
        {S.PENDING, S.AUTHORIZED, S.PAID, S.FAILED, S.CANCELLED, S.EXPIRED, S.PARTIALLY_REFUNDED, S.REFUNDED}
    ),
    S.PENDING: frozenset({S.AUTHORIZED, S.PAID, S.FAILED, S.CANCELLED, S.EXPIRED, S.PARTIALLY_REFUNDED, S.REFUNDED}),
    S.AUTHORIZED: frozenset({S.PAID, S.FAILED, S.CANCELLED, S.EXPIRED, S.PARTIALLY_REFUNDED, S.REFUNDED}),
    # A late success beats an earlier failure: the guest's money was taken.
    S.FAILED: frozenset({S.PAID, S.PARTIALLY_REFUNDED, S.REFUNDED}),
    S.CANCELLED: frozenset({S.PAID, S.PARTIALLY_REFUNDED, S.REFUNDED}),
    S.EXPIRED: frozenset({S.PAID, S.PARTIALLY_REFUNDED, S.REFUNDED}),
    S.PAID: frozenset({S.PARTIALLY_REFUNDED, S.REFUNDED}),
    # A second partial refund is a real change (the refunded sum grows).
    S.PARTIALLY_REFUNDED: frozenset({S.PARTIALLY_REFUNDED, S.REFUNDED}),
    S.REFUNDED: frozenset(),
}

# How far along a payment is; the table above never lowers it.
RANK: dict[PaymentStatus, int] = {
    S.OPEN: 0,
    S.PENDING: 1,
    S.AUTHORIZED: 2,
    S.FAILED: 3,
    S.CANCELLED: 3,
    S.EXPIRED: 3,
    S.PAID: 4,
    S.PARTIALLY_REFUNDED: 5,
    S.REFUNDED: 6,
}

FEED_EVENT: dict[PaymentStatus, str] = {
    S.OPEN: "payment.created",
    S.PENDING: "payment.pending",
    S.AUTHORIZED: "payment.authorized",
    S.PAID: "payment.succeeded",
    S.FAILED: "payment.failed",
    S.CANCELLED: "payment.cancelled",
    S.EXPIRED: "payment.expired",
    S.PARTIALLY_REFUNDED: "payment.partially_refunded",
    S.REFUNDED: "payment.refunded",
}


@dataclass(frozen=True)
class Transition:
    before: PaymentStatus
    after: PaymentStatus
    changed: bool


def can_move(current: PaymentStatus, target: PaymentStatus) -> bool:
    return target in TRANSITIONS[current]


def advance(current: PaymentStatus, target: PaymentStatus) -> Transition:
    """Apply an observed provider state; a refused move leaves the payment as it is."""
    if can_move(current, target):
        return Transition(current, target, True)
    return Transition(current, current, False)


def refund_status(amount_total: int, amount_refunded: int) -> PaymentStatus:
    return S.REFUNDED if amount_refunded >= amount_total else S.PARTIALLY_REFUNDED
