"""Checkout of one order: pay in full (open a hosted checkout, wait for the feed, retry, cancel) or
split the bill (show the bill page's QR with the guests' progress, stop the split, pay the rest).

The PAID state comes only from the local store's order row, which only feed
events change (KioskStore.apply_events); a checkout, bill or cancel answer never
makes an order paid.
"""

from __future__ import annotations

import logging
import time
from enum import Enum

from PySide6.QtCore import QObject, Signal

from tablepay_domain.payment_state import PaymentStatus

from ..client import ApiError, SyncClient, Unreachable
from ..store import Attempt, BillProgress, KioskStore
from .actions import unexpected, waiter_action
from .order import OrderViewModel
from .wording import counted

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
    SPLITTING = "splitting"  # opening the split bill
    SPLIT = "split"  # the bill page's QR shown, guests pay their parts
    STOPPING = "stopping"
    STOPPED = "stopped"  # the split ended: what is left can be paid in full


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
    CheckoutState.SPLITTING: "Opening the split bill…",
    CheckoutState.SPLIT: "Each guest scans the code and pays their part.",
    CheckoutState.STOPPING: "Stopping the split…",
}
SPLIT_OFFLINE = (
    "Splitting the bill needs the connection to the sync service. The order is kept; "
    "try again when the status bar shows Online."
)


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
        self.payment_id: str | None = None  # the checkout shown (a share never is)
        self.attempt: Attempt | None = None
        self.splitting = False  # the waiter chose Split the bill
        self.bill_url = ""
        self.bill: BillProgress | None = None

    def _set(self, state: CheckoutState, message: str | None = None) -> None:
        self.state = state
        self.message = message if message is not None else MESSAGES.get(state, "")
        self.stateChanged.emit(state.value)

    def _from_store(self) -> None:
        assert self.order_id is not None
        order = self.store.order(self.order_id)
        self.attempt = self.store.attempt(self.payment_id) if self.payment_id else None
        self.bill = order.bill
        if order.is_paid:
            self._set(CheckoutState.PAID)
        elif self.splitting and self.bill is not None and self.bill.is_stopped:
            self._set(CheckoutState.STOPPED, self._stopped_message(self.bill))
        elif self.splitting:
            self._set(CheckoutState.SPLIT, self.message if self.state is CheckoutState.SPLIT else None)
        elif self.attempt is not None:
            self._set(_FROM_STATUS[self.attempt.status])
        self.order_vm.reload([self.order_id])

    def seconds_left(self, now: float | None = None) -> int:
        if self.attempt is None or self.attempt.expires_at is None:
            return 0
        return max(0, int(self.attempt.expires_at - (time.time() if now is None else now)))

    @property
    def live(self) -> bool:
        """A guest may be paying (closing the panel leaves the order to the feed)."""
        return self.state in (
            CheckoutState.STARTING,
            CheckoutState.WAITING,
            CheckoutState.CANCELLING,
            CheckoutState.SPLITTING,
            CheckoutState.SPLIT,
            CheckoutState.STOPPING,
        )

    # -- what the panel shows -------------------------------------------------------
    @property
    def amount_text(self) -> str:
        """The big amount: the checkout's own total (after a split, what is left, as the service
        charges it), else what a split leaves or its total, else the order's total."""
        fmt = self.order_vm.fmt
        if self.attempt is not None and not self.splitting:
            return fmt(self.attempt.amount_total)
        if self.bill is not None and self.state is CheckoutState.STOPPED:
            return fmt(self.bill.remaining)
        if self.bill is not None:
            return fmt(self.bill.total)
        return fmt(self.order_vm.totals().total)

    @property
    def progress_text(self) -> str:
        """'€42.10 of €96.00 paid · 1 guest paying' ('' before the bill is known; no guests part at 0)."""
        bill, fmt = self.bill, self.order_vm.fmt
        if bill is None:
            return ""
        text = f"{fmt(bill.paid)} of {fmt(bill.total)} paid"
        if bill.guests_paying:
            text += f" · {counted(bill.guests_paying, 'guest', self.order_vm.settings.locale)} paying"
        return text

    def _stopped_message(self, bill: BillProgress) -> str:
        left = self.order_vm.fmt(bill.remaining)
        return f"{self.progress_text}. {left} is left: pay it in full, or go back to the order."

    # -- the waiter's actions -------------------------------------------------------
    @waiter_action()
    async def start(self) -> None:
        """Check out the order open in the order view model (a new attempt unless one is live)."""
        await self._start()

    @waiter_action()
    async def retry(self) -> None:
        """A new attempt for the same order, after a failed, expired or cancelled one (or the split again)."""
        await (self._split() if self.splitting else self._start())

    @waiter_action()
    async def pay_rest(self) -> None:
        """After Stop split: one checkout for what is left (the service charges only that)."""
        self.splitting = False
        await self._start()

    @property
    def _busy(self) -> bool:
        return self.state in (CheckoutState.STARTING, CheckoutState.CANCELLING, CheckoutState.SPLITTING) or (
            self.state is CheckoutState.STOPPING
        )

    async def _start(self) -> None:
        order = self.order_vm.order
        if order is None or not order.lines or self._busy:
            return
        self.order_id, self.splitting = order.order_id, False
        latest = order.latest_checkout
        if order.is_paid or (latest is not None and latest.status.is_live):
            self.payment_id = latest.payment_id if latest is not None else None
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
        self.payment_id = self.store.record_attempt(
            payment, donation_partner=self.order_vm.settings.donation_partner
        ).payment_id
        if self.store.order(order.order_id).pos_status is not None:
            # A service with a POS sends the kitchen every new dish before it opens a checkout.
            self.store.mark_sent(order.order_id, {line.sku: line.quantity for line in order.lines})
        self._from_store()

    async def _on_refused(self, exc: ApiError) -> None:
        live_id = exc.body.get("error", {}).get("payment_id") if exc.status == 409 else None
        if live_id:  # the service already has a live attempt for this order: show that one
            try:
                self.payment_id = self.store.record_attempt(await self.client.payment(str(live_id))).payment_id
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

    # -- the split bill ------------------------------------------------------------
    @waiter_action()
    async def split(self) -> None:
        """Split the order's bill: its page's QR for the guests, and their progress as the feed says it."""
        await self._split()

    async def _split(self) -> None:
        order = self.order_vm.order
        if order is None or not order.lines or self._busy:
            return
        self.order_id, self.splitting, self.payment_id = order.order_id, True, None
        if order.is_paid:
            self._from_store()
            return
        self._set(CheckoutState.SPLITTING)
        try:
            bill = await self.client.open_bill(self.order_vm.bill_snapshot())
        except Unreachable:
            self._set(CheckoutState.OFFLINE, SPLIT_OFFLINE)
            return
        except ApiError as exc:
            log.warning("split refused: %s %s", exc.status, exc.message)
            self._set(CheckoutState.ERROR, exc.message)
            return
        self.bill_url = str(bill["bill_url"])
        self.store.record_bill(order.order_id, bill)  # shown at once; the feed keeps it up to date
        self._from_store()

    @waiter_action()
    async def stop_split(self) -> None:
        """End the split: paid shares stay, open holds are released; then the rest can be paid in full."""
        if self.order_id is None or self.state is not CheckoutState.SPLIT:
            return
        self._set(CheckoutState.STOPPING)
        try:
            bill = await self.client.stop_bill(self.order_id)
        except Unreachable:
            self._set(
                CheckoutState.SPLIT,
                "Cannot stop the split while the sync service is unreachable. Guests may still pay.",
            )
            return
        except ApiError as exc:  # e.g. the last guest paid at the same moment: the feed will say so
            self._set(CheckoutState.SPLIT, exc.message)
            return
        self.store.record_bill(self.order_id, bill)
        self._from_store()

    def recover(self, error: Exception) -> None:
        """Back to the order or Try again: a live attempt is shown again, never opened twice."""
        self._set(CheckoutState.ERROR, unexpected(error))

    def back(self) -> None:
        self.attempt, self.order_id, self.payment_id = None, None, None
        self.splitting, self.bill_url, self.bill = False, "", None
        self._set(CheckoutState.IDLE)

    # -- the feed ---------------------------------------------------------------
    def on_orders_changed(self, order_ids: list[str]) -> None:
        # While a request is in flight its own answer updates the panel (the feed may be faster).
        if self.order_id is not None and self.order_id in order_ids and not self._busy:
            self._from_store()
