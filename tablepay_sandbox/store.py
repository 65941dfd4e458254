"""All sandbox state in one SQLite file (WAL), written through this one class.

Every handler and the webhook worker run on the server's single event loop and
never await while holding a transaction, so this object is the one writer the
datasette habit asks for, without a lock. Objects are stored as the exact JSON
Stripe would return; `seq` (insertion order) gives lists a stable newest-first
order even when many objects share a `created` second.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlite_utils
from sqlite_utils.migrations import Migrations

from tablepay_files import ensure_private_file

from .errors import invalid_request, no_such
from .tables import SharedTables

Obj = dict[str, Any]

migrations = Migrations("tablepay_sandbox")


@migrations()
def m001_initial(db: sqlite_utils.Database) -> None:
    db.execute("""CREATE TABLE objects (
        seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE, type TEXT NOT NULL,
        created INTEGER NOT NULL, data TEXT NOT NULL, private TEXT NOT NULL DEFAULT '{}')""")
    db.execute("CREATE INDEX objects_type ON objects(type, seq)")
    db.execute("""CREATE TABLE deliveries (
        seq INTEGER PRIMARY KEY AUTOINCREMENT, event_id TEXT NOT NULL, event_type TEXT NOT NULL,
        endpoint_id TEXT NOT NULL, url TEXT NOT NULL, status TEXT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0, next_attempt_at REAL NOT NULL,
        last_status_code INTEGER, last_error TEXT, created REAL NOT NULL, updated REAL NOT NULL)""")
    db.execute("CREATE INDEX deliveries_due ON deliveries(status, next_attempt_at)")
    db.execute("""CREATE TABLE idempotency (
        api_key TEXT NOT NULL, key TEXT NOT NULL, request_hash TEXT NOT NULL,
        status INTEGER NOT NULL, body TEXT NOT NULL, created REAL NOT NULL,
        PRIMARY KEY (api_key, key))""")
    db.execute("CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL)")


@migrations()
def m002_hash_api_keys(db: sqlite_utils.Database) -> None:
    """Idempotency rows are scoped by the API key's sha256, not the key (see idempotency.py)."""
    db.conn.create_function(
        "sha256_hex", 1, lambda key: hashlib.sha256(key.encode("utf-8")).hexdigest(), deterministic=True
    )
    db.execute("PRAGMA secure_delete=ON")  # the overwritten clear keys are zeroed, not left in free space
    db.execute("ALTER TABLE idempotency RENAME COLUMN api_key TO api_key_sha256")
    db.execute("UPDATE idempotency SET api_key_sha256 = sha256_hex(api_key_sha256)")


class Store(SharedTables):
    def __init__(self, path: Path) -> None:
        ensure_private_file(path)  # its -wal and -shm get the same 0600
        # check_same_thread=False: created in the server thread's lifespan but
        # tests may read it after the server stopped; access is never concurrent.
        conn = sqlite3.connect(str(path), check_same_thread=False)
        self.conn = conn
        self.db = sqlite_utils.Database(conn)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA busy_timeout=5000")
        migrations.apply(self.db)

    def close(self) -> None:
        self.db.conn.close()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        with self.db.conn:
            yield

    # -- objects -----------------------------------------------------------
    def insert(self, obj: Obj, private: Obj | None = None) -> Obj:
        with self.db.conn:
            self._exec(
                "INSERT INTO objects (id, type, created, data, private) VALUES (?, ?, ?, ?, ?)",
                [obj["id"], obj["object"], obj["created"], json.dumps(obj), json.dumps(private or {})],
            )
        return obj

    def save(self, obj: Obj) -> Obj:
        with self.db.conn:
            self._exec("UPDATE objects SET data = ? WHERE id = ?", [json.dumps(obj), obj["id"]])
        return obj

    def delete(self, object_id: str) -> None:
        with self.db.conn:
            self._exec("DELETE FROM objects WHERE id = ?", [object_id])

    def get(self, object_id: str) -> Obj | None:
        row = self._exec("SELECT data FROM objects WHERE id = ?", [object_id]).fetchone()
        return json.loads(row[0]) if row else None

    def require(self, object_id: str, kind: str, *, param: str = "id") -> Obj:
        obj = self.get(object_id)
        if obj is None or obj["object"] != kind:
            raise no_such(kind, object_id, param=param)
        return obj

    def private(self, object_id: str) -> Obj:
        row = self._exec("SELECT private FROM objects WHERE id = ?", [object_id]).fetchone()
        return json.loads(row[0]) if row else {}

    def set_private(self, object_id: str, private: Obj) -> None:
        with self.db.conn:
            self._exec("UPDATE objects SET private = ? WHERE id = ?", [json.dumps(private), object_id])

    def seq_of(self, object_id: str, kind: str, param: str) -> int:
        row = self._exec("SELECT seq FROM objects WHERE id = ? AND type = ?", [object_id, kind]).fetchone()
        if not row:
            raise invalid_request(f"No such {kind}: '{object_id}'", param=param, code="resource_missing")
        return int(row[0])

    def page(
        self,
        kind: str,
        where: Sequence[tuple[str, Any]],
        *,
        limit: int,
        starting_after: str | None,
        ending_before: str | None,
    ) -> tuple[list[Obj], bool]:
        """One page of a Stripe list, newest first; `where` holds (SQL fragment, arg) pairs."""
        clauses = ["type = ?"] + [clause for clause, _ in where]
        args: list[Any] = [kind] + [arg for _, arg in where]
        order = "DESC"
        if starting_after:
            clauses.append("seq < ?")
            args.append(self.seq_of(starting_after, kind, "starting_after"))
        elif ending_before:
            clauses.append("seq > ?")
            args.append(self.seq_of(ending_before, kind, "ending_before"))
            order = "ASC"  # take the `limit` objects just newer than the cursor
        sql = f"SELECT data FROM objects WHERE {' AND '.join(clauses)} ORDER BY seq {order} LIMIT ?"
        rows = [json.loads(r[0]) for r in self._exec(sql, [*args, limit + 1]).fetchall()]
        has_more = len(rows) > limit
        rows = rows[:limit]
        if order == "ASC":
            rows.reverse()
        return rows, has_more

    def all_of(self, kind: str, where: Sequence[tuple[str, Any]] = ()) -> list[Obj]:
        clauses = ["type = ?"] + [clause for clause, _ in where]
        sql = f"SELECT data FROM objects WHERE {' AND '.join(clauses)} ORDER BY seq"
        return [json.loads(r[0]) for r in self._exec(sql, [kind, *[a for _, a in where]]).fetchall()]

    # -- webhook deliveries ------------------------------------------------
    def add_delivery(self, event: Obj, endpoint: Obj, status: str) -> None:
        now = time.time()
        with self.db.conn:
            self._exec(
                """INSERT INTO deliveries (event_id, event_type, endpoint_id, url, status,
                          next_attempt_at, created, updated) VALUES (?, ?, ?, ?, ?, ?, ?, ?)""",
                [event["id"], event["type"], endpoint["id"], endpoint["url"], status, now, now, now],
            )

    def pending_webhooks(self, event_id: str) -> int:
        row = self._exec(
            "SELECT COUNT(*) FROM deliveries WHERE event_id = ? AND status IN ('pending', 'held')", [event_id]
        ).fetchone()
        return int(row[0])
