"""PostgreSQL for chain mode: one psycopg 3 pool per instance, the repository's connection from it.

The repository runs on the service's event loop and was written against sqlite3's interface, so
the connection here offers the same `execute` / `executemany` (the `?` placeholders mapped to
psycopg's `%s`), in autocommit mode with the transactions explicit (`Repository.transaction`).
A statement blocks the loop for one round trip (about 0.3 ms on loopback here), like a SQLite
statement blocks it for its disk access; the pool replaces a connection that broke (a failover, a
restart of the server) between transactions.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import psycopg
import structlog
from psycopg_pool import ConnectionPool

from .engine import POSTGRES_DIALECT, Dialect, postgres_sql
from .postgres_schema import apply_migrations

log = structlog.get_logger(__name__)
CONNECT_TIMEOUT_SECONDS = 10
STATEMENT_TIMEOUT_MS = 30_000
FEED_CHANNEL = "tablepay_feed"  # payload: the kiosk id whose feed grew
# A notification lost (the listener reconnecting) delays a poll by at most this: every poll looks again.
FEED_RECHECK_SECONDS = 5.0
LISTEN_BACKOFF_SECONDS = (0.5, 10.0)


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
            kwargs={
                "connect_timeout": CONNECT_TIMEOUT_SECONDS,
                "application_name": "tablepay-sync",
                # Every statement (a lock waited for included) is bounded: the loop it runs on is never stuck.
                "options": f"-c statement_timeout={STATEMENT_TIMEOUT_MS}",
            },
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


async def listen_for_feed(
    url: str,
    notify: Callable[[str], None],
    wake_all: Callable[[], None],
    *,
    recheck_seconds: float = FEED_RECHECK_SECONDS,
) -> None:
    """Wake this instance's long polls when another instance's commit grew a kiosk's feed (LISTEN/NOTIFY).

    One dedicated connection (LISTEN needs a session of its own: not through a pooler in transaction
    mode). The table stays the truth and a notification only a hint: after a reconnect, and after
    `recheck_seconds` without any, every waiting poll looks again, so a lost one only delays."""
    backoff = LISTEN_BACKOFF_SECONDS[0]
    while True:
        try:
            async with await psycopg.AsyncConnection.connect(
                url, autocommit=True, connect_timeout=CONNECT_TIMEOUT_SECONDS, application_name="tablepay-feed"
            ) as conn:
                await conn.execute(f"LISTEN {FEED_CHANNEL}")
                wake_all()  # what was committed while nobody listened
                backoff = LISTEN_BACKOFF_SECONDS[0]
                while True:
                    async for notice in conn.notifies(timeout=recheck_seconds):
                        notify(notice.payload)
                    wake_all()
        except psycopg.Error as exc:
            log.warning("feed_listener_lost", error=str(exc).splitlines()[0][:200], retry_in=backoff)
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, LISTEN_BACKOFF_SECONDS[1])
