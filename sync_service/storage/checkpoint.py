"""Checkpoint the WAL from a background thread, off the event loop.

SQLite's automatic checkpoint runs inside whichever COMMIT crosses the
threshold and syncs the database file: on the event loop that stalls every
request for milliseconds. This thread copies the WAL into the database with
PASSIVE checkpoints (never blocking the writer) on its own connection; the
writer keeps a high automatic threshold only as a backstop.
"""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import structlog

log = structlog.get_logger(__name__)

BACKSTOP_PAGES = 20_000  # ~80 MB of WAL before the writer checkpoints by itself


class BackgroundCheckpointer:
    def __init__(self, path: Path, *, interval_seconds: float = 5.0) -> None:
        self._path = path
        self._interval = interval_seconds
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="sqlite-checkpoint", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _run(self) -> None:
        conn = sqlite3.connect(self._path, timeout=5, check_same_thread=True)
        try:
            while not self._stop.wait(self._interval):
                try:
                    conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
                except sqlite3.Error as exc:  # busy or locked: the next round tries again
                    log.warning("wal_checkpoint_failed", error=str(exc))
            conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        finally:
            conn.close()
