"""A partner order's state changes, as webhooks queued in the transaction that made them.

PaymentEvents calls `follow` for every change it writes, inside its transaction: a change of a
partner's order queues one outbox row of PARTNER_TOPIC whose payload holds the webhook's body as
the exact text that will be sent (frozen now: every retry sends the same bytes) and its event id
(the `webhook-id` of every attempt). Delivery is services/partner_webhooks.py's.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

from tablepay_domain.payment_state import PaymentStatus

from ..models import PaymentRecord
from ..storage.feed_rows import PARTNER_PREFIX
from ..storage.partner_rows import PARTNER_TOPIC
from ..storage.repository import Repository
from .order_status import order_status
from .outbox import WorkSignal
from .transitions import Change

S = PaymentStatus
# The webhook's event for a payment's new status; a status not here sends nothing (open, pending,
# authorised: the guest is still paying). A checkout stopped by the restaurant ends like one that ran
# out of time, for a partner: the order was not paid and this checkout cannot be paid any more.
PARTNER_EVENT: dict[PaymentStatus, str] = {
    S.PAID: "payment.succeeded",
    S.FAILED: "payment.failed",
    S.EXPIRED: "payment.expired",
    S.CANCELLED: "payment.expired",
    S.PARTIALLY_REFUNDED: "payment.refunded",
    S.REFUNDED: "payment.refunded",
}
# The order's status read from its payment alone: only for an order without a stored status
# (services/order_status.py keeps it: awaiting_payment, paid, in_kitchen, closed, expired, cancelled).
ORDER_STATUS: dict[PaymentStatus, str] = {
    S.OPEN: "awaiting_payment",
    S.PENDING: "awaiting_payment",
    S.AUTHORIZED: "awaiting_payment",
    S.PAID: "paid",
    S.PARTIALLY_REFUNDED: "paid",
    S.REFUNDED: "refunded",
    S.FAILED: "failed",
    S.EXPIRED: "expired",
    S.CANCELLED: "cancelled",
}


def provider_reference(payment: PaymentRecord) -> str | None:
    """The provider's reference of the payment: Stripe's payment intent (else its session), Mollie's tr_."""
    return payment.provider_payment_intent or payment.provider_session_id


def webhook_body(
    event_id: str, event: str, external_order_id: str, payment: PaymentRecord, occurred_at: str, order_status: str
) -> str:
    """The body's text, compact JSON, as sent (its bytes are what is signed)."""
    return json.dumps(
        {
            "type": event,
            "timestamp": occurred_at,
            "data": {
                "event_id": event_id,
                "event": event,
                "external_order_id": external_order_id,
                "payment_intent_id": provider_reference(payment),
                "paid_at": payment.paid_at,
                "amount_total": payment.amount_total,
                "amount_refunded": payment.amount_refunded,
                "currency": payment.currency,
                "order_status": order_status,
            },
        },
        separators=(",", ":"),
    )


class PartnerEvents:
    """What PaymentEvents tells of each change it writes (`follow`, inside its transaction)."""

    def __init__(self, repo: Repository, work: WorkSignal) -> None:
        """`work`: the partner worker's signal, told when a row was queued (it runs only after this
        synchronous transaction commits, on the same loop, so it finds the row)."""
        self._repo = repo
        self._work = work

    def follow(self, change: Change) -> bool:
        """Queue the webhook of a partner order's change; True when a row was queued."""
        after = change.after
        event = PARTNER_EVENT.get(after.status)
        if not change.moved or event is None or not after.kiosk_id.startswith(PARTNER_PREFIX):
            return False
        if change.before.status is after.status and after.amount_refunded == change.before.amount_refunded:
            return False  # a chargeback noted, nothing a partner's order status says
        order = self._repo.partner_order_of(after.order_id)
        if order is None:
            return False
        event_id = f"evt_{uuid.uuid4().hex}"
        occurred = datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
        # The order's status as stored by this transaction (services/order_status.py); the payment's
        # reading of it for an order the service has no status for yet.
        status = order_status(self._repo, after.order_id) or ORDER_STATUS[after.status]
        body = webhook_body(event_id, event, order.external_order_id, after, occurred, status)
        queued = self._repo.enqueue(
            PARTNER_TOPIC,
            event_id,
            after.payment_id,
            {"partner": order.partner, "type": event, "order_id": after.order_id, "body": body},
        )
        if queued:
            self._work.notify()
        return queued
