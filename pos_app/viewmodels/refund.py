"""A refund, as the manager asks for it: the amount checked here first, then the sync service.

The amount is typed on the number pad in minor units (an int all the way: no float, no text to
parse). One Idempotency-Key per submitted refund, kept in the local store until an answer arrives, so
pressing Refund again after a timeout (or a kiosk restart) repeats the same refund instead of making a
second one.
The payment's state changes only when the feed says so (payment.partially_refunded / .refunded).
"""

from __future__ import annotations

import logging
from enum import Enum

from PySide6.QtCore import QObject, Signal

from ..client import ApiError, SyncClient, Unreachable
from ..store import HistoryRow, ManagerStore
from .actions import unexpected, waiter_action
from .manager import ManagerViewModel

log = logging.getLogger(__name__)


class RefundState(str, Enum):
    EDITING = "editing"
    SENDING = "sending"
    REQUESTED = "requested"  # 202: Stripe is refunding; the feed will change the payment
    REFUSED = "refused"
    NO_ANSWER = "no_answer"  # timeout or no connection: the same key is kept for a retry


def refusal(exc: ApiError) -> str:
    if exc.code == "forbidden" or exc.status == 403:
        return (
            "Refused: this kiosk's token has no manager rights. On the sync service run "
            "`tablepay sync add-kiosk KIOSK_ID --manager` and pair the kiosk with the new token."
        )
    if exc.code == "not_refundable":
        return f"Refused: this payment cannot be refunded ({exc.message})."
    if exc.code == "refund_too_large":
        return f"Refused: more than is left to refund ({exc.message})."
    if exc.code == "provider_unavailable":
        return "Stripe did not answer: nothing was refunded. Try again in a moment."
    return f"Refused: the service answered {exc.status} ({exc.message})."


class RefundViewModel(QObject):
    changed = Signal()
    requested = Signal(str)  # payment_id: a refund was accepted

    def __init__(self, manager: ManagerViewModel, client: SyncClient, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.manager, self.client = manager, client
        self.data: ManagerStore = manager.data
        self.payment: HistoryRow | None = None
        self.amount = 0
        self.state = RefundState.EDITING
        self.message = ""

    @property
    def left(self) -> int:
        return self.payment.refundable if self.payment else 0

    def begin(self, payment_id: str) -> bool:
        """Start a refund of this payment; False when nothing is left to refund on it."""
        self.payment = self.data.payment(payment_id)
        self.amount, self.state, self.message = self.left, RefundState.EDITING, ""
        if self.payment is None or self.left <= 0:
            self.message = "Only a paid payment with something left to refund can be refunded."
            self.changed.emit()
            return False
        self.changed.emit()
        return True

    def set_amount(self, amount: int) -> None:
        self.amount = amount
        if self.state is not RefundState.SENDING:
            self.state, self.message = RefundState.EDITING, ""
        self.changed.emit()

    def problem(self) -> str:
        """Why the amount cannot be sent, in words; '' when it can."""
        if self.payment is None:
            return "Pick a payment first."
        payment = self.payment
        fmt = lambda amount: self.manager.fmt(amount, payment.currency)
        if self.amount <= 0:
            return "Enter the amount to refund."
        if self.amount > self.left:
            already = (
                f" ({fmt(self.payment.amount_refunded)} of {fmt(self.payment.amount_total)} is already refunded)"
                if self.payment.amount_refunded
                else ""
            )
            return f"At most {fmt(self.left)} can be refunded{already}."
        return ""

    def submit(self) -> None:
        """Checked here at once (nothing is sent when the amount is wrong), then sent."""
        if self.state is RefundState.SENDING or self.payment is None:
            return
        problem = self.problem()
        if problem:
            self.state, self.message = RefundState.REFUSED, problem
            self.changed.emit()
            return
        self._send()

    def recover(self, error: Exception) -> None:
        """The refund's key is kept, so Refund again repeats the same refund and cannot refund twice."""
        self.state = RefundState.NO_ANSWER
        self.message = unexpected(error) + " Refund again repeats the same refund and cannot refund twice."
        self.changed.emit()

    @waiter_action()
    async def _send(self) -> None:
        payment, amount = self.payment, self.amount
        assert payment is not None
        key = self.data.refund_key(payment.payment_id, amount)  # stored: survives a kiosk restart
        self.state, self.message = RefundState.SENDING, "Sending the refund…"
        self.changed.emit()
        try:
            answer = await self.client.refund(payment.payment_id, amount, key)
        except Unreachable:
            self.state = RefundState.NO_ANSWER
            self.message = (
                "No answer from the sync service, so the refund may or may not be made. Press Refund "
                "again when online: it repeats the same refund and cannot refund twice."
            )
            self.changed.emit()
            return
        except ApiError as exc:
            self.data.refund_answered(payment.payment_id, amount)
            log.warning("refund of %s refused: %s %s", payment.payment_id, exc.status, exc.code)
            self.state, self.message = RefundState.REFUSED, refusal(exc)
            self.changed.emit()
            return
        # Both are part of the 202 answer; without them it is malformed (recover keeps the key), not a success.
        refund_id, refunded = str(answer["refund_id"]), int(answer["amount"])
        self.data.refund_answered(payment.payment_id, amount)
        log.info("refund %s of %s requested", refund_id, payment.payment_id)
        self.state = RefundState.REQUESTED
        self.message = (
            f"Refund requested: {self.manager.fmt(refunded, payment.currency)}. "
            "The payment shows Refunded when Stripe confirms it."
        )
        self.changed.emit()
        self.requested.emit(payment.payment_id)
