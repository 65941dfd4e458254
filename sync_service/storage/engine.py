"""The two storage engines behind one repository: SQLite (the embedded default) and PostgreSQL (chain mode).

The repository's SQL is written once, with `?` placeholders and the syntax both engines share
(`ON CONFLICT ... DO NOTHING`, `RETURNING`). What differs stays here, in plain sight: how a write
transaction starts, how a list is passed, how a JSON field or a byte length is read. The outbox
claim and the feed's sequence differ too; they live with their SQL (outbox_rows.py, repository.py)
and ask `dialect.name`.

Why not SQLAlchemy Core: about forty statements, most of them the same on both engines; Core would
translate the placeholders and hide the few differences, which are exactly what must stay visible
(`FOR UPDATE SKIP LOCKED` is silently dropped on SQLite by Core).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

SQLITE, POSTGRES = "sqlite", "postgres"


class Cursor(Protocol):
    @property
    def rowcount(self) -> int: ...

    def fetchone(self) -> Any: ...
    def fetchall(self) -> list[Any]: ...
    def __iter__(self) -> Iterator[Any]: ...


class Connection(Protocol):
    """What the repository uses of a connection: sqlite3's interface, which the PostgreSQL one mimics."""

    def execute(self, sql: str, parameters: Sequence[Any] = ..., /) -> Cursor: ...
    def executemany(self, sql: str, parameters: Iterable[Sequence[Any]], /) -> Cursor: ...


@dataclass(frozen=True)
class Dialect:
    name: str  # SQLITE or POSTGRES
    begin: str  # the statement that starts a write transaction

    def in_list(self, column: str) -> str:
        """`column` is one of the values passed with `list_param` (one placeholder)."""
        if self.name == POSTGRES:
            return f"{column} = ANY(?)"
        return f"{column} IN (SELECT value FROM json_each(?))"

    def list_param(self, values: Sequence[Any]) -> Any:
        return list(values) if self.name == POSTGRES else json.dumps(list(values))

    def json_text(self, column: str, key: str) -> str:
        """A top-level text field of a JSON column."""
        if self.name == POSTGRES:
            return f"({column}::jsonb ->> '{key}')"
        return f"json_extract({column}, '$.{key}')"

    def byte_length(self, column: str) -> str:
        if self.name == POSTGRES:
            return f"octet_length({column})"
        return f"length(CAST({column} AS BLOB))"

    @property
    def for_update(self) -> str:
        """Lock the rows read until the transaction ends (PostgreSQL); SQLite's writer already holds them all."""
        return " FOR UPDATE" if self.name == POSTGRES else ""

    @property
    def insertion_order(self) -> str:
        """A column that orders rows of a table without its own id as they were inserted."""
        return "ctid" if self.name == POSTGRES else "rowid"


# SQLite: BEGIN IMMEDIATE takes the write lock at once, so two writers never deadlock on an upgrade.
SQLITE_DIALECT = Dialect(SQLITE, "BEGIN IMMEDIATE")
# PostgreSQL: READ COMMITTED; the rows a decision depends on are locked with FOR UPDATE where read.
POSTGRES_DIALECT = Dialect(POSTGRES, "BEGIN")

_PLACEHOLDER = re.compile(r"\?")


def postgres_sql(sql: str) -> str:
    """The repository's `?` placeholders as psycopg's `%s` (a literal `%` doubled). The repository's SQL
    holds no `?` or `%` inside string literals; `tests/service/test_storage_contract.py` keeps it so."""
    return _PLACEHOLDER.sub("%s", sql.replace("%", "%%"))
