"""Refunds (create, status changes, cancel) and chargebacks on paid payments.

A refund starts `pending` and holds its amount at once; a test control moves it on
(processing -> refunded | failed), and the payment's webhook is called for those three.
"""

from __future__ import annotations

import time
from typing import Any

from ..objects import new_id
from . import money, routing
from .errors import MollieError, not_found, unprocessable
from .runtime import Mollie
from .store import Rec
from .views import LIVE_REFUNDS, charged_back, refunded

DUPLICATE_WINDOW = 3600.0  # the same amount again within an hour is taken for a duplicate
NOTIFIED = ("processing", "refunded", "failed")
_NEXT = {
    "queued": ("pending", "processing", "refunded", "failed", "canceled"),
    "pending": ("processing", "refunded", "failed", "canceled"),
    "processing": ("refunded", "failed"),
}


def remaining(rt: Mollie, payment: Rec) -> int:
    """What may still be refunded: every live refund and chargeback counts, whatever is shown."""
    return payment["amount"] - refunded(rt, payment, shown=False) - charged_back(rt, payment)


def create(rt: Mollie, payment: Rec, body: dict[str, Any]) -> Rec:
    if payment["status"] != "paid":
        raise unprocessable(f"The payment cannot be refunded: its status is '{payment['status']}'.")
    minor, cur = money.parse(body.get("amount"), "amount")
    if cur != payment["currency"]:
        raise unprocessable(f"The refund's currency must be the payment's ({payment['currency']}).", "amount.currency")
    left = remaining(rt, payment)
    if minor > left:
        raise unprocessable(
            f"The amount is higher than the amount that can be refunded ({money.format_value(left, cur)}).", "amount"
        )
    description = body.get("description", "")
    if not isinstance(description, str) or len(description) > 255:
        raise unprocessable("The description must be a string of at most 255 characters.", "description")
    now = time.time()
    for earlier in rt.store.children("refund", payment["id"]):
        if (
            earlier["status"] in LIVE_REFUNDS
            and earlier["amount"] == minor
            and now - earlier["created"] < DUPLICATE_WINDOW
        ):
            raise MollieError(409, "A duplicate refund has been detected")
    allocations = routing.reversals(rt, payment, minor, body)
    rec = {
        "id": new_id("re_", 10),
        "payment_id": payment["id"],
        "amount": minor,
        "currency": cur,
        "description": description,
        "metadata": body.get("metadata"),
        "status": "pending",
        "created": now,
        "allocations": allocations,
        "routing_reversals": _by_org(allocations) if body.get("routingReversals") is not None else None,
    }
    rt.store.insert("refund", rec)
    routing.apply(rt, payment, allocations, 1)
    return rec


def _by_org(allocations: list[dict[str, Any]]) -> list[dict[str, Any]]:
    totals: dict[str, int] = {}
    for a in allocations:
        totals[a["org"]] = totals.get(a["org"], 0) + a["amount"]
    return [{"org": org, "amount": amount} for org, amount in totals.items()]


def get(rt: Mollie, payment: Rec, refund_id: str) -> Rec:
    rec = rt.store.get("refund", refund_id)
    if rec is None or rec["payment_id"] != payment["id"]:
        raise not_found("refund", refund_id)
    return rec


def transition(rt: Mollie, rec: Rec, status: str) -> Rec:
    if status == rec["status"]:
        return rec
    if status not in _NEXT.get(rec["status"], ()):
        raise unprocessable(f"The refund has status '{rec['status']}' and cannot become '{status}'.", "status")
    rec["status"] = status
    rt.store.save(rec)
    payment = rt.store.get("payment", rec["payment_id"])
    assert payment is not None
    if status in ("canceled", "failed"):  # the money stays with (or returns to) the payment
        routing.apply(rt, payment, rec["allocations"], -1)
    if status in NOTIFIED:
        rt.call_webhook(payment, f"refund.{status}")
    return rec


def cancel(rt: Mollie, rec: Rec) -> None:
    if rec["status"] not in ("queued", "pending"):
        raise unprocessable(f"The refund cannot be canceled: its status is '{rec['status']}'.")
    transition(rt, rec, "canceled")


def open_chargeback(rt: Mollie, payment: Rec, body: dict[str, Any]) -> Rec:
    """A test control: the guest's bank takes money back (all of what is left, unless `amount` says)."""
    if "paidAt" not in payment["timestamps"]:
        raise unprocessable("Only a paid payment can be charged back.")
    left = payment["amount"] - charged_back(rt, payment)
    minor = left
    if body.get("amount") is not None:
        minor, cur = money.parse(body["amount"], "amount")
        if cur != payment["currency"]:
            raise unprocessable("The chargeback's currency must be the payment's.", "amount.currency")
    if not 0 < minor <= left:
        raise unprocessable("The chargeback is more than is left of the payment.", "amount")
    rec = {"id": new_id("chb_", 10), "payment_id": payment["id"], "amount": minor, "currency": payment["currency"],
           "created": time.time()}  # fmt: skip
    rt.store.insert("chargeback", rec)
    rt.call_webhook(payment, "chargeback")
    return rec


def get_chargeback(rt: Mollie, payment: Rec, chargeback_id: str) -> Rec:
    rec = rt.store.get("chargeback", chargeback_id)
    if rec is None or rec["payment_id"] != payment["id"]:
        raise not_found("chargeback", chargeback_id)
    return rec
