"""SQL for the POS sync: our record of each order in the POS, its packages and its trail.

Shares the service's connection, so its writes join `Repository.transaction()`.
"""

from __future__ import annotations

import json
from typing import Any

from ..models import utc_now
from .repository import Repository

_ORDER_COLUMNS = ("order_id", "pos_guid", "status", "visit_id", "order_ident", "check_num", "last_error", "updated_at")
_PACKAGE_COLUMNS = ("order_id", "package", "line_guid", "lines", "created_at", "delivered_at")


class PosRepository:
    def __init__(self, repo: Repository) -> None:
        self.conn = repo.conn
        self.dialect = repo.dialect

    def order_identity(self, order_id: str) -> tuple[str, str]:
        """The kiosk and currency of an order we know."""
        kiosk_id, currency = self.conn.execute(
            "SELECT kiosk_id, currency FROM orders WHERE order_id = ?", (order_id,)
        ).fetchone()
        return kiosk_id, currency

    def table_and_waiter(self, order_id: str) -> tuple[str, str]:
        table, waiter = self.conn.execute(
            "SELECT table_label, waiter FROM orders WHERE order_id = ?", (order_id,)
        ).fetchone()
        return table, waiter

    def pos_order(self, order_id: str) -> dict[str, Any] | None:
        row = self.conn.execute(
            f"SELECT {', '.join(_ORDER_COLUMNS)} FROM pos_orders WHERE order_id = ?", (order_id,)
        ).fetchone()
        return dict(zip(_ORDER_COLUMNS, row, strict=True)) if row else None

    def add_pos_order(self, order_id: str, pos_guid: str, status: str) -> None:
        self.conn.execute(
            "INSERT INTO pos_orders (order_id, pos_guid, status, updated_at) VALUES (?, ?, ?, ?)",
            (order_id, pos_guid, status, utc_now()),
        )

    def update_pos_order(self, order_id: str, **changes: Any) -> None:
        assert changes and set(changes) <= set(_ORDER_COLUMNS[2:-1]), changes
        assignments = ", ".join(f"{name} = ?" for name in changes)
        self.conn.execute(
            f"UPDATE pos_orders SET {assignments}, updated_at = ? WHERE order_id = ?",
            (*changes.values(), utc_now(), order_id),
        )

    def statuses(self, order_ids: list[str]) -> dict[str, str]:
        """Order id -> POS status, for the orders that went to a POS."""
        cursor = self.conn.execute(
            f"SELECT order_id, status FROM pos_orders WHERE {self.dialect.in_list('order_id')}",
            (self.dialect.list_param(order_ids),),
        )
        return dict(cursor.fetchall())

    def packages(self, order_id: str) -> list[dict[str, Any]]:
        cursor = self.conn.execute(
            f"SELECT {', '.join(_PACKAGE_COLUMNS)} FROM pos_packages WHERE order_id = ? ORDER BY package", (order_id,)
        )
        rows = [dict(zip(_PACKAGE_COLUMNS, row, strict=True)) for row in cursor]
        for row in rows:
            row["lines"] = json.loads(row["lines"])
        return rows

    def add_package(self, order_id: str, package: int, line_guid: str, lines: list[dict[str, Any]]) -> None:
        self.conn.execute(
            "INSERT INTO pos_packages (order_id, package, line_guid, lines, created_at) VALUES (?, ?, ?, ?, ?)",
            (order_id, package, line_guid, json.dumps(lines), utc_now()),
        )

    def mark_delivered(self, order_id: str, package: int) -> None:
        self.conn.execute(
            "UPDATE pos_packages SET delivered_at = ? WHERE order_id = ? AND package = ? AND delivered_at IS NULL",
            (utc_now(), order_id, package),
        )

    def add_trail(self, order_id: str, step: str, detail: str) -> None:
        self.conn.execute(
            "INSERT INTO pos_trail (order_id, at, step, detail) VALUES (?, ?, ?, ?)",
            (order_id, utc_now(), step, detail),
        )

    def trail(self, order_id: str) -> list[dict[str, Any]]:
        cursor = self.conn.execute("SELECT at, step, detail FROM pos_trail WHERE order_id = ? ORDER BY id", (order_id,))
        return [{"at": at, "step": step, "detail": detail} for at, step, detail in cursor]
