"""The simulator's state in `rkeeper.sqlite`: reference data, visits, orders, counters.

One connection, used only on the server's event loop. Writes never commit by
themselves: the dispatcher runs each command inside `transaction()`, so a
command that fails half-way leaves nothing behind. An order is stored as one
JSON document (see `orders.py`), the way the cash server hands it out.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlite_utils
from sqlite_utils.migrations import Migrations

from tablepay_files import ensure_private_file

from .seed import Item, reference_data

Doc = dict[str, Any]

migrations = Migrations("tablepay_sandbox_rkeeper")

COUNTER_START = {"visit": 1000, "check": 10000, "version": 1}  # first values handed out: 1001, 10001; version 1


@migrations()
def m001_initial(db: sqlite_utils.Database) -> None:
    db.execute("""CREATE TABLE ref (collection TEXT NOT NULL, ident INTEGER NOT NULL, code TEXT NOT NULL,
        guid TEXT NOT NULL, data TEXT NOT NULL, PRIMARY KEY (collection, ident))""")
    db.execute("CREATE TABLE visits (visit_id INTEGER PRIMARY KEY, guid TEXT NOT NULL, finished INTEGER NOT NULL)")
    db.execute("""CREATE TABLE orders (seq INTEGER PRIMARY KEY AUTOINCREMENT, guid TEXT NOT NULL UNIQUE,
        visit_id INTEGER NOT NULL, order_ident INTEGER NOT NULL, data TEXT NOT NULL)""")
    db.execute("CREATE UNIQUE INDEX orders_visit ON orders(visit_id, order_ident)")
    db.execute("CREATE TABLE counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL)")


class RKStore:
    def __init__(self, path: Path) -> None:
        ensure_private_file(path)  # its -wal and -shm get the same 0600
        # check_same_thread=False: opened in the server thread's lifespan; tests may read after it stopped.
        self.conn = sqlite3.connect(str(path), check_same_thread=False)
        db = sqlite_utils.Database(self.conn)
        db.execute("PRAGMA journal_mode=WAL")
        migrations.apply(db)
        self._seed()

    def close(self) -> None:
        self.conn.close()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        with self.conn:
            yield

    def _seed(self) -> None:
        """Reference data only on the first start: afterwards the file is the truth."""
        if self.conn.execute("SELECT 1 FROM ref LIMIT 1").fetchone():
            return
        with self.conn:
            for collection, items in reference_data().items():
                for item in items:
                    self.conn.execute(
                        "INSERT INTO ref VALUES (?, ?, ?, ?, ?)",
                        [collection, item["Ident"], item["Code"], item["GUIDString"], json.dumps(item)],
                    )
            for name, value in COUNTER_START.items():
                self.conn.execute("INSERT INTO counters VALUES (?, ?)", [name, value])

    # -- reference data -----------------------------------------------------
    def refs(self, collection: str) -> list[Item]:
        rows = self.conn.execute("SELECT data FROM ref WHERE collection = ? ORDER BY ident", [collection])
        return [json.loads(r[0]) for r in rows.fetchall()]

    def find_ref(
        self, collection: str, *, ident: int | None = None, code: str | None = None, guid: str | None = None
    ) -> Item | None:
        if ident is not None:
            row = self.conn.execute("SELECT data FROM ref WHERE collection = ? AND ident = ?", [collection, ident])
        elif code is not None:
            row = self.conn.execute("SELECT data FROM ref WHERE collection = ? AND code = ?", [collection, code])
        else:
            row = self.conn.execute("SELECT data FROM ref WHERE collection = ? AND guid = ?", [collection, guid])
        found = row.fetchone()
        return json.loads(found[0]) if found else None

    # -- counters -----------------------------------------------------------
    def next_value(self, name: str) -> int:
        self.conn.execute("UPDATE counters SET value = value + 1 WHERE name = ?", [name])
        return self.counter(name)

    def counter(self, name: str) -> int:
        return int(self.conn.execute("SELECT value FROM counters WHERE name = ?", [name]).fetchone()[0])

    # -- visits and orders --------------------------------------------------
    def add_visit(self, visit_id: int, guid: str) -> None:
        self.conn.execute("INSERT INTO visits VALUES (?, ?, 0)", [visit_id, guid])

    def visit(self, visit_id: int) -> Doc | None:
        row = self.conn.execute("SELECT visit_id, guid, finished FROM visits WHERE visit_id = ?", [visit_id]).fetchone()
        return {"visit": row[0], "guid": row[1], "finished": bool(row[2])} if row else None

    def visits(self) -> list[Doc]:
        rows = self.conn.execute("SELECT visit_id, guid, finished FROM visits ORDER BY visit_id").fetchall()
        return [{"visit": r[0], "guid": r[1], "finished": bool(r[2])} for r in rows]

    def finish_visit(self, visit_id: int) -> None:
        self.conn.execute("UPDATE visits SET finished = 1 WHERE visit_id = ?", [visit_id])

    def insert_order(self, order: Doc) -> None:
        self.conn.execute(
            "INSERT INTO orders (guid, visit_id, order_ident, data) VALUES (?, ?, ?, ?)",
            [order["guid"], order["visit"], order["orderIdent"], json.dumps(order)],
        )

    def save_order(self, order: Doc) -> None:
        self.conn.execute("UPDATE orders SET data = ? WHERE guid = ?", [json.dumps(order), order["guid"]])

    def order_by_guid(self, guid: str) -> Doc | None:
        row = self.conn.execute("SELECT data FROM orders WHERE guid = ?", [guid]).fetchone()
        return json.loads(row[0]) if row else None

    def order_by_ident(self, visit_id: int, order_ident: int) -> Doc | None:
        row = self.conn.execute(
            "SELECT data FROM orders WHERE visit_id = ? AND order_ident = ?", [visit_id, order_ident]
        ).fetchone()
        return json.loads(row[0]) if row else None

    def orders(self, visit_id: int | None = None) -> list[Doc]:
        if visit_id is None:
            rows = self.conn.execute("SELECT data FROM orders ORDER BY seq")
        else:
            rows = self.conn.execute("SELECT data FROM orders WHERE visit_id = ? ORDER BY seq", [visit_id])
        return [json.loads(r[0]) for r in rows.fetchall()]
