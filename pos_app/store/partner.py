"""A partner's order (a QR menu app, a delivery platform; docs/partners.md) as the kiosk knows it.

The service puts every partner order's events in every kiosk's feed, each with the partner's name and
the order's table (or "pickup …"): the first one the kiosk applies records the order, which it has never
seen, so the orders list and the history show it under the partner's name. Its guest pays on the
partner's checkout: the kiosk never edits it or opens a checkout of it (`orders.partner` set).

Part of the store: plain SQL on the store's one connection, called inside its transactions.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import sqlite_utils


def record_partner_order(db: sqlite_utils.Database, event: Mapping[str, Any], now: str) -> None:
    """Record the order of a partner's feed event, unless it is known already (a repeat changes nothing).
    Its amounts are its attempt's, which the event itself records next; its waiter is the partner, as
    on the service."""
    partner, table = event.get("partner"), event.get("table")
    if not isinstance(partner, str) or not partner:
        return
    db.execute(
        "INSERT OR IGNORE INTO orders (order_id, table_label, waiter, currency, created_at, updated_at, partner) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        [event["order_id"], str(table or ""), partner, event["currency"], event.get("created_at") or now, now, partner],
    )
