"""Mollie's classic webhooks: `POST id=tr_...` (form-encoded, unsigned) to the payment's webhookUrl.

Only an exact 200 counts. Anything else (another 2xx, a redirect, which is never followed,
a timeout after `webhook_timeout` s) is retried on Mollie's schedule, 10 calls in all over
about 26 hours, times `retry_time_factor`. Calls live in SQLite, so a restart resumes them.
The same loop is the fake's clock: it expires open payments at `expiresAt`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time

import httpx

from . import payments
from .runtime import Mollie
from .store import Rec

log = logging.getLogger(__name__)

# Minutes after each failed call until the next: +1, +2, +4, +8, +16, +29 min, +1 h, +2 h, +22 h.
RETRY_MINUTES = (1, 2, 4, 8, 16, 29, 60, 120, 22 * 60)
MAX_CALLS = len(RETRY_MINUTES) + 1
USER_AGENT = "Mollie.nl HTTP client/1.0 (TablePay sandbox)"


class WebhookWorker:
    def __init__(self, mollie: Mollie) -> None:
        self.mollie = mollie
        # follow_redirects=False (httpx's default, said aloud): a 301/302 is a failed call, not a hop.
        self.client = httpx.AsyncClient(timeout=mollie.options.webhook_timeout, follow_redirects=False)
        self._sending: dict[int, asyncio.Task[None]] = {}
        self._main: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._main = asyncio.create_task(self._run(), name="sandbox-mollie-webhooks")

    async def stop(self) -> None:
        tasks = [t for t in [self._main, *self._sending.values()] if t is not None]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self.client.aclose()

    async def _run(self) -> None:
        wakeup = self.mollie.wakeup
        while True:
            try:
                self._tick()
            except Exception:  # the worker must outlive one bad row; the error is logged
                log.exception("sandbox Mollie webhook worker tick failed")
            wakeup.clear()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(wakeup.wait(), timeout=self._sleep_for())

    def _tick(self) -> None:
        payments.expire_overdue(self.mollie)
        self._sending = {seq: task for seq, task in self._sending.items() if not task.done()}
        due = self.mollie.store.deliveries("status = 'pending' AND next_attempt_at <= ?", [time.time()])
        for row in due:
            if row["seq"] not in self._sending:  # one call at a time per chain; others go in parallel
                self._sending[row["seq"]] = asyncio.create_task(self._attempt(row))

    def _sleep_for(self) -> float:
        rows = self.mollie.store.deliveries("status = 'pending'")
        if not rows:
            return 1.0  # still wake each second: expiry is time based
        next_due = min(float(r["next_attempt_at"]) for r in rows)
        return min(1.0, max(0.005, next_due - time.time()))

    async def _attempt(self, row: Rec) -> None:
        store = self.mollie.store
        code, error = await self.call(row["payment_id"], row["url"])
        attempts = row["attempts"] + 1
        current = store.deliveries("seq = ?", [row["seq"]])[0]
        fields: dict[str, object] = {"attempts": attempts, "last_status_code": code, "last_error": error}
        if current["status"] != "pending":  # held or dropped meanwhile: keep that decision
            pass
        elif code == 200:
            fields |= {"status": "succeeded", "last_error": None}
        elif attempts >= MAX_CALLS:
            fields["status"] = "failed"
        else:
            delay = RETRY_MINUTES[attempts - 1] * 60 * self.mollie.options.retry_time_factor
            fields["next_attempt_at"] = time.time() + delay
        store.update_delivery(row["seq"], **fields)
        self.mollie.wakeup.set()

    async def call(self, payment_id: str, url: str) -> tuple[int | None, str | None]:
        """One call; (status code or None, why it failed or None)."""
        headers = {"Content-Type": "application/x-www-form-urlencoded", "User-Agent": USER_AGENT}
        try:
            response = await self.client.post(url, content=f"id={payment_id}".encode(), headers=headers)
        except httpx.HTTPError as exc:
            return None, f"{type(exc).__name__}: {exc}"
        error = None if response.status_code == 200 else f"HTTP {response.status_code} (only 200 counts)"
        return response.status_code, error
