"""All SQL of the sync service. Callers get domain records, never rows.

The service is one process with one event loop, so one connection serves
every request; each use case wraps its writes in `transaction()`.
"""

from __future__ import annotations

import json
import sqlite3
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, fields
from typing import Any

import sqlite_utils

from tablepay_domain.order import Order
from tablepay_domain.payment_state import FEED_EVENT, PaymentStatus

from ..models import PaymentRecord, utc_now

_PAYMENT_COLUMNS = [f.name for f in fields(PaymentRecord)]


@dataclass(frozen=True)
class IdempotentRequest:
    """A request seen before under the same (kiosk, Idempotency-Key)."""

    request_hash: str
    in_progress: bool  # reserved, its work not finished: no answer yet
    status_code: int
    response: dict[str, Any] | None


def _payment(row: sqlite3.Row | tuple[Any, ...] | None, names: list[str]) -> PaymentRecord | None:
    if row is None:
        return None
    values = dict(zip(names, row, strict=True))
    values["status"] = PaymentStatus(values["status"])
    return PaymentRecord(**values)


class Repository:
    def __init__(self, db: sqlite_utils.Database) -> None:
        self.db = db
        self.conn = db.conn

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """One atomic unit: everything inside commits together or not at all."""
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        self.conn.execute("COMMIT")

    # kiosks -------------------------------------------------------------
    def add_kiosk(self, kiosk_id: str, token_hash: str, scopes: str = "kiosk") -> None:
        with self.transaction():
            self.put_kiosk(kiosk_id, token_hash, scopes)

    def put_kiosk(self, kiosk_id: str, token_hash: str, scopes: str) -> None:
        """The kiosk's token (replacing its old one), inside the caller's transaction."""
        self.conn.execute(
            "INSERT INTO kiosks (kiosk_id, token_hash, created_at, scopes) VALUES (?, ?, ?, ?) "
            "ON CONFLICT(kiosk_id) DO UPDATE SET token_hash = excluded.token_hash, revoked_at = NULL, "
            "scopes = excluded.scopes",
            (kiosk_id, token_hash, utc_now(), scopes),
        )

    def revoke_kiosk(self, kiosk_id: str) -> str | None:
        """Stop the kiosk's token working; returns when it was revoked (now or before), None if no such kiosk.

        The row stays (orders and payments name the kiosk); `add_kiosk` pairs it again with a new token.
        """
        with self.transaction():
            self.conn.execute(
                "UPDATE kiosks SET revoked_at = ? WHERE kiosk_id = ? AND revoked_at IS NULL", (utc_now(), kiosk_id)
            )
            row = self.conn.execute("SELECT revoked_at FROM kiosks WHERE kiosk_id = ?", (kiosk_id,)).fetchone()
        return str(row[0]) if row else None

    def kiosk_scopes(self, kiosk_id: str) -> set[str]:
        row = self.conn.execute("SELECT scopes FROM kiosks WHERE kiosk_id = ?", (kiosk_id,)).fetchone()
        return set(row[0].split()) if row else set()

    def kiosk_for_token_hash(self, token_hash: str) -> str | None:
        row = self.conn.execute(
            "SELECT kiosk_id FROM kiosks WHERE token_hash = ? AND revoked_at IS NULL", (token_hash,)
        ).fetchone()
        return row[0] if row else None

    # idempotent requests -----------------------------------------------
    def idempotent_response(self, kiosk_id: str, key: str) -> tuple[str, int, dict[str, Any]] | None:
        row = self.conn.execute(
            "SELECT request_hash, status_code, response FROM idempotent_requests "
            "WHERE kiosk_id = ? AND idempotency_key = ?",
            (kiosk_id, key),
        ).fetchone()
        return (row[0], row[1], json.loads(row[2])) if row else None

    def save_idempotent_response(
        self, kiosk_id: str, key: str, request_hash: str, status_code: int, response: dict[str, Any]
    ) -> None:
        self.conn.execute(
            "INSERT OR IGNORE INTO idempotent_requests (kiosk_id, idempotency_key, request_hash, status_code, "
            "response, created_at) VALUES (?, ?, ?, ?, ?, ?)",
            (kiosk_id, key, request_hash, status_code, json.dumps(response), utc_now()),
        )

    def idempotent_request(self, kiosk_id: str, key: str) -> IdempotentRequest | None:
        row = self.conn.execute(
            "SELECT request_hash, state, status_code, response FROM idempotent_requests "
            "WHERE kiosk_id = ? AND idempotency_key = ?",
            (kiosk_id, key),
        ).fetchone()
        return (
            IdempotentRequest(
                request_hash=row[0],
                in_progress=row[1] == "in_progress",
                status_code=row[2],
                response=json.loads(row[3]),
            )
            if row
            else None
        )

    def reserve_idempotency_key(self, kiosk_id: str, key: str, request_hash: str) -> IdempotentRequest | None:
        """Claim the key for this request in one statement; None when claimed, else the row that holds it.

        ON CONFLICT DO NOTHING makes the claim atomic whoever else tries at the same moment. An
        in-progress row has no answer yet (status 0, response null) until `finish_idempotent_request`.
        """
        with self.transaction():
            claimed = (
                self.conn.execute(
                    "INSERT INTO idempotent_requests (kiosk_id, idempotency_key, request_hash, status_code, response, "
                    "created_at, state) VALUES (?, ?, ?, 0, 'null', ?, 'in_progress') "
                    "ON CONFLICT (kiosk_id, idempotency_key) DO NOTHING",
                    (kiosk_id, key, request_hash, utc_now()),
                ).rowcount
                == 1
            )
            return None if claimed else self.idempotent_request(kiosk_id, key)

    def finish_idempotent_request(self, kiosk_id: str, key: str, status_code: int, response: dict[str, Any]) -> None:
        """Store the answer of a reserved key, for every retry to get the same one."""
        self.conn.execute(
            "UPDATE idempotent_requests SET state = 'done', status_code = ?, response = ? "
            "WHERE kiosk_id = ? AND idempotency_key = ? AND state = 'in_progress'",
            (status_code, json.dumps(response), kiosk_id, key),
        )

    def release_idempotency_key(self, kiosk_id: str, key: str) -> None:
        """Give back a reserved key whose work failed, so a retry does the work again."""
        with self.transaction():
            self.conn.execute(
                "DELETE FROM idempotent_requests WHERE kiosk_id = ? AND idempotency_key = ? AND state = 'in_progress'",
                (kiosk_id, key),
            )

    # orders and payments -----------------------------------------------
    def upsert_order(self, order: Order, snapshot: str) -> None:
        now = utc_now()
        self.conn.execute(
            "INSERT INTO orders VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(order_id) DO UPDATE SET "
            "currency = excluded.currency, table_label = excluded.table_label, waiter = excluded.waiter, "
            "snapshot = excluded.snapshot, updated_at = excluded.updated_at",
            (order.order_id, order.kiosk_id, order.currency, order.table, order.waiter, snapshot, now, now),
        )

    def order_kiosk(self, order_id: str) -> str | None:
        row = self.conn.execute("SELECT kiosk_id FROM orders WHERE order_id = ?", (order_id,)).fetchone()
        return row[0] if row else None

    def attempts(self, order_id: str) -> list[PaymentRecord]:
        return self._payments_where("order_id = ? ORDER BY attempt", (order_id,))

    def _payments_where(self, where: str, args: tuple[Any, ...]) -> list[PaymentRecord]:
        cursor = self.conn.execute(f"SELECT {', '.join(_PAYMENT_COLUMNS)} FROM payments WHERE {where}", args)
        return [p for row in cursor.fetchall() if (p := _payment(row, _PAYMENT_COLUMNS))]

    def insert_payment(self, record: PaymentRecord) -> None:
        values = [getattr(record, name) for name in _PAYMENT_COLUMNS]
        values[_PAYMENT_COLUMNS.index("status")] = record.status.value
        self.conn.execute(
            f"INSERT INTO payments ({', '.join(_PAYMENT_COLUMNS)}) VALUES ({', '.join('?' * len(values))})",
            values,
        )

    def update_payment(self, payment_id: str, **changes: Any) -> None:
        changes.setdefault("updated_at", utc_now())
        if isinstance(changes.get("status"), PaymentStatus):
            changes["status"] = changes["status"].value
        assignments = ", ".join(f"{name} = ?" for name in changes)
        self.conn.execute(f"UPDATE payments SET {assignments} WHERE payment_id = ?", [*changes.values(), payment_id])

    def _one_payment(self, column: str, value: str) -> PaymentRecord | None:
        found = self._payments_where(f"{column} = ? LIMIT 1", (value,))
        return found[0] if found else None

    def payment(self, payment_id: str) -> PaymentRecord | None:
        return self._one_payment("payment_id", payment_id)

    def find_payment(
        self, *, payment_id: str | None = None, session_id: str | None = None, payment_intent: str | None = None
    ) -> PaymentRecord | None:
        """The attempt a provider object belongs to, by whichever link is known."""
        for column, value in (
            ("payment_id", payment_id),
            ("provider_session_id", session_id),
            ("provider_payment_intent", payment_intent),
        ):
            if value and (found := self._one_payment(column, value)):
                return found
        return None

    def stale_live_payments(self, updated_before: str, limit: int) -> list[PaymentRecord]:
        return self._payments_where(
            "status IN ('open', 'pending', 'authorized') AND provider_session_id IS NOT NULL "
            "AND updated_at < ? ORDER BY updated_at LIMIT ?",
            (updated_before, limit),
        )

    def orphaned_open_payments(self, created_before: str, limit: int) -> list[PaymentRecord]:
        """Open attempts whose hosted checkout was never created (the service died mid-request)."""
        return self._payments_where(
            "status = 'open' AND provider_session_id IS NULL AND created_at < ? ORDER BY created_at LIMIT ?",
            (created_before, limit),
        )

    def payments_by_id(self, payment_ids: list[str]) -> dict[str, PaymentRecord]:
        if not payment_ids:
            return {}
        # One JSON array parameter keeps the SQL text constant, so the prepared statement is reused.
        found = self._payments_where("payment_id IN (SELECT value FROM json_each(?))", (json.dumps(payment_ids),))
        return {p.payment_id: p for p in found}

    def paid_attempts(self, order_ids: list[str]) -> dict[str, set[str]]:
        """Order id -> ids of its attempts that took money (paid, or refunded since)."""
        cursor = self.conn.execute(
            "SELECT order_id, payment_id FROM payments WHERE order_id IN (SELECT value FROM json_each(?)) "
            "AND status IN ('paid', 'partially_refunded', 'refunded')",
            (json.dumps(order_ids),),
        )
        found: dict[str, set[str]] = {}
        for order_id, payment_id in cursor:
            found.setdefault(order_id, set()).add(payment_id)
        return found

    _CHANGEABLE = (
        "status",
        "amount_refunded",
        "paid_at",
        "failure_reason",
        "provider_session_id",
        "provider_payment_intent",
        "provider_charge",
        "updated_at",
        "attention",
    )

    def write_payments(self, records: list[PaymentRecord]) -> None:
        """Store the new state of payments (the columns a provider observation can change)."""
        self.conn.executemany(
            f"UPDATE payments SET {', '.join(f'{c} = ?' for c in self._CHANGEABLE)} WHERE payment_id = ?",
            [
                (
                    r.status.value,
                    r.amount_refunded,
                    r.paid_at,
                    r.failure_reason,
                    r.provider_session_id,
                    r.provider_payment_intent,
                    r.provider_charge,
                    r.updated_at,
                    r.attention,
                    r.payment_id,
                )
                for r in records
            ],
        )

    # provider events -----------------------------------------------------
    def event_seen(self, event_id: str) -> bool:
        return (
            self.conn.execute("SELECT 1 FROM integration_events WHERE event_id = ?", (event_id,)).fetchone() is not None
        )

    def seen_events(self, event_ids: list[str]) -> set[str]:
        if not event_ids:
            return set()
        cursor = self.conn.execute(
            "SELECT event_id FROM integration_events WHERE event_id IN (SELECT value FROM json_each(?))",
            (json.dumps(event_ids),),
        )
        return {row[0] for row in cursor}

    def record_event(
        self, event_id: str, provider: str, type_: str, payment_id: str | None, outcome: str, payload: str
    ) -> bool:
        """False when the event id was already recorded (a repeated delivery)."""
        cursor = self.conn.execute(
            "INSERT OR IGNORE INTO integration_events VALUES (?, ?, ?, ?, ?, ?, ?)",
            (event_id, provider, type_, payment_id, outcome, utc_now(), payload),
        )
        return cursor.rowcount == 1

    def record_events(self, rows: list[tuple[str, str, str, str | None, str, str]]) -> None:
        """Many (event_id, provider, type, payment_id, outcome, payload) rows in one statement."""
        now = utc_now()
        self.conn.executemany(
            "INSERT OR IGNORE INTO integration_events VALUES (?, ?, ?, ?, ?, ?, ?)",
            [
                (event_id, provider, type_, payment_id, outcome, now, payload)
                for event_id, provider, type_, payment_id, outcome, payload in rows
            ],
        )

    def events_for_payments(self, payment_ids: list[str]) -> list[dict[str, Any]]:
        """What the provider (or a server-side retrieve) said about these payments, oldest first."""
        names = ("event_id", "payment_id", "type", "outcome", "received_at")
        cursor = self.conn.execute(
            f"SELECT {', '.join(names)} FROM integration_events WHERE payment_id IN (SELECT value FROM json_each(?)) "
            "ORDER BY received_at, rowid",
            (json.dumps(payment_ids),),
        )
        return [dict(zip(names, row, strict=True)) for row in cursor]

    # raw webhook requests ---------------------------------------------------
    _REQUEST_INSERT = (
        "INSERT INTO webhook_requests (received_at, event_id, verdict, headers, body, error) VALUES (?, ?, ?, ?, ?, ?)"
    )

    def store_requests(self, rows: list[tuple[str | None, str, str, str, str | None]]) -> None:
        """Many (event_id, verdict, headers, body, error) rows in one statement."""
        now = utc_now()
        self.conn.executemany(self._REQUEST_INSERT, [(now, *row) for row in rows])

    def webhook_requests(self, verdict: str | None = None, request_id: int | None = None) -> list[dict[str, Any]]:
        names = ("id", "received_at", "event_id", "verdict", "headers", "body", "error")
        where = [(c, v) for c, v in (("verdict = ?", verdict), ("id = ?", request_id)) if v is not None]
        sql = (
            f"SELECT {', '.join(names)} FROM webhook_requests"
            + (" WHERE " + " AND ".join(c for c, _ in where) if where else "")
            + " ORDER BY id"
        )
        return [dict(zip(names, row, strict=True)) for row in self.conn.execute(sql, tuple(v for _, v in where))]

    def set_request_verdict(self, request_id: int, verdict: str, error: str | None = None) -> None:
        self.conn.execute(
            "UPDATE webhook_requests SET verdict = ?, error = ? WHERE id = ?", (verdict, error, request_id)
        )

    def prune_webhook_requests(self, received_before: str) -> None:
        self.conn.execute(
            "DELETE FROM webhook_requests WHERE received_at < ? AND verdict != 'failed'", (received_before,)
        )

    def store_rejected_request(self, headers: str, head: bytes, size: int, sha256: str, reason: str) -> int:
        """A rejected request's kept part; returns the bytes it takes (as `rejected_bytes` counts them)."""
        self.conn.execute(
            "INSERT INTO webhook_requests (received_at, verdict, headers, body, error, body_size, "
            "body_sha256) VALUES (?, 'rejected', ?, ?, ?, ?, ?)",
            (utc_now(), headers, head, reason, size, sha256),
        )
        return len(head) + len(headers.encode()) + len(reason.encode()) + len(sha256)

    # The bytes a rejected row takes: what the sender chose (body head, headers) and our reason.
    _REJECTED_ROW_BYTES = (
        "length(CAST(body AS BLOB)) + length(CAST(headers AS BLOB)) "
        "+ coalesce(length(CAST(error AS BLOB)), 0) + coalesce(length(body_sha256), 0)"
    )

    def rejected_bytes(self) -> int:
        return int(
            self.conn.execute(
                f"SELECT coalesce(sum({self._REJECTED_ROW_BYTES}), 0) FROM webhook_requests WHERE verdict = 'rejected'"
            ).fetchone()[0]
        )

    def trim_rejected_requests(self, keep: int, keep_bytes: int) -> None:
        """Forged or malformed requests are kept for inspection, but only the newest `keep` rows within
        `keep_bytes` in all."""
        self.conn.execute(
            "DELETE FROM webhook_requests WHERE verdict = 'rejected' AND id <= (SELECT id FROM ("
            f"  SELECT id, row_number() OVER newest AS n, sum({self._REJECTED_ROW_BYTES}) OVER newest AS total"
            "   FROM webhook_requests WHERE verdict = 'rejected' WINDOW newest AS (ORDER BY id DESC))"
            " WHERE n > ? OR total > ? ORDER BY id DESC LIMIT 1)",
            (keep, keep_bytes),
        )

    # feed -----------------------------------------------------------------
    _FEED_INSERT = (
        "INSERT INTO feed (event_id, kiosk_id, event, order_id, payment_id, attempt, status, currency, "
        "amount_total, tip_amount, donation_amount, amount_refunded, paid_at, created_at, pos_status, "
        "provider_reference) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
    )

    @staticmethod
    def _feed_row(payment: PaymentRecord) -> tuple[Any, ...]:
        return (
            str(uuid.uuid4()),
            payment.kiosk_id,
            FEED_EVENT[payment.status],
            payment.order_id,
            payment.payment_id,
            payment.attempt,
            payment.status.value,
            payment.currency,
            payment.amount_total,
            payment.tip_amount,
            payment.donation_amount,
            payment.amount_refunded,
            payment.paid_at,
            payment.updated_at,
            None,
            payment.provider_payment_intent or payment.provider_session_id,
        )

    def append_feed(self, payment: PaymentRecord) -> int:
        cursor = self.conn.execute(self._FEED_INSERT, self._feed_row(payment))
        return int(cursor.lastrowid or 0)

    def append_feed_many(self, payments: list[PaymentRecord]) -> None:
        """Feed rows in the given order (their seq follows it)."""
        self.conn.executemany(self._FEED_INSERT, [self._feed_row(p) for p in payments])

    def append_pos_feed(
        self, kiosk_id: str, order_id: str, currency: str, pos_status: str, payment_id: str = ""
    ) -> None:
        """A POS state change of an order, in the same feed as its payments (event `pos.<status>`)."""
        self.conn.execute(
            self._FEED_INSERT,
            (
                str(uuid.uuid4()),
                kiosk_id,
                f"pos.{pos_status}",
                order_id,
                payment_id,
                0,
                "",
                currency,
                0,
                0,
                0,
                0,
                None,
                utc_now(),
                pos_status,
                None,
            ),
        )

    _FEED_COLUMNS = (
        "seq",
        "event_id",
        "kiosk_id",
        "event",
        "order_id",
        "payment_id",
        "attempt",
        "status",
        "currency",
        "amount_total",
        "tip_amount",
        "donation_amount",
        "amount_refunded",
        "paid_at",
        "created_at",
        "pos_status",
        "provider_reference",
    )

    def feed_after(self, after: int, limit: int, kiosk_id: str | None = None) -> list[dict[str, Any]]:
        columns = ", ".join(self._FEED_COLUMNS)
        if kiosk_id is None:
            cursor = self.conn.execute(f"SELECT {columns} FROM feed WHERE seq > ? ORDER BY seq LIMIT ?", (after, limit))
        else:
            cursor = self.conn.execute(
                f"SELECT {columns} FROM feed WHERE kiosk_id = ? AND seq > ? ORDER BY seq LIMIT ?",
                (kiosk_id, after, limit),
            )
        return [dict(zip(self._FEED_COLUMNS, row, strict=True)) for row in cursor]

    # outbox ---------------------------------------------------------------
    def enqueue(
        self,
        topic: str,
        dedupe_key: str,
        payment_id: str | None,
        payload: dict[str, Any],
        ordering_key: str | None = None,
    ) -> bool:
        """Queue work once per dedupe_key; rows sharing an ordering_key are delivered in order."""
        cursor = self.conn.execute(
            "INSERT OR IGNORE INTO outbox (topic, dedupe_key, payment_id, payload, next_attempt_at, created_at, "
            "ordering_key) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (topic, dedupe_key, payment_id, json.dumps(payload), time.time(), utc_now(), ordering_key),
        )
        return cursor.rowcount > 0

    # Pending, and no earlier row of the same ordering key is still pending or parked.
    _UNBLOCKED = (
        "state = 'pending' AND (ordering_key IS NULL OR NOT EXISTS (SELECT 1 FROM outbox AS e "
        "WHERE e.ordering_key = o.ordering_key AND e.id < o.id AND e.state != 'done'))"
    )

    def due_outbox(self, now: float, limit: int) -> list[dict[str, Any]]:
        """Rows due now, skipping any whose ordering_key has an earlier row not yet done."""
        cursor = self.conn.execute(
            "SELECT id, topic, dedupe_key, payment_id, payload, attempts FROM outbox AS o "
            f"WHERE {self._UNBLOCKED} AND next_attempt_at <= ? ORDER BY id LIMIT ?",
            (now, limit),
        )
        names = ("id", "topic", "dedupe_key", "payment_id", "payload", "attempts")
        return [{**dict(zip(names, row, strict=True)), "payload": json.loads(row[4])} for row in cursor]

    def next_outbox_due(self) -> float | None:
        """When the earliest row that is not held back by its ordering key falls due."""
        row = self.conn.execute(f"SELECT min(next_attempt_at) FROM outbox AS o WHERE {self._UNBLOCKED}").fetchone()
        return row[0] if row else None

    def outbox_done(self, row_id: int) -> None:
        self.conn.execute("UPDATE outbox SET state = 'done', done_at = ? WHERE id = ?", (utc_now(), row_id))

    def outbox_failed(self, row_id: int, error: str, next_attempt_at: float, dead: bool) -> None:
        self.conn.execute(
            "UPDATE outbox SET attempts = attempts + 1, last_error = ?, next_attempt_at = ?, state = ? WHERE id = ?",
            (error[:2000], next_attempt_at, "dead" if dead else "pending", row_id),
        )

    _OUTBOX_COLUMNS = (
        "id",
        "topic",
        "dedupe_key",
        "payment_id",
        "ordering_key",
        "payload",
        "state",
        "attempts",
        "last_error",
        "created_at",
    )

    # One sync service serves one restaurant today (chain mode, several restaurants on one service,
    # comes in a later issue), so "this restaurant's" rows are those whose payment or order this
    # database knows. A row naming neither is not shown to a manager nor retried by one.
    _OF_KNOWN_ORDER = (
        "(payment_id IN (SELECT payment_id FROM payments) "
        "OR json_extract(payload, '$.order_id') IN (SELECT order_id FROM orders))"
    )

    def outbox_rows(
        self,
        topic: str | None = None,
        *,
        state: str | None = None,
        row_id: int | None = None,
        of_known_orders: bool = False,
    ) -> list[dict[str, Any]]:
        """`of_known_orders`: only rows of this restaurant's payments and orders (what a manager may see)."""
        where = [
            (clause, value)
            for clause, value in (("topic = ?", topic), ("state = ?", state), ("id = ?", row_id))
            if value is not None
        ]
        clauses = [c for c, _ in where] + ([self._OF_KNOWN_ORDER] if of_known_orders else [])
        sql = (
            f"SELECT {', '.join(self._OUTBOX_COLUMNS)} FROM outbox"
            + (" WHERE " + " AND ".join(clauses) if clauses else "")
            + " ORDER BY id"
        )
        rows = [
            dict(zip(self._OUTBOX_COLUMNS, row, strict=True))
            for row in self.conn.execute(sql, tuple(v for _, v in where))
        ]
        for row in rows:
            row["payload"] = json.loads(row["payload"])
        return rows

    def retry_dead_letter(self, row_id: int) -> bool:
        """Put a parked row back in line, due now, with a fresh attempt count."""
        cursor = self.conn.execute(
            "UPDATE outbox SET state = 'pending', attempts = 0, next_attempt_at = ? WHERE id = ? AND state = 'dead'",
            (time.time(), row_id),
        )
        return cursor.rowcount > 0

    # donations --------------------------------------------------------------
    def record_transfer(
        self, payment_id: str, transfer_id: str, partner: str, destination: str, amount: int, currency: str
    ) -> None:
        self.conn.execute(
            "INSERT OR IGNORE INTO donation_transfers VALUES (?, ?, ?, ?, ?, ?, ?)",
            (payment_id, transfer_id, partner, destination, amount, currency, utc_now()),
        )

    _TRANSFER_COLUMNS = ("payment_id", "transfer_id", "partner", "destination", "amount", "currency", "created_at")

    def transfers_for(self, payment_id: str | None = None) -> list[dict[str, Any]]:
        """The donation transfers made, all of them or one payment's."""
        sql = f"SELECT {', '.join(self._TRANSFER_COLUMNS)} FROM donation_transfers"
        cursor = (
            self.conn.execute(sql + " WHERE payment_id = ?", (payment_id,))
            if payment_id
            else self.conn.execute(sql + " ORDER BY created_at")
        )
        return [dict(zip(self._TRANSFER_COLUMNS, row, strict=True)) for row in cursor]
