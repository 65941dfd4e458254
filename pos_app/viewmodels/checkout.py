"""Checkout of one order: open a hosted checkout, wait for the feed, retry, cancel.

The PAID state comes only from the local store's order row, which only feed
events change (KioskStore.apply_events); a checkout or cancel answer never
makes an order paid.
"""

from __future__ import annotations

import logging
import time
from enum import Enum

from PySide6.QtCore import QObject, Signal

from tablepay_domain.payment_state import PaymentStatus

from ..client import ApiError, SyncClient, Unreachable
from ..store import Attempt, KioskStore
from .actions import unexpected, waiter_action
from .order import OrderViewModel

log = logging.getLogger(__name__)


class CheckoutState(str, Enum):
    IDLE = "idle"
    STARTING = "starting"
    WAITING = "waiting"  # QR shown, guest may pay
    CANCELLING = "cancelling"
    PAID = "paid"
    FAILED = "failed"
    EXPIRED = "expired"
    CANCELLED = "cancelled"
    OFFLINE = "offline"  # checkout could not reach the service; the order is kept
    ERROR = "error"  # the service refused (message says why)


_FROM_STATUS = {
    PaymentStatus.OPEN: CheckoutState.WAITING,
    PaymentStatus.PENDING: CheckoutState.WAITING,
    PaymentStatus.AUTHORIZED: CheckoutState.WAITING,
    PaymentStatus.FAILED: CheckoutState.FAILED,
    PaymentStatus.EXPIRED: CheckoutState.EXPIRED,
    PaymentStatus.CANCELLED: CheckoutState.CANCELLED,
    # A paid attempt whose feed event has not arrived yet: keep waiting for the feed.
    PaymentStatus.PAID: CheckoutState.WAITING,
    PaymentStatus.PARTIALLY_REFUNDED: CheckoutState.WAITING,
    PaymentStatus.REFUNDED: CheckoutState.WAITING,
}

MESSAGES = {
    CheckoutState.STARTING: "Opening the checkout…",
    CheckoutState.WAITING: "Scan to pay",
    CheckoutState.CANCELLING: "Cancelling…",
    CheckoutState.PAID: "Paid",
    CheckoutState.FAILED: "The payment was declined",
    CheckoutState.EXPIRED: "The checkout expired",
    CheckoutState.CANCELLED: "The checkout was cancelled",
    CheckoutState.OFFLINE: "Payment needs the connection to the sync service. The order is kept; "
    "try again when the status bar shows Online.",
}


class CheckoutViewModel(QObject):
    stateChanged = Signal(str)

    def __init__(
        self, store: KioskStore, client: SyncClient, order_vm: OrderViewModel, parent: QObject | None = None
    ) -> None:
        super().__init__(parent)
        self.store, self.client, self.order_vm = store, client, order_vm
        self.state = CheckoutState.IDLE
        self.message = ""
        self.order_id: str | None = None
        self.attempt: Attempt | None = None

    def _set(self, state: CheckoutState, message: str | None = None) -> None:
        self.state = state
        self.message = message if message is not None else MESSAGES.get(state, "")
        self.stateChanged.emit(state.value)

    def _from_store(self) -> None:
        assert self.order_id is not None
        order = self.store.order(self.order_id)
        self.attempt = order.latest_attempt
        if order.is_paid:
            self._set(CheckoutState.PAID)
        elif self.attempt is not None:
            self._set(_FROM_STATUS[self.attempt.status])
        self.order_vm.reload([self.order_id])

    def seconds_left(self, now: float | None = None) -> int:
        if self.attempt is None or self.attempt.expires_at is None:
            return 0
        return max(0, int(self.attempt.expires_at - (time.time() if now is None else now)))

    @property
    def live(self) -> bool:
        return self.state in (CheckoutState.STARTING, CheckoutState.WAITING, CheckoutState.CANCELLING)

    # -- the waiter's actions -------------------------------------------------------
    @waiter_action()
    async def start(self) -> None:
        """Check out the order open in the order view model (a new attempt unless one is live)."""
        await self._start()

    @waiter_action()
    async def retry(self) -> None:
        """A new attempt for the same order, after a failed, expired or cancelled one."""
        await self._start()

    async def _start(self) -> None:
        order = self.order_vm.order
        if order is None or not order.lines or self.state in (CheckoutState.STARTING, CheckoutState.CANCELLING):
            return
        self.order_id = order.order_id
        latest = order.latest_attempt
        if order.is_paid or (latest is not None and latest.status.is_live):
            self._from_store()  # show the live attempt again rather than opening a second one
            return
        self._set(CheckoutState.STARTING)
        await self.order_vm.confirm_offer()  # a service that takes no donations drops the order's one first
        # One key per attempt: a request repeated after a timeout gets the same answer.
        key = f"{order.order_id}:{self.store.attempt_count(order.order_id) + 1}"
        try:
            payment = await self.client.create_checkout(self.order_vm.snapshot(), key)
        except Unreachable:
            self._set(CheckoutState.OFFLINE)
            return
        except ApiError as exc:
            await self._on_refused(exc)
            return
        self.store.record_attempt(payment, donation_partner=self.order_vm.settings.donation_partner)
        if self.store.order(order.order_id).pos_status is not None:
            # A service with a POS sends the kitchen every new dish before it opens a checkout.
            self.store.mark_sent(order.order_id, {line.sku: line.quantity for line in order.lines})
        self._from_store()

    async def _on_refused(self, exc: ApiError) -> None:
        live_id = exc.body.get("error", {}).get("payment_id") if exc.status == 409 else None
        if live_id:  # the service already has a live attempt for this order: show that one
            try:
                self.store.record_attempt(await self.client.payment(str(live_id)))
                self._from_store()
                return
            except (Unreachable, ApiError):
                pass
        log.warning("checkout refused: %s %s", exc.status, exc.message)
        self._set(CheckoutState.ERROR, exc.message)

    @waiter_action()
    async def cancel(self) -> None:
        if self.attempt is None or self.state is not CheckoutState.WAITING:
            return
        self._set(CheckoutState.CANCELLING)
        try:
            self.store.record_attempt(await self.client.cancel(self.attempt.payment_id))
        except Unreachable:
            self._set(
                CheckoutState.WAITING, "Cannot cancel while the sync service is unreachable. The guest may still pay."
            )
            return
        except ApiError as exc:
            # 409: the guest paid at the same moment; the feed will say so.
            self._set(CheckoutState.WAITING, exc.message)
            return
        self._from_store()

    def recover(self, error: Exception) -> None:
        """Back to the order or Try again: a live attempt is shown again, never opened twice."""
        self._set(CheckoutState.ERROR, unexpected(error))

    def back(self) -> None:
        self.attempt = None
        self.order_id = None
        self._set(CheckoutState.IDLE)

    # -- the feed ---------------------------------------------------------------
    def on_orders_changed(self, order_ids: list[str]) -> None:
        # While a request is in flight its own answer updates the panel (the feed may be faster).
        busy = self.state in (CheckoutState.STARTING, CheckoutState.CANCELLING)
        if self.order_id is not None and self.order_id in order_ids and not busy:
            self._from_store()
