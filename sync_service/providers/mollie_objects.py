"""What a Mollie payment, fetched server-side, says about our attempt: pure, no I/O.

Mollie's payment is both the hosted checkout and the money, so its `tr_` id is
the attempt's session and its payment (refunds go to it). The refunded sum
counts the refunds that are on their way or done (`processing`, `refunded`):
Mollie calls the webhook for those, not for `queued`/`pending` ones, which may
still be cancelled, nor for `failed`/`canceled` ones, which moved no money.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from tablepay_domain.payment_state import PaymentStatus

from .base import MalformedObject, Observation
from .mollie_money import read_amount

PAYMENT_ID = re.compile(r"tr_[A-Za-z0-9]{1,64}")
STATUSES: dict[str, PaymentStatus] = {
    "open": PaymentStatus.OPEN,
    "pending": PaymentStatus.PENDING,
    "authorized": PaymentStatus.AUTHORIZED,
    "paid": PaymentStatus.PAID,
    "failed": PaymentStatus.FAILED,
    "canceled": PaymentStatus.CANCELLED,
    "expired": PaymentStatus.EXPIRED,
}
MONEY_MOVED = frozenset({"processing", "refunded"})


def _currency(payment: Mapping[str, Any]) -> str:
    amount = payment.get("amount")
    currency = amount.get("currency") if isinstance(amount, Mapping) else None
    if not (isinstance(currency, str) and len(currency) == 3 and currency.isalpha() and currency.isupper()):
        raise MalformedObject("amount.currency is not an ISO 4217 code")
    return currency


def refunds_of(payment: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    embedded = payment.get("_embedded") or {}
    refunds = embedded.get("refunds") if isinstance(embedded, Mapping) else None
    return [r for r in refunds or [] if isinstance(r, Mapping)]


def refunded_sum(payment: Mapping[str, Any], currency: str) -> int:
    """What the refunds that moved money add up to (embedded refunds; `amountRefunded` without them)."""
    refunds = refunds_of(payment)
    if not refunds:
        return read_amount(payment, "amountRefunded", currency) or 0
    return sum(
        read_amount(refund, "amount", currency) or 0 for refund in refunds if refund.get("status") in MONEY_MOVED
    )


def observation_from_payment(payment: Mapping[str, Any]) -> Observation:
    """Raises MalformedObject for a field we refuse to compute with."""
    payment_id = payment.get("id")
    if not isinstance(payment_id, str) or not PAYMENT_ID.fullmatch(payment_id):
        raise MalformedObject("id is not a Mollie payment id")
    currency = _currency(payment)
    total = read_amount(payment, "amount", currency)
    refunded = refunded_sum(payment, currency)
    charged_back = read_amount(payment, "amountChargedBack", currency) or 0
    if total is None or refunded > total or charged_back > total:
        raise MalformedObject(f"refunded {refunded} or charged back {charged_back} is more than the amount {total}")
    status = STATUSES.get(str(payment.get("status")))
    metadata = payment.get("metadata")
    ours = metadata.get("payment_id") if isinstance(metadata, Mapping) else None
    mode = payment.get("mode")
    details = payment.get("details")
    reason = (details.get("failureReason") if isinstance(details, Mapping) else None) or "failed at Mollie"
    return Observation(
        status=status,
        payment_id=str(ours) if ours else None,
        session_id=payment_id,
        payment_intent=payment_id,
        amount_total=total,
        amount_refunded=refunded if status is PaymentStatus.PAID and refunded else None,
        amount_charged_back=charged_back or None,
        failure_reason=str(reason)[:200] if status is PaymentStatus.FAILED and reason else None,
        subject="checkout_session",
        currency=currency,
        livemode=mode == "live" if mode in ("live", "test") else None,
    )


def change_key(observation: Observation) -> str:
    """What a webhook changed, as an event id: a repeat of the same news is a duplicate."""
    status = observation.status.value if observation.status else "none"
    return (
        f"mollie:{observation.session_id}:{status}:"
        f"r{observation.amount_refunded or 0}:c{observation.amount_charged_back or 0}"
    )
