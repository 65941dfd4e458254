"""Reconciliation: payments where the kiosk, the sync service and the POS disagree.

The kiosk sends its recent payment ids to POST /v1/payments/lookup (500 a call) and compares.
A disagreement is a kiosk state that differs from the service's (or a payment the service does
not know), a payment the service has as paid whose order the POS has not booked as paid, or one
the service flagged for a person (paid twice; provider news that did not match it; a chargeback).
Refresh asks the service to re-read the payment from Stripe, lets the feed catch up (only the
feed changes the kiosk's states), then checks again.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from PySide6.QtCore import QObject, Signal

from tablepay_domain.money import Money
from tablepay_domain.payment_state import PaymentStatus

from ..client import ApiError, SyncClient, Unreachable
from ..money_format import format_money
from ..store import HistoryRow, ManagerStore
from .actions import unexpected, waiter_action
from .manager import utc_iso
from .wording import counted

log = logging.getLogger(__name__)
LOOKUP_BATCH = 500
# The service's attention prefixes. One payment can carry several notes, joined with " | ".
PROVIDER_MISMATCH = "provider_mismatch"  # provider news that does not match the payment (never applied)
DOUBLE_PAYMENT = "double_payment"  # another attempt had already paid the order
CHARGEBACK = "chargeback"  # the guest's bank took money back after the payment
# Most urgent first, and every note is shown, so a chargeback never hides the others:
# - a provider mismatch first: until it is checked no other figure of the payment can be trusted,
#   and it may be a guest's money the kiosk does not count at all;
# - then paying twice: a guest is owed money now, best given back while still at the table;
# - a chargeback last: the money is already gone, and contesting it has weeks, not minutes.
URGENCY = (PROVIDER_MISMATCH, DOUBLE_PAYMENT, CHARGEBACK)
Formatter = Callable[[int, str], str]  # (minor units, currency) -> "€20.00"


@dataclass(frozen=True)
class Mismatch:
    payment_id: str
    order_id: str
    table: str
    kiosk_status: str
    service_status: str | None  # None: the service does not know it
    pos_status: str | None
    reason: str


def _kiosk_money(amount: int, currency: str) -> str:
    return format_money(Money(amount, currency))


def _attention(note: str, local: HistoryRow, remote: dict[str, Any], fmt: Formatter) -> str:
    """One of the service's notes in a manager's words ('' for a note the kiosk does not know)."""
    if note.startswith(PROVIDER_MISMATCH):
        # The service's note says what differs and what to do; it is shown as written.
        return "Check with the payment provider: " + note.removeprefix(PROVIDER_MISMATCH).lstrip(": ")
    if note.startswith(DOUBLE_PAYMENT):
        return "This order was paid twice: refund this payment."
    if note.startswith(CHARGEBACK):
        # The amount as the kiosk shows money, not the service's text: the service's figure, else the feed's.
        said = remote.get("amount_charged_back")
        amount = (
            said if isinstance(said, int) and not isinstance(said, bool) and said > 0 else local.amount_charged_back
        )
        taken = fmt(amount, local.currency) if amount > 0 else "money from this payment"
        return (
            f"The guest's bank took back {taken} (a chargeback): "
            "contest it in the payment provider's dashboard if the meal was served."
        )
    return ""


def compare(local: HistoryRow, remote: dict[str, Any] | None, fmt: Formatter = _kiosk_money) -> str:
    """Why the kiosk and the service (and the POS) disagree about a payment; '' when they agree.
    The service's notes come first, every one the kiosk knows, most urgent first (URGENCY)."""
    if remote is None:
        return "The sync service does not know this payment."
    status, pos = str(remote.get("status")), remote.get("pos_status")
    notes = [note.strip() for note in str(remote.get("attention") or "").split(" | ")]
    ranked = sorted(
        (n for n in notes if n.startswith(URGENCY)),
        key=lambda n: next(i for i, p in enumerate(URGENCY) if n.startswith(p)),
    )
    reasons = [reason for note in ranked if (reason := _attention(note, local, remote, fmt))]
    if reasons:
        return " ".join(reasons)
    if status != local.status:
        return f"The kiosk has it as {local.status}, the service as {status}."
    if int(remote.get("amount_refunded") or 0) != local.amount_refunded:
        return "The kiosk and the service disagree on the refunded amount."
    if PaymentStatus(status).is_paid and pos is not None and pos != "paid":
        return f"Paid, but the POS has it as {pos}."
    return ""


def summary(disagreeing: int, checked: int, days: int) -> str:
    """'1 of 3 payments of the last 7 days disagrees.', 'All 2 payments ... agree.', in number."""
    period = f"the last {counted(days, 'day')}"
    if checked == 0:
        return f"This kiosk has no payments from {period}."
    if disagreeing:
        verb = "disagrees" if disagreeing == 1 else "disagree"
        return f"{disagreeing:,} of {counted(checked, 'payment')} of {period} {verb}."
    if checked == 1:
        return f"The one payment of {period} agrees."
    return f"All {counted(checked, 'payment')} of {period} agree."


class ReconcileViewModel(QObject):
    changed = Signal()

    def __init__(
        self,
        data: ManagerStore,
        client: SyncClient,
        catch_up: Callable[[], Awaitable[object]],
        *,
        days: int = 7,
        fmt: Formatter = _kiosk_money,
        parent: QObject | None = None,
    ) -> None:
        """`fmt`: money as the kiosk shows it (the manager view model's, in the kiosk's locale)."""
        super().__init__(parent)
        self.data, self.client, self._catch_up, self.days, self._fmt = data, client, catch_up, days, fmt
        self.rows: list[Mismatch] = []
        self.checked = 0
        self.busy = False
        self.message = ""

    async def _check(self) -> None:
        since = utc_iso(datetime.now(UTC) - timedelta(days=self.days))
        local = self.data.recent_payments(since)
        remote: dict[str, dict[str, Any]] = {}
        for start in range(0, len(local), LOOKUP_BATCH):
            ids = [row.payment_id for row in local[start : start + LOOKUP_BATCH]]
            remote.update({str(p["payment_id"]): p for p in await self.client.lookup(ids)})
        rows = []
        for row in local:
            found = remote.get(row.payment_id)
            reason = compare(row, found, self._fmt)
            if reason:
                rows.append(
                    Mismatch(
                        row.payment_id,
                        row.order_id,
                        row.table,
                        row.status,
                        found.get("status") if found else None,
                        found.get("pos_status") if found else None,
                        reason,
                    )
                )
        self.rows, self.checked = rows, len(local)
        self.message = summary(len(rows), len(local), self.days)

    async def _guarded(self, work: Callable[[], Awaitable[None]]) -> None:
        if self.busy:
            return
        self.busy = True
        self.message = "Checking with the sync service…"
        self.changed.emit()
        try:
            await work()
        except Unreachable:
            self.message = "The sync service is unreachable: cannot compare now."
        except ApiError as exc:
            self.message = f"The service answered {exc.status} ({exc.message})."
        finally:
            self.busy = False
        self.changed.emit()

    def recover(self, error: Exception) -> None:
        self.busy, self.message = False, unexpected(error)
        self.changed.emit()

    @waiter_action()
    async def check(self) -> None:
        await self._guarded(self._check)

    @waiter_action(str)
    async def refresh(self, payment_id: str) -> None:
        await self._guarded(lambda: self._refresh([payment_id]))

    @waiter_action()
    async def refresh_all(self) -> None:
        await self._guarded(lambda: self._refresh([row.payment_id for row in self.rows]))

    async def _refresh(self, payment_ids: list[str]) -> None:
        for payment_id in payment_ids:
            try:
                await self.client.refresh(payment_id)
            except ApiError as exc:  # one unknown payment must not stop the others
                log.warning("refresh of %s refused: %s %s", payment_id, exc.status, exc.code)
        await self._catch_up()
        await self._check()
