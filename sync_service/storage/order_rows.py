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

    def pos_progress(self, order_id: str) -> tuple[bool, bool]:
        """(a package of its dishes is in the POS, it is paid and closed in the POS)."""
        delivered = self.conn.execute(
            "SELECT 1 FROM pos_packages WHERE order_id = ? AND delivered_at IS NOT NULL LIMIT 1", (order_id,)
        ).fetchone()
        closed = self.conn.execute(
            "SELECT 1 FROM pos_orders WHERE order_id = ? AND status = 'paid'", (order_id,)
        ).fetchone()
        return delivered is not None, closed is not None
