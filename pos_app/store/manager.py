"""Manager mode's SQL: the payment history (filtered, sorted, paged), an order's detail, a day's
payments for the totals, the manager PIN's lock. Reads only, apart from the lock.

Sorting and filtering happen in SQL (ORDER BY / WHERE with the indexes of migration m003), and the
history is read a page at a time, so 100,000 payments never sit in memory at once.
"""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlite_utils

from tablepay_domain.day_totals import DayPayment
from tablepay_domain.payment_state import PaymentStatus

# Sortable history columns -> their SQL (a whitelist: the sort key never reaches SQL as text).
SORT_SQL = {
    "time": "a.created_at",
    "table": "o.table_label",
    "waiter": "o.waiter",
    "order": "a.order_id",
    "state": "a.status",
    "dishes": "a.dish_subtotal",
    "tip": "a.tip_amount",
    "donation": "a.donation_amount",
    "total": "a.amount_total",
    "reference": "a.provider_reference",
    "pos": "o.pos_status",
}

# Columns of the order (not the attempt) tie-break on the order and then the attempt, so SQLite can
# walk the orders index (column, order_id) and each order's attempts in order: no sort of the whole
# history for every page when a manager scrolls deep into a list sorted by waiter or table.
_ORDER_LEVEL = {"table", "waiter", "pos"}


def _order_by(sort: str, direction: str) -> str:
    if sort in _ORDER_LEVEL:
        return f"{SORT_SQL[sort]} {direction}, o.order_id {direction}, a.attempt {direction}"
    return f"{SORT_SQL[sort]} {direction}, a.payment_id {direction}"


_SELECT = (
    'SELECT a.payment_id, a.order_id, a.attempt, a.created_at, a.paid_at, o.table_label AS "table", o.waiter, '
    "a.status, "
    "a.currency, a.dish_subtotal, a.tip_amount, a.donation_amount, a.amount_total, a.amount_refunded, "
    "a.provider_reference, o.pos_status, a.donation_partner, o.status AS order_status, "
    "a.amount_charged_back, a.charged_back, a.share, o.partner "
    "FROM payment_attempts a JOIN orders o ON o.order_id = a.order_id"
)


@dataclass(frozen=True)
class HistoryFilter:
    """Bounds are UTC ISO strings (`created_at` of the attempt), start inclusive, end exclusive."""

    since: str | None = None
    until: str | None = None
    status: str | None = None
    waiter: str | None = None
    table: str | None = None
    order_search: str = ""  # part of an order id


@dataclass(frozen=True)
class HistoryRow:
    payment_id: str
    order_id: str
    attempt: int
    created_at: str
    paid_at: str | None
    table: str
    waiter: str
    status: str
    currency: str
    dish_subtotal: int
    tip_amount: int
    donation_amount: int
    amount_total: int
    amount_refunded: int
    provider_reference: str | None
    pos_status: str | None
    donation_partner: str | None
    order_status: str
    amount_charged_back: int = 0  # what the guest's bank took back (0 also while not known yet)
    charged_back: int = 0  # 1: a payment.charged_back event was applied
    share: int = 0  # 1: a share of a split bill (one guest's part), its own attempt of the order
    partner: str | None = None  # a partner's order: the partner's name

    @property
    def is_charged_back(self) -> bool:
        return bool(self.charged_back or self.amount_charged_back)

    @property
    def refundable(self) -> int:
        """What is left to refund (0 unless the payment took money; 0 for a partner's order: the service
        takes refunds only from the kiosk that took the payment)."""
        if self.partner is not None or not PaymentStatus(self.status).is_paid:
            return 0
        return self.amount_total - self.amount_refunded


@dataclass(frozen=True)
class EventRow:
    seq: int
    event: str
    status: str | None
    amount_refunded: int | None
    occurred_at: str | None  # when the service recorded it
    applied_at: str  # when this kiosk applied it


def _where(f: HistoryFilter) -> tuple[str, list[Any]]:
    clauses: list[str] = []
    params: list[Any] = []
    for sql, value in (
        ("a.created_at >= ?", f.since),
        ("a.created_at < ?", f.until),
        ("a.status = ?", f.status),
        ("o.waiter = ?", f.waiter),
        ("o.table_label = ?", f.table),
    ):
        if value is not None:
            clauses.append(sql)
            params.append(value)
    if f.order_search.strip():
        clauses.append("a.order_id LIKE ? ESCAPE '\\'")
        escaped = f.order_search.strip().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        params.append(f"%{escaped}%")
    return (" WHERE " + " AND ".join(clauses)) if clauses else "", params


class ManagerStore:
    def __init__(self, db: sqlite_utils.Database) -> None:
        self.db = db

    def file_path(self) -> str:
        return str(self.db.conn.execute("PRAGMA database_list").fetchone()[2])

    @staticmethod
    @contextmanager
    def read_only(path: str) -> Iterator[ManagerStore]:
        """The store at `path` on a read connection of its own, opened in the thread that uses it
        (a long export runs off the GUI thread)."""
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            yield ManagerStore(sqlite_utils.Database(conn))
        finally:
            conn.close()

    # -- history ---------------------------------------------------------------
    def history_count(self, f: HistoryFilter) -> int:
        where, params = _where(f)
        join = " JOIN orders o ON o.order_id = a.order_id" if (f.waiter or f.table) else ""
        return int(next(self.db.query(f"SELECT COUNT(*) AS n FROM payment_attempts a{join}{where}", params))["n"])

    def history_page(
        self, f: HistoryFilter, sort: str = "time", descending: bool = True, offset: int = 0, limit: int = 200
    ) -> list[HistoryRow]:
        direction = "DESC" if descending else "ASC"
        where, params = _where(f)
        sql = f"{_SELECT}{where} ORDER BY {_order_by(sort, direction)} LIMIT ? OFFSET ?"
        return [HistoryRow(**row) for row in self.db.query(sql, [*params, limit, offset])]

    def history_rows(self, f: HistoryFilter, sort: str = "time", descending: bool = True) -> Iterator[HistoryRow]:
        """Every row of the filter, in order, streamed from one query (for the CSV export): SQLite
        hands rows over as they are read, so memory stays flat and the sort runs once."""
        direction = "DESC" if descending else "ASC"
        where, params = _where(f)
        sql = f"{_SELECT}{where} ORDER BY {_order_by(sort, direction)}"
        for row in self.db.query(sql, params):
            yield HistoryRow(**row)

    def payment(self, payment_id: str) -> HistoryRow | None:
        row = next(self.db.query(f"{_SELECT} WHERE a.payment_id = ?", [payment_id]), None)
        return HistoryRow(**row) if row else None

    # -- refunds waiting for an answer ------------------------------------------
    def refund_key(self, payment_id: str, amount: int) -> str:
        """The Idempotency-Key of this refund: the one already used if it got no answer, else a new one."""
        key = f"refund-{uuid.uuid4()}"
        self.db.execute(
            "INSERT OR IGNORE INTO pending_refunds VALUES (?, ?, ?, ?)",
            [payment_id, amount, key, datetime.now(UTC).isoformat(timespec="milliseconds")],
        )
        row = next(
            self.db.query(
                "SELECT idempotency_key FROM pending_refunds WHERE payment_id = ? AND amount = ?", [payment_id, amount]
            )
        )
        return str(row["idempotency_key"])

    def refund_answered(self, payment_id: str, amount: int) -> None:
        self.db.execute("DELETE FROM pending_refunds WHERE payment_id = ? AND amount = ?", [payment_id, amount])

    def waiters(self) -> list[str]:
        return [r["waiter"] for r in self.db.query("SELECT DISTINCT waiter FROM orders ORDER BY waiter")]

    def tables(self) -> list[str]:
        return [r["table_label"] for r in self.db.query("SELECT DISTINCT table_label FROM orders ORDER BY table_label")]

    def latest_currency(self) -> str | None:
        """The currency of the newest order (what a day without payments is shown in)."""
        row = next(self.db.query("SELECT currency FROM orders ORDER BY created_at DESC LIMIT 1"), None)
        return str(row["currency"]) if row else None

    # -- an order's detail -----------------------------------------------------
    def attempts_of(self, order_id: str) -> list[HistoryRow]:
        return [
            HistoryRow(**row) for row in self.db.query(f"{_SELECT} WHERE a.order_id = ? ORDER BY a.attempt", [order_id])
        ]

    def events_of(self, payment_id: str) -> list[EventRow]:
        return [
            EventRow(**row)
            for row in self.db.query(
                "SELECT seq, event, status, amount_refunded, occurred_at, applied_at FROM applied_events "
                "WHERE payment_id = ? ORDER BY seq",
                [payment_id],
            )
        ]

    # -- day totals ---------------------------------------------------------------
    def day_payments(self, since: str, until: str) -> list[DayPayment]:
        """Attempts paid in [since, until) and unpaid ones created then (UTC ISO bounds)."""
        rows = self.db.query(
            f"{_SELECT} WHERE a.paid_at >= ? AND a.paid_at < ? "
            f"UNION ALL {_SELECT} WHERE a.paid_at IS NULL AND a.created_at >= ? AND a.created_at < ?",
            [since, until, since, until],
        )
        return [
            DayPayment(
                r["payment_id"],
                r["order_id"],
                PaymentStatus(r["status"]),
                r["waiter"],
                r["currency"],
                r["dish_subtotal"],
                r["tip_amount"],
                r["donation_amount"],
                r["amount_total"],
                r["amount_refunded"],
                r["donation_partner"] or "",
                datetime.fromisoformat(r["paid_at"]) if r["paid_at"] else None,
                r["order_status"] == "paid",
                r["amount_charged_back"],
            )
            for r in rows
        ]

    # -- reconciliation --------------------------------------------------------------
    def recent_payments(self, since: str, limit: int = 2000) -> list[HistoryRow]:
        """Attempts this kiosk created since `since` (newest first): what reconciliation checks."""
        return [
            HistoryRow(**row)
            for row in self.db.query(
                f"{_SELECT} WHERE a.created_at >= ? ORDER BY a.created_at DESC LIMIT ?", [since, limit]
            )
        ]

    # -- the manager PIN's lock ---------------------------------------------------------
    def pin_state(self) -> tuple[int, float]:
        row = next(self.db.query("SELECT wrong, locked_until FROM manager_pin_state WHERE id = 1"))
        return int(row["wrong"]), float(row["locked_until"])

    def set_pin_state(self, wrong: int, locked_until: float) -> None:
        self.db.execute("UPDATE manager_pin_state SET wrong = ?, locked_until = ? WHERE id = 1", [wrong, locked_until])
