"""All SQL of the sync service. Callers get domain records, never rows.

The service is one process with one event loop, so one connection serves
every request; each use case wraps its writes in `transaction()`.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, fields
from typing import Any

import sqlite_utils

from tablepay_domain.payment_state import PaymentStatus

from ..models import PaymentRecord, utc_now
from .bill_rows import BillRows
from .engine import POSTGRES, SQLITE_DIALECT, Connection, Dialect
from .feed_rows import FeedRows
from .order_rows import OrderRows
from .outbox_rows import OutboxRows
from .partner_rows import PartnerRows
from .postgres import PostgresDatabase
from .webhook_request_rows import WebhookRequestRows

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
    values["share_excluded"] = bool(values["share_excluded"])  # SQLite keeps it as 0/1
    return PaymentRecord(**values)


class Repository(FeedRows, OrderRows, WebhookRequestRows, OutboxRows, BillRows, PartnerRows):
    def __init__(self, db: sqlite_utils.Database | PostgresDatabase) -> None:
        """SQLite (sqlite_utils' Database, storage/db.py) or PostgreSQL (storage/postgres.py)."""
        self.db = db
        self.dialect: Dialect = db.dialect if isinstance(db, PostgresDatabase) else SQLITE_DIALECT
        self.conn: Connection = db.conn
        # PostgreSQL's transactions are begun and ended on its connection (it tracks them to reconnect).
        self._postgres = db.conn if isinstance(db, PostgresDatabase) else None

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """One atomic unit: everything inside commits together or not at all."""
        if self._postgres is not None:
            self._postgres.begin()
            try:
                yield
            except BaseException:
                self._postgres.end(commit=False)
                raise
            self._postgres.end(commit=True)
            return
        self.conn.execute(self.dialect.begin)
        try:
            yield
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        self.conn.execute("COMMIT")

    @contextmanager
    def only_one_instance(self, job: str) -> Iterator[bool]:
        """Whether this instance may run `job` now (True) while another instance is not running it.

        PostgreSQL: a session advisory lock, tried (never waited for) and released at the end; when an
        instance dies its session ends and the lock with it, so whichever instance is alive goes on.
        SQLite: one instance, always True."""
        if self.dialect.name != POSTGRES:
            yield True
            return
        key = f"job:{job}"
        got = bool(self.conn.execute("SELECT pg_try_advisory_lock(hashtextextended(?, 0))", (key,)).fetchone()[0])
        try:
            yield got
        finally:
            if got:
                self.conn.execute("SELECT pg_advisory_unlock(hashtextextended(?, 0))", (key,))

    def lock_order(self, order_id: str) -> None:
        """Inside a transaction: another instance's transaction about the same order waits until this one ends.

        PostgreSQL: a transaction-scoped advisory lock on the order id (the order row may not exist yet).
        SQLite: nothing to do, its single writer holds the whole database."""
        if self.dialect.name == POSTGRES:
            self.conn.execute("SELECT pg_advisory_xact_lock(hashtextextended(?, 0))", (f"order:{order_id}",))

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
            "INSERT INTO idempotent_requests (kiosk_id, idempotency_key, request_hash, status_code, "
            "response, created_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
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
    def order_kiosk(self, order_id: str) -> str | None:
        row = self.conn.execute("SELECT kiosk_id FROM orders WHERE order_id = ?", (order_id,)).fetchone()
        return row[0] if row else None

    def attempts(self, order_id: str) -> list[PaymentRecord]:
        return self._payments_where("order_id = ? ORDER BY attempt", (order_id,))

    def _payments_where(self, where: str, args: tuple[Any, ...], *, lock: bool = False) -> list[PaymentRecord]:
        """`lock`: the rows stay locked until the transaction ends, so another instance deciding about the
        same payment waits for this decision (in payment id order, so two batches never deadlock)."""
        suffix = f" ORDER BY payment_id{self.dialect.for_update}" if lock else ""
        cursor = self.conn.execute(f"SELECT {', '.join(_PAYMENT_COLUMNS)} FROM payments WHERE {where}{suffix}", args)
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

    def _one_payment(self, column: str, value: str, *, lock: bool = False) -> PaymentRecord | None:
        found = self._payments_where(f"{column} = ?", (value,), lock=lock)
        return found[0] if found else None

    def payment(self, payment_id: str, *, lock: bool = False) -> PaymentRecord | None:
        return self._one_payment("payment_id", payment_id, lock=lock)

    def find_payment(
        self,
        *,
        payment_id: str | None = None,
        session_id: str | None = None,
        payment_intent: str | None = None,
        lock: bool = False,
    ) -> PaymentRecord | None:
        """The attempt a provider object belongs to, by whichever link is known."""
        for column, value in (
            ("payment_id", payment_id),
            ("provider_session_id", session_id),
            ("provider_payment_intent", payment_intent),
        ):
            if value and (found := self._one_payment(column, value, lock=lock)):
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

    def payments_by_id(self, payment_ids: list[str], *, lock: bool = False) -> dict[str, PaymentRecord]:
        if not payment_ids:
            return {}
        # One array parameter keeps the SQL text constant, so the prepared statement is reused.
        found = self._payments_where(
            self.dialect.in_list("payment_id"), (self.dialect.list_param(payment_ids),), lock=lock
        )
        return {p.payment_id: p for p in found}

    def paid_attempts(self, order_ids: list[str]) -> dict[str, set[str]]:
        """Order id -> ids of its attempts that took money (paid, or refunded since)."""
        cursor = self.conn.execute(
            f"SELECT order_id, payment_id FROM payments WHERE {self.dialect.in_list('order_id')} "
            "AND status IN ('paid', 'partially_refunded', 'refunded')",
            (self.dialect.list_param(order_ids),),
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
        "amount_charged_back",
        "hold_until",
        "share_excluded",
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
                    r.amount_charged_back,
                    r.hold_until,
                    r.share_excluded,
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

    def claim_events(self, event_ids: list[str], provider: str) -> set[str]:
        """Record these event ids as being applied now; returns those that were new (the rest are repeats).

        Inside the applying transaction: on PostgreSQL another instance claiming the same id waits on the
        unique key until this transaction ends, then finds it taken, so an event delivered to two
        instances at once is applied once. In id order, so two batches never wait on each other in a cycle.
        """
        claimed: set[str] = set()
        now = utc_now()
        for event_id in sorted(set(event_ids)):
            row = self.conn.execute(
                "INSERT INTO integration_events (event_id, provider, type, payment_id, outcome, received_at, "
                "payload) VALUES (?, ?, '', NULL, 'claimed', ?, '') ON CONFLICT DO NOTHING RETURNING event_id",
                (event_id, provider, now),
            ).fetchone()
            if row is not None:
                claimed.add(event_id)
        return claimed

    def settle_events(self, rows: list[tuple[str, str, str | None, str, str]]) -> None:
        """What the claimed events turned out to be: (event_id, type, payment_id, outcome, payload)."""
        self.conn.executemany(
            "UPDATE integration_events SET type = ?, payment_id = ?, outcome = ?, payload = ? WHERE event_id = ?",
            [(type_, payment_id, outcome, payload, event_id) for event_id, type_, payment_id, outcome, payload in rows],
        )

    def unclaim_events(self, event_ids: list[str]) -> None:
        """Claimed events that are looked at again later (unlinked): as if never seen."""
        self.conn.executemany(
            "DELETE FROM integration_events WHERE event_id = ? AND outcome = 'claimed'", [(e,) for e in event_ids]
        )

    def seen_events(self, event_ids: list[str]) -> set[str]:
        if not event_ids:
            return set()
        cursor = self.conn.execute(
            f"SELECT event_id FROM integration_events WHERE {self.dialect.in_list('event_id')}",
            (self.dialect.list_param(event_ids),),
        )
        return {row[0] for row in cursor}

    def record_event(
        self, event_id: str, provider: str, type_: str, payment_id: str | None, outcome: str, payload: str
    ) -> bool:
        """False when the event id was already recorded (a repeated delivery)."""
        cursor = self.conn.execute(
            "INSERT INTO integration_events (event_id, provider, type, payment_id, outcome, received_at, payload) "
            "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
            (event_id, provider, type_, payment_id, outcome, utc_now(), payload),
        )
        return cursor.rowcount == 1

    def events_for_payments(self, payment_ids: list[str]) -> list[dict[str, Any]]:
        """What the provider (or a server-side retrieve) said about these payments, oldest first."""
        names = ("event_id", "payment_id", "type", "outcome", "received_at")
        cursor = self.conn.execute(
            f"SELECT {', '.join(names)} FROM integration_events WHERE {self.dialect.in_list('payment_id')} "
            f"ORDER BY received_at, {'id' if self.dialect.name == POSTGRES else 'rowid'}",
            (self.dialect.list_param(payment_ids),),
        )
        return [dict(zip(names, row, strict=True)) for row in cursor]

    # donations --------------------------------------------------------------
    def record_transfer(
        self, payment_id: str, transfer_id: str, partner: str, destination: str, amount: int, currency: str
    ) -> None:
        self.conn.execute(
            "INSERT INTO donation_transfers (payment_id, transfer_id, partner, destination, amount, currency, "
            "created_at) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
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
