"""A fetched Mollie payment is hostile until checked: what it says about our attempt, and what is refused.

The payment below follows the shape of Mollie's documented payment object (docs.mollie.com, "Get
payment"), written out here rather than taken from the sandbox, so the two cannot share a mistake.
"""

from __future__ import annotations

from typing import Any

import pytest

from sync_service.providers.base import MalformedObject
from sync_service.providers.mollie_objects import change_key, observation_from_payment
from tablepay_domain.payment_state import PaymentStatus

PAID: dict[str, Any] = {
    "resource": "payment",
    "id": "tr_5B8cwPMGnU",
    "mode": "test",
    "status": "paid",
    "amount": {"currency": "EUR", "value": "30.80"},
    "amountRefunded": {"currency": "EUR", "value": "0.00"},
    "amountRemaining": {"currency": "EUR", "value": "30.80"},
    "description": "Table 12",
    "metadata": {"order_id": "ord-1", "payment_id": "pay_1", "attempt": 1},
    "paidAt": "2026-12-01T12:00:00+00:00",
    "_links": {"self": {"href": "https://api.mollie.com/v2/payments/tr_5B8cwPMGnU", "type": "application/hal+json"}},
}


def refund(value: str, status: str) -> dict[str, Any]:
    return {"resource": "refund", "id": f"re_{status}", "status": status, "amount": {"currency": "EUR", "value": value}}


def test_a_paid_payment_is_the_attempts_checkout_and_payment() -> None:
    seen = observation_from_payment(PAID)
    assert (seen.status, seen.session_id, seen.payment_intent, seen.payment_id) == (
        PaymentStatus.PAID,
        "tr_5B8cwPMGnU",
        "tr_5B8cwPMGnU",
        "pay_1",
    )
    assert (seen.amount_total, seen.currency, seen.livemode, seen.subject) == (3080, "EUR", False, "checkout_session")
    assert seen.amount_refunded is None and seen.amount_charged_back is None


def test_only_refunds_that_moved_money_count() -> None:
    refunds = [
        refund("5.00", "refunded"),
        refund("2.00", "processing"),
        refund("3.00", "pending"),
        refund("4.00", "failed"),
    ]
    seen = observation_from_payment({**PAID, "_embedded": {"refunds": refunds}})
    assert seen.amount_refunded == 700
    assert change_key(seen) == "mollie:tr_5B8cwPMGnU:paid:r700:c0"


def test_a_chargeback_is_read_from_the_payment() -> None:
    seen = observation_from_payment({**PAID, "amountChargedBack": {"currency": "EUR", "value": "30.80"}})
    assert seen.amount_charged_back == 3080 and change_key(seen).endswith(":c3080")


@pytest.mark.parametrize(
    "change",
    [
        {"id": "cs_test_123"},  # not a Mollie payment id
        {"id": "tr_x'; DROP TABLE payments;--"},
        {"amount": {"currency": "EUR", "value": 30.8}},  # a number, not Mollie's string
        {"amount": {"currency": "EUR", "value": "30.8"}},  # the wrong decimals
        {"amount": {"currency": "eur", "value": "30.80"}},
        {"amount": {"currency": "EUR", "value": "1" + "0" * 20 + ".00"}},  # beyond any amount of ours
        {"amountRefunded": {"currency": "USD", "value": "1.00"}},  # another currency than the payment's
        {"amountRefunded": {"currency": "EUR", "value": "40.00"}},  # more than was paid
        {"amountChargedBack": {"currency": "EUR", "value": "99.00"}},
        {"amount": None},
    ],
)
def test_a_field_we_cannot_compute_with_is_refused(change: dict[str, Any]) -> None:
    with pytest.raises(MalformedObject):
        observation_from_payment({**PAID, **change})


def test_the_mode_is_the_payments_and_unknown_statuses_move_nothing() -> None:
    assert observation_from_payment({**PAID, "mode": "live"}).livemode is True
    assert observation_from_payment({**PAID, "status": "something_new"}).status is None
    failed = observation_from_payment({**PAID, "status": "failed", "details": {"failureReason": "insufficient_funds"}})
    assert (failed.status, failed.failure_reason) == (PaymentStatus.FAILED, "insufficient_funds")
