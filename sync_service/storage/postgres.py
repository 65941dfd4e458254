"""PostgreSQL for chain mode: one psycopg 3 pool per instance, the repository's connection from it.

The repository runs on the service's event loop and was written against sqlite3's interface, so
the connection here offers the same `execute` / `executemany` (the `?` placeholders mapped to
psycopg's `%s`), in autocommit mode with the transactions explicit (`Repository.transaction`).
A statement blocks the loop for one round trip (about 0.3 ms on loopback here), like a SQLite
statement blocks it for its disk access; the pool replaces a connection that broke (a failover, a
restart of the server) between transactions.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import psycopg
import structlog
from psycopg_pool import ConnectionPool

from .engine import POSTGRES_DIALECT, Dialect, postgres_sql
from .postgres_schema import apply_migrations

log = structlog.get_logger(__name__)
CONNECT_TIMEOUT_SECONDS = 10


class PostgresConnection:
    """sqlite3's `execute`/`executemany` on a pooled psycopg connection."""

    def __init__(self, pool: ConnectionPool[psycopg.Connection[Any]]) -> None:
        self._pool = pool
        self._conn = self._fresh()
        self._in_transaction = False

    def _fresh(self) -> psycopg.Connection[Any]:
        conn = self._pool.getconn(timeout=CONNECT_TIMEOUT_SECONDS)
        conn.autocommit = True
        return conn

    def _usable(self) -> psycopg.Connection[Any]:
        if (self._conn.closed or self._conn.broken) and not self._in_transaction:
            log.warning("postgres_reconnect")
            self._pool.putconn(self._conn)
            self._conn = self._fresh()
        return self._conn

    def execute(self, sql: str, parameters: Sequence[Any] = (), /) -> psycopg.Cursor[Any]:
        return self._usable().execute(postgres_sql(sql), parameters)

    def executemany(self, sql: str, parameters: Iterable[Sequence[Any]], /) -> psycopg.Cursor[Any]:
        cursor = self._usable().cursor()
        cursor.executemany(postgres_sql(sql), list(parameters))
        return cursor

    def begin(self) -> None:
        self.execute(POSTGRES_DIALECT.begin)
        self._in_transaction = True

    def end(self, commit: bool) -> None:
        try:
            self._conn.execute("COMMIT" if commit else "ROLLBACK")
        finally:
            self._in_transaction = False

    def close(self) -> None:
        self._pool.putconn(self._conn)


class PostgresDatabase:
    """What `Repository` needs: a connection and its dialect (sqlite_utils.Database's `.conn`, for SQLite)."""

    dialect: Dialect = POSTGRES_DIALECT

    def __init__(self, url: str, *, pool_size: int = 4) -> None:
        self.url = url
        self.pool: ConnectionPool[psycopg.Connection[Any]] = ConnectionPool(
            url,
            min_size=1,
            max_size=pool_size,
            open=True,
            timeout=CONNECT_TIMEOUT_SECONDS,
            kwargs={"connect_timeout": CONNECT_TIMEOUT_SECONDS, "application_name": "tablepay-sync"},
        )
        with self.pool.connection() as conn:
            apply_migrations(conn)
        self.conn = PostgresConnection(self.pool)

    def close(self) -> None:
        self.conn.close()
        self.pool.close()


def open_postgres(url: str) -> PostgresDatabase:
    """Connect, migrate (once, under an advisory lock, whichever instance comes first), and hand it over."""
    return PostgresDatabase(url)
