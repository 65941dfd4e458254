"""Deliver outbox rows to other parties: at least once, bounded retries with backoff.

Handlers must be idempotent (they are given the same row again after a
crash); after `max_attempts` failures a row is parked as a dead letter.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable
from typing import Any

import structlog

from ..storage.repository import Repository

log = structlog.get_logger(__name__)

Handler = Callable[[dict[str, Any]], Awaitable[None]]


def backoff_seconds(attempts: int, *, base: float = 1.0, cap: float = 300.0) -> float:
    """Exponential backoff with full jitter, bounded by `cap`."""
    return random.uniform(0, min(cap, base * 2 ** attempts))  # noqa: S311 - jitter, not crypto


class OutboxWorker:
    def __init__(self, repo: Repository, handlers: dict[str, Handler], *, max_attempts: int,
                 idle_seconds: float = 1.0) -> None:
        self._repo = repo
        self._handlers = handlers
        self._max_attempts = max_attempts
        self._idle = idle_seconds
        self._wake = asyncio.Event()

    def wake(self) -> None:
        self._wake.set()

    async def run_once(self) -> int:
        """Deliver what is due now; returns how many rows were tried."""
        rows = self._repo.due_outbox(time.time(), 20)
        for row in rows:
            handler = self._handlers.get(row["topic"])
            try:
                if handler is None:
                    raise LookupError(f"no handler for topic {row['topic']}")
                await handler(row["payload"])
            except Exception as exc:  # noqa: BLE001 - any failure is retried, then parked
                attempts = row["attempts"] + 1
                dead = attempts >= self._max_attempts
                with self._repo.transaction():
                    self._repo.outbox_failed(row["id"], f"{type(exc).__name__}: {exc}",
                                             time.time() + backoff_seconds(attempts), dead)
                log.warning("outbox_failed", topic=row["topic"], key=row["dedupe_key"], attempts=attempts,
                            dead_letter=dead, error=str(exc))
            else:
                with self._repo.transaction():
                    self._repo.outbox_done(row["id"])
                log.info("outbox_done", topic=row["topic"], key=row["dedupe_key"])
        return len(rows)

    async def run(self) -> None:
        while True:
            try:
                tried = await self.run_once()
            except Exception:  # noqa: BLE001 - keep the worker alive; the row stays pending
                log.exception("outbox_worker_error")
                tried = 0
            if not tried:
                try:
                    await asyncio.wait_for(self._wake.wait(), self._idle)
                except TimeoutError:
                    pass
                self._wake.clear()
