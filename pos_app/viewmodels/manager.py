"""Manager mode behind its own PIN: the gate, an order's detail with its POS trail, day totals, exports.

The PIN is checked like the settings PIN (salted scrypt, pos_app.pin), but its wrong-try count and
lock live in the local store, so restarting the kiosk does not give a guesser five more tries.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, tzinfo
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal, SignalInstance
from qasync import asyncSlot

from tablepay_domain.day_totals import DayTotals, business_day_bounds, business_day_of, day_totals, parse_day_start
from tablepay_domain.money import Money

from ..client import ApiError, SyncClient, Unreachable
from ..export import write_history_csv, write_totals_csv
from ..money_format import format_money, format_money_whole
from ..pin import verify_pin
from ..settings import KioskSettings
from ..store import EventRow, HistoryFilter, HistoryRow, KioskStore, LocalOrder, ManagerStore
from .actions import unexpected
from .orders import PAYMENT_LABELS
from .settings import PinResult
from .wording import counted

log = logging.getLogger(__name__)

SET_MANAGER_PIN_COMMAND = "tablepay kiosk set-manager-pin"


def utc_iso(moment: datetime) -> str:
    """A bound in the store's format (UTC, milliseconds), so text comparison is time order."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds")


@dataclass(frozen=True)
class AttemptDetail:
    payment: HistoryRow
    events: list[EventRow]


@dataclass(frozen=True)
class OrderDetail:
    order: LocalOrder
    attempts: list[AttemptDetail]


class ManagerViewModel(QObject):
    exportDone = Signal(str)  # what to tell the manager when a background export ends
    providerEvents = Signal(str, object, str)  # order_id, {attempts: [...]} or None, message when None
    posTrail = Signal(str, object, str)  # order_id, {status, packages, trail} or None, message when None

    MAX_WRONG = 5
    LOCKOUT_SECONDS = 60.0

    def __init__(
        self,
        store: KioskStore,
        manager_store: ManagerStore,
        client: SyncClient,
        settings: KioskSettings,
        export_dir: Path,
        *,
        clock: Callable[[], float] = time.time,
        tz: tzinfo | None = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.store, self.data, self.client, self.settings = store, manager_store, client, settings
        self.export_dir = export_dir
        self._clock = clock  # wall clock: the lock is stored and must mean the same after a restart
        self.tz: tzinfo = tz or datetime.now().astimezone().tzinfo or UTC

    # -- the PIN ----------------------------------------------------------------
    title, prompt, command = "Manager", "Enter the manager PIN", SET_MANAGER_PIN_COMMAND
    no_pin_text = "No manager PIN is set on this kiosk yet. To set one, run this on the kiosk's machine:"

    @property
    def has_pin(self) -> bool:
        return bool(self.settings.manager_pin_hash)

    def locked_for(self) -> float:
        return max(0.0, self.data.pin_state()[1] - self._clock())

    def check_pin(self, pin: str) -> PinResult:
        if not self.has_pin:
            return PinResult.NO_PIN
        if self.locked_for() > 0:
            return PinResult.LOCKED
        wrong, _ = self.data.pin_state()
        if verify_pin(pin, self.settings.manager_pin_hash):
            self.data.set_pin_state(0, 0.0)
            return PinResult.OK
        wrong += 1
        log.warning("wrong manager PIN (%d in a row)", wrong)
        if wrong >= self.MAX_WRONG:
            self.data.set_pin_state(0, self._clock() + self.LOCKOUT_SECONDS)
            return PinResult.LOCKED
        self.data.set_pin_state(wrong, 0.0)
        return PinResult.WRONG

    # -- formatting ---------------------------------------------------------------
    def fmt(self, amount: int, currency: str) -> str:
        return format_money(Money(amount, currency), self.settings.locale)

    def fmt_whole(self, amount: int, currency: str) -> str:
        """In whole units ('€151'): a chart bar's label when the exact sum does not fit over it."""
        return format_money_whole(Money(amount, currency), self.settings.locale)

    def charged_back_text(self, payment: HistoryRow) -> str:
        """' · charged back €20.00' after a payment's state ('' when its guest's bank took nothing back;
        ' · charged back' while the feed has said so but the amount is not known yet)."""
        if not payment.is_charged_back:
            return ""
        amount = payment.amount_charged_back
        return " · charged back" + (f" {self.fmt(amount, payment.currency)}" if amount else "")

    @staticmethod
    def attempt_heading(payment: HistoryRow) -> str:
        """'ATTEMPT 1 · pay_…', or 'SHARE · ATTEMPT 2 · pay_…' for one guest's part of a split bill."""
        return f"{'SHARE · ' if payment.share else ''}ATTEMPT {payment.attempt} · {payment.payment_id}"

    def order_heading(self, order: LocalOrder) -> str:
        """'kiosk-1-ab12 · Table 7 · Ana · opened …'; a partner's order says whose it is and that it is
        paid there, not at this kiosk."""
        who = f"order of partner {order.partner!r}" if order.partner else order.waiter or "no waiter"
        return f"{order.order_id} · Table {order.table} · {who} · opened {self.local_time(order.created_at)}"

    def bill_text(self, order: LocalOrder) -> str:
        """'Split bill, settled: €96.00 of €96.00 paid' ('' for an order that was never split)."""
        bill = order.bill
        if bill is None:
            return ""
        paid, total = self.fmt(bill.paid, order.currency), self.fmt(bill.total, order.currency)
        return f"Split bill, {bill.status}: {paid} of {total} paid"

    def local_time(self, stamp: str | None, pattern: str = "%Y-%m-%d %H:%M") -> str:
        if not stamp:
            return ""
        try:
            return datetime.fromisoformat(stamp).astimezone(self.tz).strftime(pattern)
        except ValueError:
            return stamp

    # -- filters ---------------------------------------------------------------------
    def day_filter(self, first: date, last: date, **others: Any) -> HistoryFilter:
        """Attempts created from the start of business day `first` to the end of `last`."""
        since, _ = business_day_bounds(first, self.settings.business_day_starts_at, self.tz)
        _, until = business_day_bounds(last, self.settings.business_day_starts_at, self.tz)
        return HistoryFilter(since=utc_iso(since), until=utc_iso(until), **others)

    def make_filter(
        self,
        first: date | None = None,
        last: date | None = None,
        status: str | None = None,
        waiter: str | None = None,
        table: str | None = None,
        search: str = "",
    ) -> HistoryFilter:
        """The history filter the screen asks for (dates are business days; None: no bound)."""
        f = HistoryFilter(status=status or None, waiter=waiter, table=table, order_search=search)
        if first is not None and last is not None:
            dated = self.day_filter(first, last)
            f = HistoryFilter(dated.since, dated.until, f.status, f.waiter, f.table, f.order_search)
        return f

    def waiters(self) -> list[str]:
        return self.data.waiters()

    def tables(self) -> list[str]:
        return self.data.tables()

    def today(self) -> date:
        return business_day_of(
            datetime.fromtimestamp(self._clock(), UTC), self.settings.business_day_starts_at, self.tz
        )

    # -- detail ------------------------------------------------------------------------
    def detail(self, order_id: str) -> OrderDetail:
        return OrderDetail(
            self.store.order(order_id),
            [AttemptDetail(p, self.data.events_of(p.payment_id)) for p in self.data.attempts_of(order_id)],
        )

    @asyncSlot(str)
    async def load_pos_trail(self, order_id: str) -> None:
        """GET /v1/orders/{id}/pos; the answer (or why there is none) comes out as posTrail."""
        await self._ask_service(
            order_id,
            self.client.pos_state,
            self.posTrail,
            {
                "unreachable": "The sync service is unreachable: the POS trail cannot be shown now.",
                "not_found": "This order never went to the restaurant's POS.",
                "pos_disabled": "This sync service has no restaurant POS set up.",
            },
        )

    @asyncSlot(str)
    async def load_provider_events(self, order_id: str) -> None:
        """GET /v1/orders/{id}/history: the events that moved each attempt, as the service recorded them."""
        await self._ask_service(
            order_id,
            self.client.order_history,
            self.providerEvents,
            {
                "unreachable": "The sync service is unreachable: its event history cannot be shown now.",
                "not_found": "The sync service has no attempt of this order.",
            },
        )

    async def _ask_service(
        self,
        order_id: str,
        call: Callable[[str], Awaitable[dict[str, Any]]],
        answer: SignalInstance,
        messages: dict[str, str],
    ) -> None:
        """Emit (order_id, body, '') or, when there is no body, (order_id, None, why) in words."""
        try:
            answer.emit(order_id, await call(order_id), "")
        except Unreachable:
            answer.emit(order_id, None, messages["unreachable"])
        except ApiError as exc:
            why = (
                messages["not_found"]
                if exc.status == 404
                else messages.get(exc.code or "") or f"The service answered {exc.status} ({exc.message})."
            )
            answer.emit(order_id, None, why)
        except Exception as error:
            log.exception("asking the service about %s failed", order_id)
            answer.emit(order_id, None, unexpected(error))

    # -- day totals --------------------------------------------------------------------
    def totals(self, day: date) -> DayTotals:
        since, until = business_day_bounds(day, self.settings.business_day_starts_at, self.tz)
        payments = self.data.day_payments(utc_iso(since), utc_iso(until))
        currency = payments[0].currency if payments else (self.data.latest_currency() or "EUR")
        return day_totals(payments, currency, self.tz)

    def chargebacks_text(self, totals: DayTotals) -> str:
        """'Chargebacks −€20.00' under the refunds ('' on a day without): money guests' banks took back,
        which comes off the net like a refund but is not one the restaurant gave."""
        return f"Chargebacks −{self.fmt(totals.chargebacks, totals.currency)}" if totals.chargebacks else ""

    ATTENTION_SHOWN = 3  # the card has room for three (each may wrap once); the rest is one line and a pointer

    def attention_text(self, totals: DayTotals) -> str:
        """The day's unpaid orders whose attempt needs a look, a few by name and how many more."""
        shown = [
            f"{p.order_id} · {PAYMENT_LABELS.get(p.status.value, p.status.value)} · "
            f"{self.fmt(p.amount_total, totals.currency)}"
            for p in totals.attention[: self.ATTENTION_SHOWN]
        ]
        more = len(totals.attention) - self.ATTENTION_SHOWN
        if more > 0:
            shown.append(f"… and {more:,} more (History: filter by state)")
        return "\n".join(shown) or "Nothing"

    def hourly_takings(self, totals: DayTotals) -> list[tuple[int, int]]:
        """(hour, takings) from the first to the last hour with a sale, in business-day order, so
        the hours between show as gaps."""
        start = parse_day_start(self.settings.business_day_starts_at).hour
        offsets = sorted((hour - start) % 24 for hour in totals.takings_by_hour)
        if not offsets:
            return []
        return [
            ((start + h) % 24, totals.takings_by_hour.get((start + h) % 24, 0))
            for h in range(offsets[0], offsets[-1] + 1)
        ]

    def pos_summary(self, body: dict[str, Any]) -> str:
        """The POS trail's first line: 'Status: in_pos · 2 packages'."""
        return f"Status: {body.get('status')} · {counted(len(body.get('packages') or []), 'package')}"

    # -- exports ---------------------------------------------------------------------------
    def _export_path(self, stem: str) -> Path:
        self.export_dir.mkdir(parents=True, exist_ok=True)
        stamp = datetime.fromtimestamp(self._clock()).strftime("%Y%m%d-%H%M%S")
        return self.export_dir / f"{stem}-{stamp}.csv"

    def export_history(
        self, f: HistoryFilter, sort: str = "time", descending: bool = True, bom: bool = False
    ) -> tuple[Path, int]:
        path = self._export_path("payments")
        count = write_history_csv(path, self.data.history_rows(f, sort, descending), bom=bom, tz=self.tz)
        log.info("exported %d payments to %s", count, path)
        return path, count

    def start_history_export(
        self, f: HistoryFilter, sort: str = "time", descending: bool = True, bom: bool = False
    ) -> asyncio.Task[None]:
        """Export on a worker thread with its own read connection, so the screen stays live (100,000
        rows take seconds); `exportDone` says where the file went."""
        path, db_path = self._export_path("payments"), self.data.file_path()

        def work() -> int:
            with ManagerStore.read_only(db_path) as reader:
                return write_history_csv(path, reader.history_rows(f, sort, descending), bom=bom, tz=self.tz)

        loop = asyncio.get_running_loop()
        done: asyncio.Future[int] = loop.create_future()

        def in_thread() -> None:
            # A plain daemon thread: qasync's default executor uses QThreads, which Qt warns about
            # if the app quits while one is still alive.
            try:
                result = work()
            except BaseException as exc:  # noqa: BLE001 - handed to the awaiting coroutine
                # Bound now: `exc` is unset when the except block ends, before the loop runs the callback.
                loop.call_soon_threadsafe(_fail, done, exc)
            else:
                loop.call_soon_threadsafe(_settle, done, result)

        async def run() -> None:
            threading.Thread(target=in_thread, name="history-export", daemon=True).start()
            try:
                count = await done
            except (OSError, sqlite3.Error) as exc:
                log.exception("export failed")
                self.exportDone.emit(f"Export failed: {exc}")
                return
            log.info("exported %d payments to %s", count, path)
            self.exportDone.emit(f"Saved {counted(count, 'payment', self.settings.locale)} to {path}")

        return loop.create_task(run(), name="history-export")

    def export_totals(self, day: date, bom: bool = False) -> Path:
        path = self._export_path(f"day-{day.isoformat()}")
        write_totals_csv(path, day, self.totals(day), bom=bom)
        return path


def _settle(future: asyncio.Future[Any], result: Any) -> None:
    if not future.done():
        future.set_result(result)


def _fail(future: asyncio.Future[Any], error: BaseException) -> None:
    if not future.done():
        future.set_exception(error)
