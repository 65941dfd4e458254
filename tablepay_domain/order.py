"""An order as the kiosk sends it: dish lines, tip and donation, in minor units.

The total is always computed here, never taken from the client.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from .money import Money, UnknownCurrency, charge_step, normalize_currency


class InvalidOrder(ValueError):
    """The order cannot be charged; the message is written for a waiter."""


class KitchenMode(str, Enum):
    """When the restaurant's POS (and so its kitchen) hears of an order."""

    ON_SEND = "on_send"  # when the waiter sends the dishes, or a checkout opens
    AFTER_PAYMENT = "after_payment"  # pay first: only once the order is paid


@dataclass(frozen=True)
class Line:
    sku: str
    name: str
    quantity: int
    unit_amount: int

    @property
    def amount(self) -> int:
        return self.quantity * self.unit_amount


@dataclass(frozen=True)
class Order:
    order_id: str
    kiosk_id: str
    currency: str
    table: str
    waiter: str
    lines: tuple[Line, ...]
    tip_amount: int = 0
    donation_amount: int = 0
    note: str = ""
    # None: the service's TABLEPAY_KITCHEN. Fixed when the service first stores the order.
    kitchen: KitchenMode | None = None

    @property
    def dish_subtotal(self) -> int:
        return sum(line.amount for line in self.lines)

    @property
    def amount_total(self) -> int:
        return self.dish_subtotal + self.tip_amount + self.donation_amount

    @property
    def revenue(self) -> Money:
        """What the restaurant earns: dishes only (tips go to staff, donations to the partner)."""
        return Money(self.dish_subtotal, self.currency)

    def total(self) -> Money:
        return Money(self.amount_total, self.currency)


@dataclass(frozen=True)
class Limits:
    """Sanity limits the restaurant configures; amounts in minor units."""

    max_total: int = 1_000_000
    max_lines: int = 200
    max_quantity: int = 999


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def validate_order(order: Order, limits: Limits = Limits()) -> Order:
    """Return the order with its currency normalised, or raise InvalidOrder naming every problem."""
    problems: list[str] = []
    try:
        currency = normalize_currency(order.currency)
    except UnknownCurrency as exc:
        problems.append(str(exc))
        currency = order.currency
    if not order.order_id.strip():
        problems.append("order_id is empty")
    if not order.lines:
        problems.append("the order has no dishes")
    if len(order.lines) > limits.max_lines:
        problems.append(f"the order has {len(order.lines)} lines; at most {limits.max_lines} are allowed")
    for number, line in enumerate(order.lines, start=1):
        label = f"line {number} ({line.name or line.sku})"
        if not _is_int(line.quantity) or line.quantity <= 0:
            problems.append(f"{label}: quantity must be at least 1, got {line.quantity}")
        elif line.quantity > limits.max_quantity:
            problems.append(f"{label}: quantity {line.quantity} is over the limit of {limits.max_quantity}")
        if not _is_int(line.unit_amount) or line.unit_amount < 0:
            problems.append(f"{label}: price must not be negative, got {line.unit_amount}")
        if not line.sku.strip():
            problems.append(f"{label}: sku is empty")
    if not _is_int(order.tip_amount) or order.tip_amount < 0:
        problems.append(f"tip must not be negative, got {order.tip_amount}")
    if not _is_int(order.donation_amount) or order.donation_amount < 0:
        problems.append(f"donation must not be negative, got {order.donation_amount}")
    if not problems and (step := charge_step(currency)) > 1:
        amounts = [
            (f"line {n} ({line.name or line.sku}) price", line.unit_amount)
            for n, line in enumerate(order.lines, start=1)
        ]
        for label, amount in [*amounts, ("tip", order.tip_amount), ("donation", order.donation_amount)]:
            if amount % step:
                problems.append(
                    f"{label} {Money(amount, currency)} is not a multiple of "
                    f"{Money(step, currency)}, the smallest amount a card can pay in {currency}"
                )
    if not problems:
        total = order.amount_total
        if total <= 0:
            problems.append("the total is zero: there is nothing to pay")
        elif total > limits.max_total:
            ceiling = Money(limits.max_total, currency)
            problems.append(f"the total {Money(total, currency)} is over the ceiling of {ceiling}")
    if problems:
        raise InvalidOrder("; ".join(problems))
    return Order(
        order_id=order.order_id,
        kiosk_id=order.kiosk_id,
        currency=currency,
        table=order.table,
        waiter=order.waiter,
        lines=order.lines,
        tip_amount=order.tip_amount,
        donation_amount=order.donation_amount,
        note=order.note,
        kitchen=order.kitchen,
    )
