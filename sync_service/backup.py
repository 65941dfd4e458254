"""`tablepay sync backup PATH`: a consistent copy of the service's SQLite store while it runs.

SQLite's online backup API (sqlite3.Connection.backup) copies the database page by page under a read
transaction, so the copy is one consistent moment even while the service writes (WAL: readers do
not block the writer). The copy is written next to its target as `.part`, checked with
`PRAGMA integrity_check`, then renamed into place: a backup file that exists is a whole one.
"""

from __future__ import annotations

import os
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

from tablepay_files import ensure_private_file


class BackupError(RuntimeError):
    pass


POSTGRES_BACKUP = """tablepay sync backup copies the SQLite file of one instance; this service runs on PostgreSQL
(TABLEPAY_DATABASE_URL), which backs itself up:
  pg_dump --format=custom --file=/var/backups/tablepay/sync-$(date -u +%Y%m%dT%H%M%SZ).dump "$TABLEPAY_DATABASE_URL"
a consistent snapshot while every instance keeps running (restore: pg_restore --clean --dbname=...);
for point-in-time recovery, pg_basebackup with WAL archiving. See docs/operations.md, "Several instances"."""


def backup_database(source: Path, target: Path) -> Path:
    """Copy `source` to `target` (a file, or a directory to put a timestamped file in); returns the file."""
    if not source.is_file():
        raise BackupError(f"no database at {source}: is TABLEPAY_DATA_DIR (or --data-dir) the service's?")
    if target.is_dir():
        target = target / f"{source.stem}-{datetime.now(UTC).strftime('%Y%m%dT%H%M%SZ')}.sqlite"
    if target.exists():
        raise BackupError(f"{target} exists already: pick a new name or a directory")
    partial = target.with_name(target.name + ".part")
    partial.unlink(missing_ok=True)  # left by a backup that was killed: its mode is not ours to trust
    ensure_private_file(partial)  # a copy of everything in the store: 0600 from its first byte
    src = sqlite3.connect(source, timeout=30)
    try:
        dst = sqlite3.connect(partial)
        try:
            src.backup(dst)
            dst.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, no -wal beside it
            verdict = dst.execute("PRAGMA integrity_check").fetchone()[0]
        finally:
            dst.close()
    finally:
        src.close()
    if verdict != "ok":
        partial.unlink(missing_ok=True)
        raise BackupError(f"the copy failed its integrity check ({verdict}); the original was not changed")
    os.replace(partial, target)
    return target


def summary(path: Path) -> str:
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as conn:
        payments = conn.execute("SELECT count(*) FROM payments").fetchone()[0]
    return f"{path} ({path.stat().st_size / 2**20:.1f} MB, {payments} payments, integrity ok)"
