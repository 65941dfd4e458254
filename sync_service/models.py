"""Records the service keeps. Plain data; the rules live in tablepay_domain."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import UTC, datetime

from tablepay_domain.order import KitchenMode, Line, Order
from tablepay_domain.payment_state import PaymentStatus


def utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def snapshot_json(order: Order) -> str:
    """The order as stored: canonical JSON, so equal orders hash alike. An order that does not choose its
    kitchen has no `kitchen` key, so its snapshot (and an Idempotency-Key's hash) is what it always was."""
    values = asdict(order)
    if order.kitchen is None:
        del values["kitchen"]
    return json.dumps(values, sort_keys=True, separators=(",", ":"))


def order_from_snapshot(snapshot: str) -> Order:
    """An order (or what an attempt charged) as `snapshot_json` stored it."""
    values = json.loads(snapshot)
    kitchen = values.pop("kitchen", None)
    lines = tuple(Line(**line) for line in values.pop("lines"))
    return Order(**values, lines=lines, kitchen=KitchenMode(kitchen) if kitchen else None)


@dataclass(frozen=True)
class PaymentRecord:
    """One payment attempt for an order."""

    payment_id: str
    order_id: str
    attempt: int
    kiosk_id: str
    status: PaymentStatus
    currency: str
    dish_subtotal: int
    tip_amount: int
    donation_amount: int
    amount_total: int
    amount_refunded: int
    snapshot: str
    provider: str
    provider_session_id: str | None
    provider_payment_intent: str | None
    provider_charge: str | None
    checkout_url: str | None
    expires_at: int | None
    idempotency_key: str | None
    failure_reason: str | None
    created_at: str
    updated_at: str
    paid_at: str | None
    # Set when a person must act, e.g. "double_payment: ..." when the order was already paid by another attempt.
    attention: str | None = None
    amount_charged_back: int = 0  # taken back by the guest's bank after the payment (a chargeback)
    # A share of a split bill (docs/split-bill.md): its bill, what it pays (JSON, services/bill_ledger.py),
    # until when its part is held (epoch seconds; 0 once released), and whether it was left out of the
    # bill because it was paid after its part had gone to others (flagged for a refund).
    bill_id: str | None = None
    share: str | None = None
    hold_until: float | None = None
    share_excluded: bool = False

    def public(self) -> dict[str, object]:
        """What a kiosk may see of this attempt."""
        return {
            "payment_id": self.payment_id,
            "order_id": self.order_id,
            "attempt": self.attempt,
            "status": self.status.value,
            "currency": self.currency,
            "checkout_url": self.checkout_url,
            "expires_at": self.expires_at,
            "amount_total": self.amount_total,
            "dish_subtotal": self.dish_subtotal,
            "tip_amount": self.tip_amount,
            "donation_amount": self.donation_amount,
            "amount_refunded": self.amount_refunded,
            "paid_at": self.paid_at,
            "failure_reason": self.failure_reason,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
            "attention": self.attention,
            "amount_charged_back": self.amount_charged_back,
            "bill_id": self.bill_id,
        }


@dataclass(frozen=True)
class BillRecord:
    """An order opened for splitting between guests; its shares are payment attempts with its bill_id."""

    bill_id: str
    order_id: str
    kiosk_id: str
    token: str
    currency: str
    lines: str  # JSON [{sku, name, quantity, unit_amount}] at `version`
    version: int
    split_ways: int | None
    status: str  # open | settled | stopped
    created_at: str
    updated_at: str
    closed_at: float | None = None
    tip_presets: str = "[10,15,20]"  # JSON: the opening kiosk's tip percentages, offered to the guests
