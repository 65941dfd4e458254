"""Deliver outbox rows to other parties: at least once, bounded retries with backoff.

Handlers must be idempotent (they are given the same row again after a
crash); after `max_attempts` failures a row is parked as a dead letter, at
once when the error says retrying cannot help (`exc.permanent`). Rows that
share an ordering key (an order) are delivered strictly one after another.
With several instances on PostgreSQL each row is leased to one of them
(Repository.claim_outbox), renewed as its turn in the batch comes, and its
outcome is fenced by the lease's token, so a row another instance has taken
over is not delivered by both at once.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

import structlog

from ..storage.repository import Repository

log = structlog.get_logger(__name__)

Handler = Callable[[dict[str, Any]], Awaitable[None]]
Row = dict[str, Any]


class WorkSignal:
    """How producers tell the worker that a commit queued rows: built first, passed to both sides."""

    def __init__(self) -> None:
        self._event = asyncio.Event()

    def notify(self) -> None:
        self._event.set()

    async def wait(self, timeout: float) -> None:
        try:
            await asyncio.wait_for(self._event.wait(), timeout)
        except TimeoutError:
            pass
        self._event.clear()


class DeliveryObserver(Protocol):
    """Told, inside the transaction, when a row is parked or put back in line (e.g. to show it to a kiosk)."""

    def parked(self, row: Row, error: str) -> None: ...

    def retried(self, row: Row) -> None: ...


def backoff_seconds(attempts: int, *, base: float = 1.0, cap: float = 300.0) -> float:
    """Exponential backoff with full jitter, bounded by `cap`."""
    return random.uniform(0, min(cap, base * 2**attempts))


class OutboxWorker:
    def __init__(
        self,
        repo: Repository,
        handlers: dict[str, Handler],
        *,
        max_attempts: int,
        work: WorkSignal | None = None,
        observers: dict[str, DeliveryObserver] | None = None,
        idle_seconds: float = 1.0,
        backoff_base: float = 1.0,
        backoff_cap: float = 300.0,
        lease_seconds: float = 60.0,
    ) -> None:
        """`observers`: topic -> who is told when a row of that topic is parked or retried."""
        self._repo = repo
        self._handlers = handlers
        self._max_attempts = max_attempts
        self._idle = idle_seconds
        self._base, self._cap = backoff_base, backoff_cap
        self._work = work or WorkSignal()
        self._observers = observers or {}
        self._lease = lease_seconds

    def retry(self, row_id: int) -> Row | None:
        """Put a dead letter back in line (a manager's action); None if there is no such dead letter of
        this restaurant's payments and orders (see Repository.outbox_rows)."""
        with self._repo.transaction():
            rows = self._repo.outbox_rows(row_id=row_id, state="dead", of_known_orders=True)
            if not rows or not self._repo.retry_dead_letter(row_id):
                return None
            if observer := self._observers.get(rows[0]["topic"]):
                observer.retried(rows[0])
        log.info("outbox_retry", topic=rows[0]["topic"], key=rows[0]["dedupe_key"])
        self.wake()
        return self._repo.outbox_rows(row_id=row_id)[0]

    def wake(self) -> None:
        self._work.notify()

    async def run_once(self) -> int:
        """Deliver what is due now; returns how many rows were tried."""
        rows = self._repo.claim_outbox(time.time(), 20, self._lease)
        for row in rows:
            # The rows of a claim go one after another: each row's lease is renewed as its turn comes, and a
            # row another instance took over meanwhile (the lease ran out during an earlier, slow delivery)
            # is theirs now, so two instances never deliver it at once.
            if not self._repo.renew_outbox_lease(row["id"], row["lease_token"], time.time() + self._lease):
                log.warning("outbox_lease_lost", topic=row["topic"], key=row["dedupe_key"])
                continue
            handler = self._handlers.get(row["topic"])
            try:
                if handler is None:
                    raise LookupError(f"no handler for topic {row['topic']}")
                await handler(row["payload"])
            except Exception as exc:  # noqa: BLE001 - any failure is retried, then parked
                attempts = row["attempts"] + 1
                dead = attempts >= self._max_attempts or bool(getattr(exc, "permanent", False))
                error = f"{type(exc).__name__}: {exc}"
                with self._repo.transaction():
                    recorded = self._repo.outbox_failed(
                        row["id"],
                        error,
                        time.time() + backoff_seconds(attempts, base=self._base, cap=self._cap),
                        dead,
                        row["lease_token"],
                    )
                    if recorded and dead and (observer := self._observers.get(row["topic"])):
                        observer.parked(row, error)
                if not recorded:
                    log.warning("outbox_lease_lost", topic=row["topic"], key=row["dedupe_key"])
                    continue
                log.warning(
                    "outbox_failed",
                    topic=row["topic"],
                    key=row["dedupe_key"],
                    attempts=attempts,
                    dead_letter=dead,
                    error=str(exc),
                )
            else:
                with self._repo.transaction():
                    recorded = self._repo.outbox_done(row["id"], row["lease_token"])
                # Not recorded: this worker's lease ran out and another instance delivered the row again
                # (handlers are idempotent); the newer worker's outcome stands.
                log.info("outbox_done" if recorded else "outbox_lease_lost", topic=row["topic"], key=row["dedupe_key"])
        return len(rows)

    async def run(self) -> None:
        while True:
            try:
                tried = await self.run_once()
            except Exception:
                log.exception("outbox_worker_error")
                tried = 0
            if not tried:
                due = self._repo.next_outbox_due()
                pause = self._idle if due is None else min(self._idle, max(0.0, due - time.time()))
                await self._work.wait(pause)
