"""Records (integer minor units) -> the JSON Mollie returns (amount strings, HAL links).

Every `_links` href is absolute on the sandbox's public base, except `documentation`,
which points at Mollie's own docs as Mollie's does.
"""

from __future__ import annotations

from typing import Any

from . import money
from .runtime import PROFILE_ID, Mollie, iso
from .store import Rec

HAL = "application/hal+json"
OPEN_STATES = ("open", "pending")
TIMESTAMPS = ("authorizedAt", "paidAt", "canceledAt", "expiredAt", "failedAt")
LIVE_REFUNDS = ("queued", "pending", "processing", "refunded")  # hold money back from a new refund


def link(rt: Mollie, path: str, type_: str = HAL) -> dict[str, str]:
    return {"href": rt.url(path), "type": type_}


def docs(page: str) -> dict[str, str]:
    return {"href": f"https://docs.mollie.com/reference/{page}", "type": "text/html"}


def refunded(rt: Mollie, payment: Rec, *, shown: bool) -> int:
    """What refunds take off the payment: `shown` follows `pending_refunds_count`; checks count all live ones."""
    counted = LIVE_REFUNDS if not shown or rt.options.pending_refunds_count else ("processing", "refunded")
    return sum(r["amount"] for r in rt.store.children("refund", payment["id"]) if r["status"] in counted)


def charged_back(rt: Mollie, payment: Rec) -> int:
    return sum(c["amount"] for c in rt.store.children("chargeback", payment["id"]))


def is_cancelable(rt: Mollie, payment: Rec) -> bool | None:
    """None once final (the field is then absent); authorized payments can still be voided."""
    if payment["status"] == "authorized":
        return True
    if payment["status"] not in OPEN_STATES:
        return None
    return rt.options.cancelable_while_open and payment.get("method") not in rt.options.uncancelable_methods


def payment(rt: Mollie, rec: Rec, embed: tuple[str, ...] = ()) -> dict[str, Any]:
    cur = rec["currency"]
    path = f"/v2/payments/{rec['id']}"
    body: dict[str, Any] = {
        "resource": "payment",
        "id": rec["id"],
        "mode": "test",
        "createdAt": iso(rec["created"]),
        "amount": money.amount(rec["amount"], cur),
        "description": rec["description"],
        "method": rec.get("method"),
        "metadata": rec.get("metadata"),
        "status": rec["status"],
    }
    cancelable = is_cancelable(rt, rec)
    if cancelable is not None:
        body["isCancelable"] = cancelable
    if rec["status"] in OPEN_STATES:
        body["expiresAt"] = iso(rec["expires"])
    for name in TIMESTAMPS:
        if name in rec["timestamps"]:
            body[name] = rec["timestamps"][name]
    body |= {"profileId": PROFILE_ID, "sequenceType": "oneoff", "redirectUrl": rec["redirect_url"]}
    for name, key in (("cancelUrl", "cancel_url"), ("webhookUrl", "webhook_url"), ("locale", "locale")):
        if rec.get(key) is not None:
            body[name] = rec[key]
    back = charged_back(rt, rec)
    if "paidAt" in rec["timestamps"]:
        done = refunded(rt, rec, shown=True)
        body["amountRefunded"] = money.amount(done, cur)
        body["amountRemaining"] = money.amount(max(rec["amount"] - done - back, 0), cur)
    if back:
        body["amountChargedBack"] = money.amount(back, cur)
    if rec.get("lines") is not None:
        body["lines"] = [line(item, cur) for item in rec["lines"]]
    if rec.get("routing") is not None:
        body["routing"] = [route(rt, r, rec["id"]) for r in rec["routing"]]
    if rec.get("details") is not None:
        body["details"] = rec["details"]
    links: dict[str, Any] = {"self": link(rt, path)}
    if rec["status"] in OPEN_STATES:
        links["checkout"] = link(rt, f"/mollie/checkout/{rec['id']}", "text/html")
    links["dashboard"] = link(rt, f"/mollie/dashboard/payments/{rec['id']}", "text/html")
    refunds = rt.store.children("refund", rec["id"])
    chargebacks = rt.store.children("chargeback", rec["id"])
    if refunds:
        links["refunds"] = link(rt, f"{path}/refunds")
    if chargebacks:
        links["chargebacks"] = link(rt, f"{path}/chargebacks")
    links["documentation"] = docs("get-payment")
    body["_links"] = links
    embedded: dict[str, Any] = {}
    if "refunds" in embed:
        embedded["refunds"] = [refund(rt, r) for r in refunds]
    if "chargebacks" in embed:
        embedded["chargebacks"] = [chargeback(rt, c) for c in chargebacks]
    if embedded:
        body["_embedded"] = embedded
    return body


def line(item: Rec, cur: str) -> dict[str, Any]:
    body: dict[str, Any] = {"type": item.get("type", "physical"), "description": item["description"]}
    body["quantity"] = item["quantity"]
    if item.get("quantityUnit") is not None:
        body["quantityUnit"] = item["quantityUnit"]
    body["unitPrice"] = money.amount(item["unitPrice"], cur)
    if item.get("discountAmount") is not None:
        body["discountAmount"] = money.amount(item["discountAmount"], cur)
    body["totalAmount"] = money.amount(item["totalAmount"], cur)
    if item.get("vatRate") is not None:
        body["vatRate"] = item["vatRate"]
    if item.get("vatAmount") is not None:
        body["vatAmount"] = money.amount(item["vatAmount"], cur)
    for name in ("sku", "categories", "imageUrl", "productUrl"):
        if item.get(name) is not None:
            body[name] = item[name]
    return body


def route(rt: Mollie, rec: Rec, payment_id: str) -> dict[str, Any]:
    """A route, upfront (`rt_`) or delayed (`crt_`). `amountReversed` is the sandbox's own field:
    Mollie's route has none, and the service must learn how much of a route was pulled back."""
    cur = rec["currency"]
    body: dict[str, Any] = {"resource": "route", "id": rec["id"]}
    if rec["id"].startswith("crt_"):
        body |= {"paymentId": payment_id, "description": rec.get("description") or ""}
    else:
        body["mode"] = "test"
    body |= {
        "amount": money.amount(rec["amount"], cur),
        "destination": {"type": "organization", "organizationId": rec["org"]},
        "createdAt": iso(rec["created"]),
        "amountReversed": money.amount(rec["reversed"], cur),
    }
    if not rec["id"].startswith("crt_"):
        body["releaseDate"] = rec.get("release_date")
    body["_links"] = {
        "self": link(rt, f"/v2/payments/{payment_id}/routes/{rec['id']}"),
        "payment": link(rt, f"/v2/payments/{payment_id}"),
        "documentation": docs("payment-create-route"),
    }
    return body


def refund(rt: Mollie, rec: Rec) -> dict[str, Any]:
    cur = rec["currency"]
    body: dict[str, Any] = {
        "resource": "refund",
        "id": rec["id"],
        "mode": "test",
        "description": rec["description"],
        "amount": money.amount(rec["amount"], cur),
        "settlementAmount": money.amount(-rec["amount"], cur),
        "metadata": rec.get("metadata"),
        "paymentId": rec["payment_id"],
        "status": rec["status"],
        "createdAt": iso(rec["created"]),
    }
    if rec.get("routing_reversals"):
        body["routingReversals"] = [
            {
                "amount": money.amount(r["amount"], cur),
                "source": {"type": "organization", "organizationId": r["org"]},
            }
            for r in rec["routing_reversals"]
        ]
    body["_links"] = {
        "self": link(rt, f"/v2/payments/{rec['payment_id']}/refunds/{rec['id']}"),
        "payment": link(rt, f"/v2/payments/{rec['payment_id']}"),
        "documentation": docs("get-refund"),
    }
    return body


def chargeback(rt: Mollie, rec: Rec) -> dict[str, Any]:
    cur = rec["currency"]
    return {
        "resource": "chargeback",
        "id": rec["id"],
        "amount": money.amount(rec["amount"], cur),
        "settlementAmount": money.amount(-rec["amount"], cur),
        "createdAt": iso(rec["created"]),
        "reason": None,
        "reversedAt": None,
        "paymentId": rec["payment_id"],
        "_links": {
            "self": link(rt, f"/v2/payments/{rec['payment_id']}/chargebacks/{rec['id']}"),
            "payment": link(rt, f"/v2/payments/{rec['payment_id']}"),
            "documentation": docs("get-chargeback"),
        },
    }


def listing(
    rt: Mollie, key: str, items: list[dict[str, Any]], path: str, limit: int, next_from: str | None,
    previous_from: str | None, page_doc: str,
) -> dict[str, Any]:  # fmt: skip
    def page(start: str) -> dict[str, str]:
        return link(rt, f"{path}?from={start}&limit={limit}")

    return {
        "count": len(items),
        "_embedded": {key: items},
        "_links": {
            "self": link(rt, f"{path}?limit={limit}"),
            "previous": page(previous_from) if previous_from else None,
            "next": page(next_from) if next_from else None,
            "documentation": docs(page_doc),
        },
    }
