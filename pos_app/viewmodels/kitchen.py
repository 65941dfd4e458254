"""Send to kitchen: the order's new dishes go to the restaurant's POS through the sync service.

The service decides what is new (it keeps every package it queued); the kiosk
remembers what the kitchen got so the waiter cannot take dishes back below it,
and shows the POS status the feed reports (pos.* events) as a badge.
"""

from __future__ import annotations

import logging
from enum import Enum

from PySide6.QtCore import QObject, QTimer, Signal

from ..client import ApiError, SyncClient, Unreachable
from ..store import KioskStore, LocalOrder
from .actions import unexpected, waiter_action
from .order import OrderViewModel

log = logging.getLogger(__name__)

# What the waiter reads for each POS status of an order (None: never sent).
POS_LABELS = {None: "", "queued": "Kitchen: queued", "in_pos": "In POS", "paid": "Paid in POS", "failed": "POS problem"}
# A pay-first order the POS has not heard of yet (TABLEPAY_KITCHEN=after_payment).
PAY_FIRST_LABEL = "Kitchen after payment"
# What the waiter reads for each order status the service reports (docs/sync-service.md).
ORDER_STATUS_LABELS = {
    "awaiting_payment": "Waiting for payment",
    "paid": "Kitchen next",
    "in_kitchen": "In the kitchen",
    "closed": "Closed",
    "expired": "Expired unpaid",
    "cancelled": "Cancelled unpaid",
}
WAITING_STATUSES = (None, "awaiting_payment", "expired", "cancelled")  # not paid: nothing for the kitchen yet


def waits_for_payment(order: LocalOrder, pay_first: bool) -> bool:
    """A pay-first order the kitchen has not had: open, nothing in the POS, not paid by the service's word."""
    return pay_first and not order.is_paid and order.pos_status is None and order.service_status in WAITING_STATUSES


class Tone(str, Enum):
    NONE = "none"
    BUSY = "busy"
    OK = "ok"
    WARN = "warn"
    ERROR = "error"


OFFLINE = (
    "No connection to the sync service: nothing went to the kitchen. The order is kept; "
    "send it again when the status bar shows Online."
)


def refusal(exc: ApiError) -> str:
    """The service's refusal of POST /v1/orders in words for a waiter."""
    if exc.code == "lines_already_sent":
        return f"Not sent: {exc.message}"
    if exc.code == "pos_disabled":
        return "Not sent: this sync service has no restaurant POS set up. Tell the manager."
    if exc.status == 409:
        return "Not sent: this order is already paid, so nothing more can go to the kitchen."
    if exc.status == 401:
        return "Not sent: the sync service refused this kiosk's token. Pair the kiosk again."
    if exc.status == 422:
        return f"Not sent: the service refused the order ({exc.message})."
    return f"Not sent: the service answered {exc.status} ({exc.message})."


class KitchenViewModel(QObject):
    changed = Signal()
    # A success fades after a while (the badge keeps the state); refusals stay until the next action.
    OK_MESSAGE_MS = 8000

    def __init__(
        self, store: KioskStore, client: SyncClient, order_vm: OrderViewModel, parent: QObject | None = None
    ) -> None:
        super().__init__(parent)
        self.store, self.client, self.order_vm = store, client, order_vm
        self.sending = False
        self.message, self.tone = "", Tone.NONE
        self._order_id: str | None = None
        self._fade = QTimer(self)
        self._fade.setSingleShot(True)
        self._fade.timeout.connect(self._clear_ok)
        order_vm.changed.connect(self._on_order_changed)
        order_vm.notice.connect(lambda text: self._say(text, Tone.WARN))

    def _say(self, message: str, tone: Tone) -> None:
        self.message, self.tone = message, tone
        self._fade.stop()
        self.changed.emit()

    def _clear_ok(self) -> None:
        if self.tone is Tone.OK:
            self._say("", Tone.NONE)

    def _on_order_changed(self) -> None:
        order = self.order_vm.order
        order_id = order.order_id if order else None
        if order_id != self._order_id:  # another order: the last outcome was about the previous one
            self._order_id = order_id
            self.message, self.tone = "", Tone.NONE
        self.changed.emit()

    # -- what the views show ---------------------------------------------------------
    @property
    def can_send(self) -> bool:
        order = self.order_vm.order
        return order is not None and bool(order.lines) and not self.sending and self.order_vm.editable

    @property
    def unsent(self) -> int:
        """Dishes the kiosk knows the kitchen has not had (the service has the last word)."""
        order = self.order_vm.order
        return sum(order.unsent.values()) if order else 0

    @property
    def button_text(self) -> str:
        if self.sending:
            return "Sending…"
        order = self.order_vm.order
        if order is not None and order.sent and self.unsent:
            return f"Send to kitchen · {self.unsent} new"
        return "Send to kitchen"

    @property
    def pos_status(self) -> str | None:
        order = self.order_vm.order
        return order.pos_status if order else None

    @property
    def pay_first(self) -> bool:
        """This order waits for its payment before anything goes to the kitchen."""
        order, offer = self.order_vm.order, self.order_vm.offer
        return order is not None and waits_for_payment(order, offer is not None and offer.pay_first)

    @property
    def pos_label(self) -> str:
        if self.pay_first:
            return PAY_FIRST_LABEL
        status = self.pos_status
        return POS_LABELS.get(status, status or "")

    # -- the waiter's action -----------------------------------------------------------
    @waiter_action()
    async def send(self) -> None:
        await self.send_now()

    def recover(self, error: Exception) -> None:
        """The order stays editable and the button usable: what the kitchen has shows after the next send."""
        self._done(unexpected(error), Tone.ERROR)

    async def send_now(self) -> None:
        if not self.can_send:
            return
        order = self.order_vm.order
        assert order is not None
        snapshot = self.order_vm.snapshot()
        quantities = {line["sku"]: line["quantity"] for line in snapshot["lines"]}
        self.sending = True
        self.order_vm.set_busy(True)  # the lines wait, so the answer matches what was sent
        self._say("Sending to the kitchen…", Tone.BUSY)
        try:
            answer = await self.client.send_order(snapshot)
        except Unreachable:
            self._done(OFFLINE, Tone.WARN)
            return
        except ApiError as exc:
            log.warning("send to kitchen refused: %s %s %s", exc.status, exc.code, exc.message)
            message = refusal(exc)
            if exc.code == "lines_already_sent" and await self._catch_up(order.order_id):
                message += " The order now shows what the kitchen has."
            self._done(message, Tone.ERROR)
            return
        except BaseException:
            self._done("", Tone.NONE)
            raise
        # Both keys are part of the 202 answer: a missing one is a malformed answer (recover), not "nothing new".
        pos_status, package = answer["pos_status"], answer["package"]
        if answer.get("order_status"):
            self.store.note_service_status(order.order_id, str(answer["order_status"]))
        if pos_status is None:  # pay-first: stored at the service, nothing went to the kitchen
            self._done(str(answer.get("message") or "This order goes to the kitchen once it is paid."), Tone.OK)
            return
        self.store.mark_sent(order.order_id, quantities)
        self.store.note_pos_status(order.order_id, str(pos_status))
        if package is None:
            self._done("Nothing new to send: the kitchen has every dish.", Tone.OK)
        else:
            self._done(f"Sent to kitchen (package {package})", Tone.OK)

    async def _catch_up(self, order_id: str) -> bool:
        """The kitchen got more than this kiosk knew (another screen, a lost answer): take the service's
        packages as the truth, so the lines show it. False when the service cannot say now."""
        try:
            state = await self.client.pos_state(order_id)
        except (Unreachable, ApiError):
            return False
        got: dict[str, int] = {}
        for package in state.get("packages", []):
            for line in package.get("lines", []):
                got[str(line["sku"])] = got.get(str(line["sku"]), 0) + int(line["quantity"])
        self.store.mark_sent(order_id, got)
        return True

    def _done(self, message: str, tone: Tone) -> None:
        self.sending = False
        self.message, self.tone = message, tone
        self._fade.stop()
        if tone is Tone.OK:
            self._fade.start(self.OK_MESSAGE_MS)
        self.order_vm.set_busy(False)  # reloads the order: sent counts and POS badge
        self.changed.emit()
