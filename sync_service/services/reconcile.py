"""Repair payments whose webhook never came: retrieve them from the provider."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import structlog

from tablepay_domain.payment_state import PaymentStatus

from ..providers.base import Observation
from ..storage.repository import Repository
from .checkout import CheckoutService
from .payment_events import PaymentEvents

log = structlog.get_logger(__name__)

# Longer than any create-checkout request can take (timeouts and SDK retries included).
ORPHAN_AFTER_SECONDS = 300


class Reconciler:
    def __init__(
        self,
        repo: Repository,
        checkouts: CheckoutService,
        events: PaymentEvents,
        *,
        after_seconds: float,
        interval_seconds: float,
        batch: int = 50,
        keep_requests_days: float = 30,
    ) -> None:
        self._repo = repo
        self._keep_requests = timedelta(days=keep_requests_days)
        self._events = events
        self._checkouts = checkouts
        self._after = after_seconds
        self._interval = interval_seconds
        self._batch = batch

    def _fail_orphans(self) -> int:
        """An attempt left open without a checkout would block its order for ever: fail it.

        Nobody ever saw a checkout URL for it, so no guest can pay it; a kiosk
        retrying with the same Idempotency-Key simply gets a new attempt.
        """
        cutoff = (datetime.now(UTC) - timedelta(seconds=ORPHAN_AFTER_SECONDS)).isoformat(timespec="milliseconds")
        orphans = self._repo.orphaned_open_payments(cutoff, self._batch)
        for payment in orphans:
            self._events.apply_observation(
                payment.payment_id,
                Observation(status=PaymentStatus.FAILED, failure_reason="the checkout was never opened"),
                "reconcile_orphan",
            )
            log.warning("orphan_attempt_failed", payment_id=payment.payment_id)
        return len(orphans)

    async def sweep(self) -> int:
        """Refresh live attempts untouched for `after_seconds`; returns how many changed.

        With several instances on one database, one sweeps at a time (the others skip their turn)."""
        with self._repo.only_one_instance("reconcile") as mine:
            if not mine:
                log.debug("reconcile_skipped", reason="another instance is sweeping")
                return 0
            return await self._sweep()

    async def _sweep(self) -> int:
        cutoff = (datetime.now(UTC) - timedelta(seconds=self._after)).isoformat(timespec="milliseconds")
        changed = self._fail_orphans()
        with self._repo.transaction():
            # Raw webhook requests that applied cleanly are history after a while; failed ones stay.
            self._repo.prune_webhook_requests(
                (datetime.now(UTC) - self._keep_requests).isoformat(timespec="milliseconds")
            )
        for payment in self._repo.stale_live_payments(cutoff, self._batch):
            try:
                updated = await self._checkouts.refresh(payment.payment_id, None)
            except Exception as exc:  # noqa: BLE001 - one bad payment must not stop the sweep
                log.warning("reconcile_failed", payment_id=payment.payment_id, error=str(exc))
                continue
            if updated.status is not payment.status:
                changed += 1
                log.info(
                    "reconciled", payment_id=payment.payment_id, before=payment.status.value, after=updated.status.value
                )
            else:
                # Touch it so the sweep moves on to other payments before coming back.
                with self._repo.transaction():
                    self._repo.update_payment(payment.payment_id)
        return changed

    async def run(self) -> None:
        while True:
            await asyncio.sleep(self._interval)
            try:
                await self.sweep()
            except Exception:
                log.exception("reconcile_sweep_error")
