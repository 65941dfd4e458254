"""Decide what an observation does to a payment record: pure, no I/O.

Both paths that change payments use it: webhook batches and single
server-side retrieves (refresh, reconcile, cancel).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from tablepay_domain.payment_state import PaymentStatus, advance, refund_status

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


def decide(payment: PaymentRecord, obs: Observation, now: str) -> Change | None:
    """The change `obs` makes to `payment`, or None when it changes nothing."""
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
