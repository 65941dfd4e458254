"""Decide what an observation does to a payment record: pure, no I/O.

Both paths that change payments use it: webhook batches and single
server-side retrieves (refresh, reconcile, cancel).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from tablepay_domain.money import Money
from tablepay_domain.payment_state import FEED_EVENT, PaymentStatus, advance, refund_status

from ..models import PaymentRecord
from ..providers.base import Observation


@dataclass(frozen=True)
class Change:
    """A payment record to write; `moved` when its state changed (a feed event)."""

    before: PaymentRecord
    after: PaymentRecord
    moved: bool

    @property
    def became_paid(self) -> bool:
        return self.after.status.is_paid and not self.before.status.is_paid

    @property
    def charged_back(self) -> int:
        """What a chargeback newly took back with this change (0: none)."""
        return self.after.amount_charged_back - self.before.amount_charged_back

    @property
    def feed_event(self) -> str:
        """The feed's name for it: the status's event, or `payment.charged_back` when only that changed."""
        if self.charged_back and self.after.status is self.before.status:
            return CHARGED_BACK_EVENT
        return FEED_EVENT[self.after.status]


CHARGED_BACK_EVENT = "payment.charged_back"
CHARGEBACK_PREFIX = "chargeback"


def chargeback_note(payment: PaymentRecord, charged_back: int) -> str:
    """What the manager reads about a chargeback, kept with any earlier note."""
    note = (
        f"{CHARGEBACK_PREFIX}: the guest's bank took back {Money(charged_back, payment.currency)} of this "
        f"payment (in all {Money(payment.amount_total, payment.currency)} was paid). The money has left the "
        "restaurant's provider balance; contest it in the provider's dashboard if the meal was served."
    )
    return f"{payment.attention} | {note}" if payment.attention else note


def decide(payment: PaymentRecord, obs: Observation, now: str) -> Change | None:
    """The change `obs` makes to `payment`, or None when it changes nothing.

    A chargeback (a larger charged-back sum) is recorded on a paid payment, whatever its status becomes:
    the status stays what the payment and its refunds make it, and the payment is flagged for a person.
    """
    change = _decide_status(payment, obs, now)
    after = change.after if change else payment
    charged_back = obs.amount_charged_back or 0
    if charged_back <= payment.amount_charged_back or not after.status.is_paid:
        return change
    note = chargeback_note(after, charged_back - payment.amount_charged_back)
    return Change(payment, replace(after, amount_charged_back=charged_back, attention=note, updated_at=now), True)


def _decide_status(payment: PaymentRecord, obs: Observation, now: str) -> Change | None:
    links: dict[str, Any] = {
        column: value
        for column, value in (
            ("provider_session_id", obs.session_id),
            ("provider_payment_intent", obs.payment_intent),
            ("provider_charge", obs.charge),
        )
        if value and getattr(payment, column) is None
    }
    target, refunded = obs.status, payment.amount_refunded
    if obs.amount_refunded is not None:
        # Refund events may come out of order: the largest refunded sum is the newest.
        refunded = max(refunded, obs.amount_refunded)
        target = refund_status(payment.amount_total, refunded)
    transition = advance(payment.status, target) if target else None
    if (
        transition is None
        or not transition.changed
        or (transition.after is payment.status and refunded == payment.amount_refunded)
    ):
        return Change(payment, replace(payment, **links, updated_at=now), moved=False) if links else None
    after = transition.after
    changes: dict[str, object] = {**links, "status": after, "amount_refunded": refunded, "updated_at": now}
    if after.is_paid and payment.paid_at is None:
        changes["paid_at"] = now
    if after is PaymentStatus.FAILED and obs.failure_reason:
        changes["failure_reason"] = obs.failure_reason
    return Change(payment, replace(payment, **changes), moved=True)  # type: ignore[arg-type]
