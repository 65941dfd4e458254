"""Reconciliation: payments where the kiosk, the sync service and the POS disagree.

The kiosk sends its recent payment ids to POST /v1/payments/lookup (500 a call) and compares.
A disagreement is a kiosk state that differs from the service's (or a payment the service does
not know), a payment the service has as paid whose order the POS has not booked as paid, or one
the service flagged for a person (paid twice; provider news that did not match it).
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

from tablepay_domain.payment_state import PaymentStatus

from ..client import ApiError, SyncClient, Unreachable
from ..store import HistoryRow, ManagerStore
from .actions import unexpected, waiter_action
from .manager import utc_iso
from .wording import counted

log = logging.getLogger(__name__)
LOOKUP_BATCH = 500
# The service's attention prefix for provider news that does not match the payment (never applied).
PROVIDER_MISMATCH = "provider_mismatch"


@dataclass(frozen=True)
class Mismatch:
    payment_id: str
    order_id: str
    table: str
    kiosk_status: str
    service_status: str | None  # None: the service does not know it
    pos_status: str | None
    reason: str


def compare(local: HistoryRow, remote: dict[str, Any] | None) -> str:
    """Why the kiosk and the service (and the POS) disagree about a payment; '' when they agree."""
    if remote is None:
        return "The sync service does not know this payment."
    status, pos = str(remote.get("status")), remote.get("pos_status")
    attention = str(remote.get("attention") or "")
    if attention.startswith(PROVIDER_MISMATCH):
        # The service's note says what differs and what to do; it is shown as written.
        return "Check with the payment provider: " + attention.removeprefix(PROVIDER_MISMATCH).lstrip(": ")
    if attention.startswith("double_payment"):
        return "This order was paid twice: refund this payment."
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
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.data, self.client, self._catch_up, self.days = data, client, catch_up, days
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
            reason = compare(row, found)
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
