"""Reading the service's database from a test, whichever engine it runs on."""

from __future__ import annotations

from types import TracebackType
from typing import Any

import psycopg

from sync_service.storage.engine import postgres_sql


class PostgresReader:
    """`with h.db() as conn: conn.execute("... ?", args).fetchall()` on PostgreSQL, as sqlite3 offers it;
    each use is its own connection in autocommit mode, so it sees only committed rows."""

    def __init__(self, url: str) -> None:
        self._conn = psycopg.connect(url, autocommit=True)

    def execute(self, sql: str, parameters: Any = ()) -> psycopg.Cursor[Any]:
        return self._conn.execute(postgres_sql(sql), parameters)

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> PostgresReader:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        self.close()
