"""The tables both fakes' stores have (Stripe's `sandbox.sqlite`, Mollie's `mollie.sqlite`):
idempotency results, webhook deliveries and settings, on one connection.

The schemas match by name: `idempotency(api_key_sha256, key, request_hash, status, body,
created)`, `deliveries(seq, ..., status, next_attempt_at, updated)` and `settings(key, value)`.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Sequence
from typing import Any


class SharedTables:
    conn: sqlite3.Connection

    def _exec(self, sql: str, args: Sequence[Any] = ()) -> sqlite3.Cursor:
        return self.conn.execute(sql, tuple(args))

    # -- idempotency -------------------------------------------------------
    def idempotent_result(self, api_key_sha256: str, key: str, max_age: float) -> dict[str, Any] | None:
        row = self._exec(
            "SELECT request_hash, status, body, created FROM idempotency WHERE api_key_sha256 = ? AND key = ?",
            [api_key_sha256, key],
        ).fetchone()
        if not row or row[3] < time.time() - max_age:
            return None
        return {"request_hash": row[0], "status": row[1], "body": row[2]}

    def store_idempotent(self, api_key_sha256: str, key: str, request_hash: str, status: int, body: str) -> None:
        with self.conn:
            self._exec(
                "INSERT OR REPLACE INTO idempotency VALUES (?, ?, ?, ?, ?, ?)",
                [api_key_sha256, key, request_hash, status, body, time.time()],
            )

    # -- webhook deliveries ------------------------------------------------
    def deliveries(self, where: str = "1", args: Sequence[Any] = ()) -> list[dict[str, Any]]:
        cursor = self._exec(f"SELECT * FROM deliveries WHERE {where} ORDER BY seq", args)
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    def update_delivery(self, seq: int, **fields: Any) -> None:
        fields["updated"] = time.time()
        sets = ", ".join(f"{name} = ?" for name in fields)
        with self.conn:
            self._exec(f"UPDATE deliveries SET {sets} WHERE seq = ?", [*fields.values(), seq])

    # -- settings ----------------------------------------------------------
    def setting(self, key: str, default: str) -> str:
        row = self._exec("SELECT value FROM settings WHERE key = ?", [key]).fetchone()
        return str(row[0]) if row else default

    def set_setting(self, key: str, value: str) -> None:
        with self.conn:
            self._exec("INSERT OR REPLACE INTO settings VALUES (?, ?)", [key, value])
