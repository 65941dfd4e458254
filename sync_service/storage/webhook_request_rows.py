"""The raw webhook requests the service keeps (headers, body, verdict), for inspection and replay."""

from __future__ import annotations

from typing import Any

from ..models import utc_now
from .engine import POSTGRES, Connection, Dialect


class WebhookRequestRows:
    """Part of Repository (a mixin over its one connection)."""

    conn: Connection  # sqlite3's, or storage/postgres.py's with the same interface
    dialect: Dialect

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
        if self.dialect.name == POSTGRES:  # TEXT cannot hold every byte a sender chose: kept raw in bytea
            self.conn.execute(
                "INSERT INTO webhook_requests (received_at, verdict, headers, body, body_raw, error, body_size, "
                "body_sha256) VALUES (?, 'rejected', ?, '', ?, ?, ?, ?)",
                (utc_now(), headers, head, reason, size, sha256),
            )
        else:
            self.conn.execute(
                "INSERT INTO webhook_requests (received_at, verdict, headers, body, error, body_size, "
                "body_sha256) VALUES (?, 'rejected', ?, ?, ?, ?, ?)",
                (utc_now(), headers, head, reason, size, sha256),
            )
        return len(head) + len(headers.encode()) + len(reason.encode()) + len(sha256)

    @property
    def _rejected_row_bytes(self) -> str:
        """The bytes a rejected row takes: what the sender chose (body head, headers) and our reason."""
        length = self.dialect.byte_length
        body = (
            f"{length('body')} + coalesce({length('body_raw')}, 0)" if self.dialect.name == POSTGRES else length("body")
        )
        return f"{body} + {length('headers')} + coalesce({length('error')}, 0) + coalesce(length(body_sha256), 0)"

    def rejected_bytes(self) -> int:
        return int(
            self.conn.execute(
                f"SELECT coalesce(sum({self._rejected_row_bytes}), 0) FROM webhook_requests WHERE verdict = 'rejected'"
            ).fetchone()[0]
        )

    def trim_rejected_requests(self, keep: int, keep_bytes: int) -> None:
        """Forged or malformed requests are kept for inspection, but only the newest `keep` rows within
        `keep_bytes` in all."""
        self.conn.execute(
            "DELETE FROM webhook_requests WHERE verdict = 'rejected' AND id <= (SELECT id FROM ("
            f"  SELECT id, row_number() OVER newest AS n, sum({self._rejected_row_bytes}) OVER newest AS total"
            "   FROM webhook_requests WHERE verdict = 'rejected' WINDOW newest AS (ORDER BY id DESC)) AS ranked"
            " WHERE n > ? OR total > ? ORDER BY id DESC LIMIT 1)",
            (keep, keep_bytes),
        )
