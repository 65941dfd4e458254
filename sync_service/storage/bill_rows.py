"""Split bills' rows: the bill itself; its shares are payment rows with its bill_id.

Part of Repository (a mixin over its one connection), like feed_rows.py. Callers lock the bill's
order (Repository.lock_order) before deciding anything about its shares.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import fields
from typing import Any

from ..models import BillRecord, PaymentRecord, utc_now
from .engine import Connection, Dialect

_BILL_COLUMNS = [f.name for f in fields(BillRecord)]
# Only an open checkout's hold lapses: a pending or authorised one is paid and being confirmed by the bank.
_OPEN = "status = 'open'"


def _bill(row: tuple[Any, ...] | None) -> BillRecord | None:
    return None if row is None else BillRecord(**dict(zip(_BILL_COLUMNS, row, strict=True)))


class BillRows:
    conn: Connection
    dialect: Dialect
    _payments_where: Callable[..., list[PaymentRecord]]  # Repository's

    def insert_bill(self, bill: BillRecord) -> None:
        self.conn.execute(
            f"INSERT INTO bills ({', '.join(_BILL_COLUMNS)}) VALUES ({', '.join('?' * len(_BILL_COLUMNS))})",
            tuple(getattr(bill, name) for name in _BILL_COLUMNS),
        )

    def _one_bill(self, column: str, value: str) -> BillRecord | None:
        row = self.conn.execute(f"SELECT {', '.join(_BILL_COLUMNS)} FROM bills WHERE {column} = ?", (value,))
        return _bill(row.fetchone())

    def bill_for_order(self, order_id: str) -> BillRecord | None:
        return self._one_bill("order_id", order_id)

    def bill_by_token(self, token: str) -> BillRecord | None:
        return self._one_bill("token", token)

    def bill(self, bill_id: str) -> BillRecord | None:
        return self._one_bill("bill_id", bill_id)

    def update_bill(self, bill_id: str, **changes: Any) -> None:
        changes.setdefault("updated_at", utc_now())
        assignments = ", ".join(f"{name} = ?" for name in changes)
        self.conn.execute(f"UPDATE bills SET {assignments} WHERE bill_id = ?", (*changes.values(), bill_id))

    def bill_shares(self, bill_id: str) -> list[PaymentRecord]:
        """Every share of the bill (attempts with its bill_id), oldest first."""
        return self._payments_where("bill_id = ? ORDER BY attempt", (bill_id,))

    def release_holds(self, bill_id: str, now: float) -> int:
        """End the holds of the bill's live shares now (their checkouts are then stopped by the hold job)."""
        cursor = self.conn.execute(
            f"UPDATE payments SET hold_until = ? WHERE bill_id = ? AND hold_until > ? AND {_OPEN}",
            (now, bill_id, now),
        )
        return int(cursor.rowcount)

    def lapsed_holds(self, now: float, limit: int) -> list[PaymentRecord]:
        """Live shares whose hold has ended but whose checkout was not stopped yet, oldest first."""
        return self._payments_where(
            f"hold_until > 0 AND hold_until <= ? AND {_OPEN} ORDER BY hold_until LIMIT ?", (now, limit)
        )
