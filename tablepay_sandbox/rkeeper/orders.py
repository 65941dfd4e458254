"""Order documents: their sums, checksum and XML, as GetOrder and friends return them.

An order is a JSON-able dict (stored whole in SQLite). Lines live in sessions
("packages"); `uni` numbers are unique within the order across sessions,
dishes and payments. Money in hundredths, quantity in thousandths.
"""

from __future__ import annotations

import json
import zlib
from typing import Any

from .xmlio import Element, element, flag, sub

Doc = dict[str, Any]

SESSION_OPEN, SESSION_CLOSED = 1, 6  # line states [V]: 1 open, 6 closed


def dish_amount(dish: Doc) -> int:
    """price × quantity / 1000, rounded half up to the hundredth."""
    return (int(dish["price"]) * int(dish["quantity"]) + 500) // 1000


def order_sum(order: Doc) -> int:
    return sum(dish_amount(d) for s in order["sessions"] for d in s["dishes"])


def paid_sum(order: Doc) -> int:
    return sum(int(p["covered"]) for p in order["payments"])


def unpaid_sum(order: Doc) -> int:
    return order_sum(order) - paid_sum(order)


def crc32(order: Doc) -> int:
    """A checksum of the lines (dishes and payments), so a client can see that content changed. [I] unsigned."""
    content = [
        [
            [s["line_guid"], [[d["line_guid"], d["code"], d["quantity"], d["price"]] for d in s["dishes"]]]
            for s in order["sessions"]
        ],
        [[p["line_guid"], p["code"], p["amount"], p["tipAmount"]] for p in order["payments"]],
    ]
    return zlib.crc32(json.dumps(content, separators=(",", ":")).encode("utf-8"))


def next_uni(order: Doc) -> int:
    order["next_uni"] += 1
    return int(order["next_uni"])


def touch(order: Doc) -> None:
    order["version"] += 1


def order_element(order: Doc) -> Element:
    """`<Order visit orderIdent guid orderName version crc32 orderSum unpaidSum basicSum paid finished>`."""
    total = order_sum(order)
    el = element(
        "Order",
        visit=order["visit"],
        orderIdent=order["orderIdent"],
        guid=order["guid"],
        orderName=order["orderName"],
        version=order["version"],
        crc32=crc32(order),
        orderSum=total,
        unpaidSum=unpaid_sum(order),
        basicSum=total,
        paid=flag(order["paid"]),
        finished=flag(order["finished"]),
        persistentComment=order["persistentComment"] or None,
    )
    props = sub(el, "ExternalProps")
    for prop in order["props"]:
        sub(props, "Prop", name=prop["name"], value=prop["value"])
    sub(el, "Table", id=order["table"]["id"], code=order["table"]["code"], name=order["table"]["name"])
    for session in order["sessions"]:
        sess = sub(
            el,
            "Session",
            uni=session["uni"],
            sessionID=session["sessionID"],
            line_guid=session["line_guid"],
            state=session["state"],
        )
        for dish in session["dishes"]:
            sub(
                sess,
                "Dish",
                uni=dish["uni"],
                line_guid=dish["line_guid"],
                id=dish["id"],
                code=dish["code"],
                name=dish["name"],
                quantity=dish["quantity"],
                price=dish["price"],
                amount=dish_amount(dish),
            )
    for pay in order["payments"]:
        sub(
            el,
            "Payment",
            uni=pay["uni"],
            line_guid=pay["line_guid"],
            id=pay["id"],
            code=pay["code"],
            name=pay["name"],
            amount=pay["amount"],
            tipAmount=pay["tipAmount"],
            extTransactionInfo=pay["extTransactionInfo"],
        )
    return el


def list_order_element(order: Doc, locked: bool) -> Element:
    """One `<Order>` of GetOrderList; ExternalID carries the first ExternalProps value."""
    el = element(
        "Order",
        OrderID=order["orderIdent"],
        orderIdent=order["orderIdent"],
        guid=order["guid"],
        Version=order["version"],
        crc32=crc32(order),
        OrderName=order["orderName"],
        OrderSum=order_sum(order),
        ToPaySum=unpaid_sum(order),
        Finished=flag(order["finished"]),
        locked=flag(locked),
        TableID=order["table"]["id"],
        TableCode=order["table"]["code"],
        CreateTime=order["created"],
    )
    if order["props"]:
        sub(el, "ExternalID", ExtSource="ExternalProps", ExtID=order["props"][0]["value"])
    return el


def as_json(order: Doc, visit_finished: bool) -> Doc:
    """What `GET /_sandbox/rkeeper/orders` shows: everything a test needs to spot duplicates."""
    return {
        "visit": order["visit"],
        "orderIdent": order["orderIdent"],
        "guid": order["guid"],
        "table": order["table"]["code"],
        "version": order["version"],
        "paid": order["paid"],
        "finished": order["finished"],
        "visit_finished": visit_finished,
        "orderSum": order_sum(order),
        "unpaidSum": unpaid_sum(order),
        "props": {p["name"]: p["value"] for p in order["props"]},
        "sessions": [
            {
                "uni": s["uni"],
                "sessionID": s["sessionID"],
                "line_guid": s["line_guid"],
                "dishes": [{**d, "amount": dish_amount(d)} for d in s["dishes"]],
            }
            for s in order["sessions"]
        ],
        "payments": order["payments"],
        "check": order["check"],
    }
