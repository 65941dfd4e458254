"""The order status's rules (tablepay_domain/order_status.py), one case per rule."""

from __future__ import annotations

import pytest

from tablepay_domain.order import KitchenMode
from tablepay_domain.order_status import OrderFacts, OrderStatus, order_status
from tablepay_domain.payment_state import PaymentStatus as P

PAY_FIRST, ON_SEND = KitchenMode.AFTER_PAYMENT, KitchenMode.ON_SEND


@pytest.mark.parametrize(
    ("facts", "expected"),
    [
        (OrderFacts.of(PAY_FIRST, []), OrderStatus.AWAITING_PAYMENT),  # stored, no checkout yet
        (OrderFacts.of(PAY_FIRST, [P.OPEN]), OrderStatus.AWAITING_PAYMENT),
        (OrderFacts.of(PAY_FIRST, [P.FAILED]), OrderStatus.AWAITING_PAYMENT),  # a declined card: try again
        (OrderFacts.of(PAY_FIRST, [P.EXPIRED]), OrderStatus.EXPIRED),
        (OrderFacts.of(PAY_FIRST, [P.EXPIRED, P.CANCELLED]), OrderStatus.CANCELLED),  # the last one says
        (OrderFacts.of(PAY_FIRST, [P.EXPIRED, P.OPEN]), OrderStatus.AWAITING_PAYMENT),  # a new checkout
        (OrderFacts.of(PAY_FIRST, [P.EXPIRED], bill_open=True), OrderStatus.AWAITING_PAYMENT),  # guests paying shares
        (OrderFacts.of(PAY_FIRST, [P.PAID], paid=True), OrderStatus.PAID),
        (OrderFacts.of(PAY_FIRST, [P.PAID], paid=True, dishes_in_pos=True), OrderStatus.IN_KITCHEN),
        (OrderFacts.of(PAY_FIRST, [P.REFUNDED], paid=True, dishes_in_pos=True, closed_in_pos=True), OrderStatus.CLOSED),
        (OrderFacts.of(ON_SEND, [], dishes_in_pos=True), OrderStatus.IN_KITCHEN),  # sent before any payment
        (OrderFacts.of(ON_SEND, [P.CANCELLED], dishes_in_pos=True), OrderStatus.IN_KITCHEN),  # cooked: still owed
        (OrderFacts.of(ON_SEND, [P.EXPIRED]), OrderStatus.EXPIRED),  # never sent, never paid
    ],
)
def test_each_rule(facts: OrderFacts, expected: OrderStatus) -> None:
    assert order_status(facts) is expected


def test_only_expired_and_cancelled_ended_unpaid() -> None:
    assert {s for s in OrderStatus if s.ended_unpaid} == {OrderStatus.EXPIRED, OrderStatus.CANCELLED}
