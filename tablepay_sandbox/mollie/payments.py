"""Payments: create, the status transitions (the page, the controls, cancel and the clock
all go through `transition`), and expiry at `expiresAt`.
"""

from __future__ import annotations

import time
from typing import Any

from ..objects import new_id
from . import routing, validate
from .errors import MollieError, not_found, unprocessable
from .runtime import Mollie, iso
from .store import Rec
from .views import is_cancelable

FINAL = ("paid", "canceled", "expired", "failed")
NOTIFIED = ("paid", "authorized", "canceled", "expired", "failed")  # open/pending call no webhook
_NEXT = {
    "open": ("pending", "authorized", "paid", "canceled", "expired", "failed"),
    "pending": ("authorized", "paid", "canceled", "expired", "failed"),
    "authorized": ("paid", "canceled", "expired", "failed"),
}
_STAMP = {
    "authorized": "authorizedAt",
    "paid": "paidAt",
    "canceled": "canceledAt",
    "expired": "expiredAt",
    "failed": "failedAt",
}
# Card failures carry a reason (Mollie's details.failureReason values); other methods carry none.
CARD_FAILURE = ("card_declined", "The card was declined by the issuer.")


def create(rt: Mollie, body: dict[str, Any]) -> Rec:
    fields = validate.payment_request(body)
    now = time.time()
    routes = None
    if body.get("routing") is not None:
        routes = routing.upfront(rt, body["routing"], fields["amount"], fields["currency"], now)
    method = fields["method"]
    lifetime = rt.options.method_expiry_seconds.get(method or "", rt.options.default_expiry_seconds)
    rec = {
        **fields,
        "id": new_id("tr_", 10),
        "created": now,
        "status": "open",
        "expires": now + lifetime,
        "timestamps": {},
        "details": None,
        "routing": routes,
    }
    return rt.store.insert("payment", rec)


def get(rt: Mollie, payment_id: str) -> Rec:
    rec = rt.store.get("payment", payment_id)
    if rec is None:
        raise not_found("payment", payment_id)
    return rec


def transition(rt: Mollie, rec: Rec, status: str, failure_reason: str | None = None, *, force: bool = False) -> Rec:
    """Move a payment on, stamp the time, and call its webhook where Mollie would.

    `force` (test controls only) allows a move out of a final status: a bank transfer that arrives after
    the payment expired is reported paid by Mollie, and the service must take it."""
    if status == rec["status"]:
        return rec
    if not force and status not in _NEXT.get(rec["status"], ()):
        raise unprocessable(f"The payment has status '{rec['status']}' and cannot become '{status}'.", "status")
    rec["status"] = status
    if status in _STAMP:
        rec["timestamps"][_STAMP[status]] = iso(time.time())
    if status == "failed" and rec.get("method") == "creditcard":
        reason, message = (failure_reason, None) if failure_reason else CARD_FAILURE
        rec["details"] = {**(rec.get("details") or {}), "failureReason": reason}
        if message:
            rec["details"]["failureMessage"] = message
    rt.store.save(rec)
    if status in NOTIFIED:
        rt.call_webhook(rec, f"payment.{status}")
    return rec


def cancel(rt: Mollie, rec: Rec) -> Rec:
    if not is_cancelable(rt, rec):
        raise MollieError(422, "The payment cannot be cancelled")
    return transition(rt, rec, "canceled")


def expire_overdue(rt: Mollie) -> int:
    """The clock: open payments past `expiresAt` expire (run by the webhook worker's loop)."""
    due = rt.store.all_of(
        "payment",
        "json_extract(data, '$.status') IN ('open', 'pending') AND json_extract(data, '$.expires') <= ?",
        [time.time()],
    )
    for rec in due:
        transition(rt, rec, "expired")
    return len(due)
