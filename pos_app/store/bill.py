"""An order's split bill as the kiosk knows it (docs/split-bill.md): its status and amounts, written
from the feed's bill.* events and from the bill API's answers, always the latest one said.

Part of the store: plain SQL on the store's one connection, called inside its transactions.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import sqlite_utils

BILL_EVENTS = "bill."  # every bill.* event carries the bill's status and amounts in `bill`
SHARE_EVENTS = "bill.share_"  # a share's own change: its attempt, with the fields of a payment.* event
BILL_SETTLED = "bill.settled"  # nothing is left of the dishes: the order is paid


@dataclass(frozen=True)
class BillProgress:
    """Amounts in minor units of the order's currency; `remaining`: what nobody pays or holds yet."""

    status: str  # open, settled or stopped
    version: int
    total: int
    paid: int
    held: int
    remaining: int
    guests_paying: int

    @property
    def is_open(self) -> bool:
        return self.status == "open"

    @property
    def is_stopped(self) -> bool:
        return self.status == "stopped"


def is_share_event(name: str) -> bool:
    return name.startswith(SHARE_EVENTS)


def bill_of(row: Mapping[str, Any]) -> BillProgress | None:
    """The bill of an orders row (None: the order was never split)."""
    if row["bill_status"] is None:
        return None
    return BillProgress(
        row["bill_status"],
        row["bill_version"],
        row["bill_total"],
        row["bill_paid"],
        row["bill_held"],
        row["bill_remaining"],
        row["bill_guests_paying"],
    )


def save_bill(db: sqlite_utils.Database, order_id: str, bill: Mapping[str, Any], now: str) -> None:
    """The bill as `bill` says it (an event's `bill` object or the API's answer). The feed is in order,
    so the last event applied is the newest word; an int() that fails rolls the feed page back."""
    db.execute(
        "UPDATE orders SET bill_status = ?, bill_version = ?, bill_total = ?, bill_paid = ?, bill_held = ?, "
        "bill_remaining = ?, bill_guests_paying = ?, updated_at = ? WHERE order_id = ?",
        [
            str(bill["status"]),
            int(bill["version"]),
            int(bill["total"]),
            int(bill["paid"]),
            int(bill["held"]),
            int(bill["remaining"]),
            int(bill["guests_paying"]),
            now,
            order_id,
        ],
    )
