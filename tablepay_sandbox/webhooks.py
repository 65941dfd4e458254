"""Webhook signing and the delivery worker.

Deliveries live in SQLite (one row per event x endpoint), so a restart resumes
whatever was pending. The worker runs on the server's event loop: one drain
task per endpoint sends that endpoint's due deliveries in event order; a
failing delivery is rescheduled with exponential backoff and the next event is
tried at once, so one bad event never blocks the others.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import logging
import time
from typing import Any

import httpx

from .runtime import Runtime
from .store import Obj

log = logging.getLogger(__name__)

USER_AGENT = "Stripe/1.0 (+https://stripe.com/docs/webhooks)"


def sign(payload: str, secret: str, timestamp: int | None = None) -> str:
    """Stripe's scheme: `t=<unix>,v1=<hex HMAC-SHA256(secret, "<t>.<payload>")>`."""
    t = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode("utf-8"), f"{t}.{payload}".encode(), hashlib.sha256).hexdigest()
    return f"t={t},v1={digest}"


class DeliveryWorker:
    def __init__(self, runtime: Runtime) -> None:
        self.rt = runtime
        self.client = httpx.AsyncClient(timeout=runtime.options.delivery_timeout)
        self._drains: dict[str, asyncio.Task[None]] = {}
        self._main: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._main = asyncio.create_task(self._run(), name="sandbox-webhooks")

    async def stop(self) -> None:
        tasks = [t for t in [self._main, *self._drains.values()] if t is not None]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self.client.aclose()

    # -- the loop --------------------------------------------------------------
    async def _run(self) -> None:
        sandbox = self.rt.sandbox
        while True:
            try:
                self._tick()
            except Exception:  # the worker must outlive one bad row; the error is logged
                log.exception("sandbox webhook worker tick failed")
            sandbox.wakeup.clear()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(sandbox.wakeup.wait(), timeout=self._sleep_for())

    def _tick(self) -> None:
        self.rt.payments.expire_overdue()
        self._settle_due()
        now = time.time()
        for row in self.rt.sandbox.store.deliveries("status = 'pending' AND next_attempt_at <= ?", [now]):
            endpoint_id = row["endpoint_id"]
            task = self._drains.get(endpoint_id)
            if task is None or task.done():
                self._drains[endpoint_id] = asyncio.create_task(self._drain(endpoint_id))

    def _sleep_for(self) -> float:
        rows = self.rt.sandbox.store.deliveries("status = 'pending'")
        if not rows:
            return 1.0  # still wake each second: session expiry and delayed settlements are time based
        next_due = min(float(r["next_attempt_at"]) for r in rows)
        return min(1.0, max(0.02, next_due - time.time()))

    def _settle_due(self) -> None:
        """Hosted-page bank payments settle at a stored time, so a restart does not lose them."""
        store = self.rt.sandbox.store
        for session in store.all_of(
            "checkout.session",
            [
                ("json_extract(data, '$.payment_status') = ?", "unpaid"),
                ("json_extract(data, '$.status') = ?", "complete"),
            ],
        ):
            private = store.private(session["id"])
            settle_at = private.get("settle_at")
            if settle_at is not None and settle_at <= time.time():
                private.pop("settle_at")
                store.set_private(session["id"], private)
                self.rt.payments.settle_delayed(session["id"], bool(private.get("settle_succeeds", True)))

    async def _drain(self, endpoint_id: str) -> None:
        store = self.rt.sandbox.store
        while True:
            due = store.deliveries(
                "status = 'pending' AND endpoint_id = ? AND next_attempt_at <= ?", [endpoint_id, time.time()]
            )
            if not due:
                return
            for row in due:
                await self._attempt(row)

    async def _attempt(self, row: Obj) -> None:
        store, options = self.rt.sandbox.store, self.rt.options
        endpoint = store.get(row["endpoint_id"])
        event = store.get(row["event_id"])
        if endpoint is None or event is None or endpoint["status"] != "enabled":
            store.update_delivery(row["seq"], status="failed", last_error="endpoint deleted or disabled")
            return
        code, error = await self.send(event, endpoint)
        attempts = row["attempts"] + 1
        current = store.deliveries("seq = ?", [row["seq"]])[0]
        if current["status"] != "pending":  # held or dropped while we were sending: keep that decision
            store.update_delivery(row["seq"], attempts=attempts, last_status_code=code, last_error=error)
            return
        if code is not None and 200 <= code < 300:
            store.update_delivery(
                row["seq"], status="succeeded", attempts=attempts, last_status_code=code, last_error=None
            )
        elif attempts >= options.max_attempts:
            store.update_delivery(
                row["seq"], status="failed", attempts=attempts, last_status_code=code, last_error=error
            )
        else:
            delay = min(options.retry_base * options.retry_factor ** (attempts - 1), options.retry_cap)
            store.update_delivery(
                row["seq"],
                attempts=attempts,
                last_status_code=code,
                last_error=error,
                next_attempt_at=time.time() + delay,
            )
        self.rt.sandbox.wakeup.set()

    async def send(self, event: Obj, endpoint: Obj) -> tuple[int | None, str | None]:
        """POST one signed event; returns (status code or None, error text or None)."""
        secret = self.rt.sandbox.store.private(endpoint["id"]).get("secret", "")
        payload = json.dumps(self.rt.sandbox.event_view(event), indent=2)
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": USER_AGENT,
            "Stripe-Signature": sign(payload, secret),
        }
        try:
            response = await self.client.post(endpoint["url"], content=payload.encode("utf-8"), headers=headers)
        except httpx.HTTPError as exc:
            return None, f"{type(exc).__name__}: {exc}"
        error = None if response.is_success else response.text[:500]
        return response.status_code, error

    async def resend(self, event: Obj, endpoint_id: str | None = None) -> list[dict[str, Any]]:
        """Sign freshly and send now to each matching endpoint (or the one named)."""
        store = self.rt.sandbox.store
        if endpoint_id:
            endpoint = store.require(endpoint_id, "webhook_endpoint", param="endpoint")
            endpoints = [endpoint]
        else:
            endpoints = self.rt.sandbox.endpoints_for(event["type"])
        results = []
        for endpoint in endpoints:
            code, error = await self.send(event, endpoint)
            results.append({"endpoint": endpoint["id"], "url": endpoint["url"], "status_code": code, "error": error})
        return results
