"""The Mollie fake's state in `mollie.sqlite`: payments, refunds, chargebacks, routes,
idempotency results, webhook calls and settings.

Its own file beside `sandbox.sqlite`, as the R-Keeper simulator has: the two fakes share no
rows, and each file's migrations stay its own. Records are JSON documents in integer minor
units (the views turn them into Mollie's strings); `seq` orders lists newest first. One
connection, used only on the server's event loop, never across an await.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import sqlite_utils
from sqlite_utils.migrations import Migrations

from tablepay_files import ensure_private_file

from ..tables import SharedTables

Rec = dict[str, Any]
DB_NAME = "mollie.sqlite"

migrations = Migrations("tablepay_sandbox_mollie")


@migrations()
def m001_initial(db: sqlite_utils.Database) -> None:
    db.execute("""CREATE TABLE records (seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE,
        kind TEXT NOT NULL, payment_id TEXT, data TEXT NOT NULL)""")
    db.execute("CREATE INDEX records_kind ON records(kind, payment_id, seq)")
    db.execute("""CREATE TABLE idempotency (api_key_sha256 TEXT NOT NULL, key TEXT NOT NULL,
        request_hash TEXT NOT NULL, status INTEGER NOT NULL, body TEXT NOT NULL, created REAL NOT NULL,
        PRIMARY KEY (api_key_sha256, key))""")
    db.execute("""CREATE TABLE deliveries (seq INTEGER PRIMARY KEY AUTOINCREMENT, payment_id TEXT NOT NULL,
        trigger TEXT NOT NULL, url TEXT NOT NULL, status TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt_at REAL NOT NULL, last_status_code INTEGER, last_error TEXT,
        created REAL NOT NULL, updated REAL NOT NULL)""")
    db.execute("CREATE INDEX deliveries_due ON deliveries(status, next_attempt_at)")
    db.execute("CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL)")


class MollieStore(SharedTables):
    def __init__(self, path: Path) -> None:
        ensure_private_file(path)  # its -wal and -shm get the same 0600
        # check_same_thread=False: opened in the server thread's lifespan; tests may read after it stopped.
        self.conn = sqlite3.connect(str(path), check_same_thread=False)
        db = sqlite_utils.Database(self.conn)
        db.execute("PRAGMA journal_mode=WAL")
        migrations.apply(db)

    def close(self) -> None:
        self.conn.close()

    # -- records -----------------------------------------------------------
    def insert(self, kind: str, rec: Rec) -> Rec:
        with self.conn:
            self._exec(
                "INSERT INTO records (id, kind, payment_id, data) VALUES (?, ?, ?, ?)",
                [rec["id"], kind, rec.get("payment_id"), json.dumps(rec)],
            )
        return rec

    def save(self, rec: Rec) -> Rec:
        with self.conn:
            self._exec("UPDATE records SET data = ? WHERE id = ?", [json.dumps(rec), rec["id"]])
        return rec

    def get(self, kind: str, record_id: str) -> Rec | None:
        row = self._exec("SELECT data FROM records WHERE id = ? AND kind = ?", [record_id, kind]).fetchone()
        return json.loads(row[0]) if row else None

    def children(self, kind: str, payment_id: str) -> list[Rec]:
        """Oldest first: the order refunds, chargebacks and routes were made in."""
        rows = self._exec("SELECT data FROM records WHERE kind = ? AND payment_id = ? ORDER BY seq", [kind, payment_id])
        return [json.loads(r[0]) for r in rows.fetchall()]

    def all_of(self, kind: str, where: str = "1", args: Sequence[Any] = ()) -> list[Rec]:
        rows = self._exec(f"SELECT data FROM records WHERE kind = ? AND ({where}) ORDER BY seq", [kind, *args])
        return [json.loads(r[0]) for r in rows.fetchall()]

    def page(
        self, kind: str, from_id: str | None, limit: int, payment_id: str | None = None
    ) -> tuple[list[Rec], str | None, str | None]:
        """Newest first from `from_id` (inclusive): (records, next page's `from`, previous page's `from`)."""
        clauses, args = ["kind = ?"], [kind]
        if payment_id is not None:
            clauses.append("payment_id = ?")
            args.append(payment_id)
        scope = " AND ".join(clauses)
        start: int | None = None
        if from_id:
            row = self._exec(f"SELECT seq FROM records WHERE id = ? AND {scope}", [from_id, *args]).fetchone()
            start = int(row[0]) if row else -1
        upto = "" if start is None else " AND seq <= ?"
        sql = f"SELECT id, data FROM records WHERE {scope}{upto} ORDER BY seq DESC LIMIT ?"
        rows = self._exec(sql, [*args, *([] if start is None else [start]), limit + 1]).fetchall()
        next_from = rows[limit][0] if len(rows) > limit else None
        previous_from = None
        if start is not None:
            newer = self._exec(
                f"SELECT id FROM records WHERE {scope} AND seq > ? ORDER BY seq ASC LIMIT ?", [*args, start, limit]
            ).fetchall()
            previous_from = newer[-1][0] if newer else None
        return [json.loads(r[1]) for r in rows[:limit]], next_from, previous_from

    # -- webhook calls -----------------------------------------------------
    def add_delivery(self, payment_id: str, trigger: str, url: str, status: str) -> None:
        now = time.time()
        with self.conn:
            self._exec(
                """INSERT INTO deliveries (payment_id, trigger, url, status, next_attempt_at, created, updated)
                   VALUES (?, ?, ?, ?, ?, ?, ?)""",
                [payment_id, trigger, url, status, now, now, now],
            )
