"""The outbox: work for other parties written with the change that causes it, claimed in order."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

from ..models import utc_now
from .engine import POSTGRES, Connection, Dialect
from .partner_rows import PARTNER_TOPIC


class OutboxRows:
    """Part of Repository (a mixin over its one connection)."""

    conn: Connection  # sqlite3's, or storage/postgres.py's with the same interface
    dialect: Dialect

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
            "INSERT INTO outbox (topic, dedupe_key, payment_id, payload, next_attempt_at, created_at, "
            "ordering_key) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
            (topic, dedupe_key, payment_id, json.dumps(payload), time.time(), utc_now(), ordering_key),
        )
        return cursor.rowcount > 0

    # Pending, and no earlier row of the same ordering key is still pending or parked. Partners' webhooks
    # have a worker of their own (partner_rows.py), so a slow partner never holds up this one's claims.
    _UNBLOCKED = (
        f"state = 'pending' AND topic != '{PARTNER_TOPIC}' AND (ordering_key IS NULL OR NOT EXISTS "
        "(SELECT 1 FROM outbox AS e WHERE e.ordering_key = o.ordering_key AND e.id < o.id AND e.state != 'done'))"
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

    def claim_outbox(self, now: float, limit: int, lease_seconds: float) -> list[dict[str, Any]]:
        """The rows this instance delivers now, each with the `lease_token` its outcome must present.

        SQLite (one instance): the due rows, no lease. PostgreSQL (several instances): each row is leased
        until `now + lease_seconds` with FOR UPDATE SKIP LOCKED, so two instances never take the same
        row and a dead instance's rows are taken over once its lease ran out; only the oldest row not
        done of an ordering key can be claimed, so an order's steps keep their order across instances.
        """
        if self.dialect.name != POSTGRES:
            return [{**row, "lease_token": None} for row in self.due_outbox(now, limit)]
        token = uuid.uuid4().hex
        cursor = self.conn.execute(
            "UPDATE outbox SET lease_until = ?, lease_token = ? WHERE id IN (SELECT o.id FROM outbox AS o "
            f"WHERE {self._UNBLOCKED} AND next_attempt_at <= ? AND (lease_until IS NULL OR lease_until < ?) "
            "ORDER BY o.id LIMIT ? FOR UPDATE OF o SKIP LOCKED) "
            "RETURNING id, topic, dedupe_key, payment_id, payload, attempts, lease_token",
            (now + lease_seconds, token, now, now, limit),
        )
        names = ("id", "topic", "dedupe_key", "payment_id", "payload", "attempts", "lease_token")
        rows = [{**dict(zip(names, row, strict=True)), "payload": json.loads(row[4])} for row in cursor]
        return sorted(rows, key=lambda row: int(row["id"]))

    def renew_outbox_lease(self, row_id: int, lease_token: str | None, until: float) -> bool:
        """Whether this worker still holds the row's lease (then extended to `until`), asked as the row's turn comes:
        the rows of one claim are delivered one after another, so the lease must cover each row's own delivery,
        not the batch's. False: the lease ran out and another instance took the row over; it is theirs now.
        SQLite (one instance, no lease): always True."""
        if lease_token is None:
            return True
        cursor = self.conn.execute(
            "UPDATE outbox SET lease_until = ? WHERE id = ? AND lease_token = ? AND state = 'pending'",
            (until, row_id, lease_token),
        )
        return cursor.rowcount > 0

    @property
    def _fenced(self) -> str:
        """Only the holder of the row's current lease may record its outcome (null-safe on both engines)."""
        return "lease_token IS NOT DISTINCT FROM ?" if self.dialect.name == POSTGRES else "lease_token IS ?"

    def outbox_done(self, row_id: int, lease_token: str | None = None) -> bool:
        """False when the row's lease was taken over meanwhile: a newer worker's result stands."""
        cursor = self.conn.execute(
            "UPDATE outbox SET state = 'done', done_at = ?, lease_until = NULL, lease_token = NULL "
            f"WHERE id = ? AND {self._fenced}",
            (utc_now(), row_id, lease_token),
        )
        return cursor.rowcount > 0

    def outbox_failed(
        self, row_id: int, error: str, next_attempt_at: float, dead: bool, lease_token: str | None = None
    ) -> bool:
        """False when the row's lease was taken over meanwhile (see outbox_done)."""
        cursor = self.conn.execute(
            "UPDATE outbox SET attempts = attempts + 1, last_error = ?, next_attempt_at = ?, state = ?, "
            f"lease_until = NULL, lease_token = NULL WHERE id = ? AND {self._fenced}",
            (error[:2000], next_attempt_at, "dead" if dead else "pending", row_id, lease_token),
        )
        return cursor.rowcount > 0

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
    @property
    def _of_known_order(self) -> str:
        return (
            "(payment_id IN (SELECT payment_id FROM payments) "
            f"OR {self.dialect.json_text('payload', 'order_id')} IN (SELECT order_id FROM orders))"
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
        clauses = [c for c, _ in where] + ([self._of_known_order] if of_known_orders else [])
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
