"""SQL of an order's own columns: its kitchen mode and its status (tablepay_domain/order_status.py).

Part of Repository (a mixin over its one connection), like feed_rows.py.
"""

from __future__ import annotations

from dataclasses import dataclass

from tablepay_domain.order import Order

from ..models import utc_now
from .engine import Connection, Dialect


@dataclass(frozen=True)
class StoredOrder:
    order_id: str
    kiosk_id: str
    currency: str
    kitchen: str  # on_send | after_payment
    order_status: str
    snapshot: str


@dataclass(frozen=True)
class OrderFactsRow:
    kiosk_id: str
    currency: str
    kitchen: str
    order_status: str  # as stored now
    last_attempt: str | None  # the newest attempt's status
    live: bool  # an attempt is open, pending or authorized
    paid: bool  # an attempt of the whole order took money
    bill_status: str | None  # its split bill's: open, settled, stopped
    dishes_in_pos: bool
    closed_in_pos: bool


class OrderRows:
    conn: Connection
    dialect: Dialect

    def upsert_order(self, order: Order, snapshot: str, kitchen: str) -> None:
        """Store the order as the kiosk sent it now. `kitchen` (on_send | after_payment) is kept from the
        order's first store: whether the POS has heard of an order cannot change afterwards."""
        now = utc_now()
        self.conn.execute(
            "INSERT INTO orders (order_id, kiosk_id, currency, table_label, waiter, snapshot, created_at, "
            "updated_at, kitchen) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(order_id) DO UPDATE SET "
            "currency = excluded.currency, table_label = excluded.table_label, waiter = excluded.waiter, "
            "snapshot = excluded.snapshot, updated_at = excluded.updated_at",
            (order.order_id, order.kiosk_id, order.currency, order.table, order.waiter, snapshot, now, now, kitchen),
        )

    def stored_order(self, order_id: str) -> StoredOrder | None:
        row = self.conn.execute(
            "SELECT order_id, kiosk_id, currency, kitchen, order_status, snapshot FROM orders WHERE order_id = ?",
            (order_id,),
        ).fetchone()
        return StoredOrder(*row) if row else None

    def set_order_status(self, order_id: str, order_status: str) -> None:
        self.conn.execute(
            "UPDATE orders SET order_status = ?, updated_at = ? WHERE order_id = ?", (order_status, utc_now(), order_id)
        )

    def order_statuses(self, order_ids: list[str]) -> dict[str, str]:
        """Order id -> its status, for the orders we know."""
        if not order_ids:
            return {}
        cursor = self.conn.execute(
            f"SELECT order_id, order_status FROM orders WHERE {self.dialect.in_list('order_id')}",
            (self.dialect.list_param(order_ids),),
        )
        return dict(cursor.fetchall())

    # One statement: it runs after every payment change, inside the webhook's transaction.
    _FACTS_SQL = (
        "SELECT o.kiosk_id, o.currency, o.kitchen, o.order_status, "
        "(SELECT p.status FROM payments p WHERE p.order_id = o.order_id ORDER BY p.attempt DESC LIMIT 1), "
        "EXISTS (SELECT 1 FROM payments p WHERE p.order_id = o.order_id "
        "AND p.status IN ('open', 'pending', 'authorized')), "
        "EXISTS (SELECT 1 FROM payments p WHERE p.order_id = o.order_id AND p.bill_id IS NULL "
        "AND p.status IN ('paid', 'partially_refunded', 'refunded')), "
        "(SELECT b.status FROM bills b WHERE b.order_id = o.order_id), "
        "EXISTS (SELECT 1 FROM pos_packages k WHERE k.order_id = o.order_id AND k.delivered_at IS NOT NULL), "
        "EXISTS (SELECT 1 FROM pos_orders x WHERE x.order_id = o.order_id AND x.status = 'paid') "
        "FROM orders o WHERE o.order_id = ?"
    )

    def order_facts(self, order_id: str) -> OrderFactsRow | None:
        """What the order's status is worked out from (tablepay_domain/order_status.py), with its stored one."""
        row = self.conn.execute(self._FACTS_SQL, (order_id,)).fetchone()
        if row is None:
            return None
        kiosk_id, currency, kitchen, status, last, live, paid, bill, in_pos, closed = row
        return OrderFactsRow(
            kiosk_id, currency, kitchen, status, last, bool(live), bool(paid), bill, bool(in_pos), bool(closed)
        )
