"""The history's filters as state with rules: which days, state, waiter, table and order id.

The history screen shows each filter as a labelled button with its current value in words and
opens a list or a day stepper to change it; every rule (what "All" means, that the first day
never follows the last, which days a quick range covers) lives here, so the view only asks.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from typing import ClassVar

from PySide6.QtCore import QObject, Signal

from ..store import HistoryFilter
from .manager import ManagerViewModel
from .orders import PAYMENT_LABELS

# The states a manager can filter by, in the order a day goes: taken, then open, then what went wrong.
STATES = ("paid", "partially_refunded", "refunded", "open", "pending", "authorized", "failed", "cancelled", "expired")
NO_WAITER = "(no waiter)"  # orders taken before a waiter was set


def natural(text: str) -> tuple[tuple[int, int | str], ...]:
    """A sort key that puts '2' before '10' and 'T2' before 'T10'."""
    return tuple((0, int(part)) if part.isdigit() else (1, part.lower()) for part in re.split(r"(\d+)", text) if part)


@dataclass(frozen=True)
class Choice:
    value: str | None  # None: no filter
    text: str


class HistoryFilters(QObject):
    changed = Signal()  # any filter changed: the history reads its first page again

    # name -> (days back to the first day, days back to the last day), counted from today
    QUICK_RANGES: ClassVar[dict[str, tuple[int, int]]] = {
        "Today": (0, 0),
        "Yesterday": (1, 1),
        "Last 7 days": (6, 0),
        "Last 30 days": (29, 0),
    }

    def __init__(self, manager: ManagerViewModel, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.manager = manager
        self.dated = False
        today = manager.today()
        self.first, self.last = today - timedelta(days=6), today
        self.status: str | None = None
        self.waiter: str | None = None
        self.table: str | None = None
        self.search = ""
        self.waiters: list[str] = []
        self.tables: list[str] = []

    # -- what the manager can pick ---------------------------------------------------------------
    def load_choices(self) -> None:
        """Read the waiters and tables the store knows (when manager mode opens); a pick that no
        longer exists falls back to All."""
        self.waiters = self.manager.waiters()
        self.tables = sorted(self.manager.tables(), key=natural)  # 1, 2, 10, not 1, 10, 2
        if self.waiter is not None and self.waiter not in self.waiters:
            self.waiter = None
        if self.table is not None and self.table not in self.tables:
            self.table = None

    def status_choices(self) -> list[Choice]:
        return [Choice(None, "All states"), *(Choice(s, PAYMENT_LABELS[s]) for s in STATES)]

    def waiter_choices(self) -> list[Choice]:
        return [Choice(None, "All waiters"), *(Choice(w, w or NO_WAITER) for w in self.waiters)]

    def table_choices(self) -> list[Choice]:
        return [Choice(None, "All tables"), *(Choice(t, t) for t in self.tables)]

    # -- the current values in words ---------------------------------------------------------------
    @staticmethod
    def _text(choices: list[Choice], value: str | None) -> str:
        return next((c.text for c in choices if c.value == value), str(value))

    @property
    def status_text(self) -> str:
        return self._text(self.status_choices(), self.status)

    @property
    def waiter_text(self) -> str:
        return self._text(self.waiter_choices(), self.waiter)

    @property
    def table_text(self) -> str:
        return "All tables" if self.table is None else f"Table {self.table}"

    @property
    def days_text(self) -> str:
        """'All days', 'Today', 'Mon 17 Nov', or '17 Nov – 23 Nov'."""
        if not self.dated:
            return "All days"
        if self.first == self.last:
            return "Today" if self.first == self.manager.today() else self.day_text(self.first)
        return f"{self.first:%d %b} – {self.last:%d %b}"

    @staticmethod
    def day_text(day: date) -> str:
        return f"{day:%a %d %b %Y}"

    @property
    def can_step_last_forward(self) -> bool:
        return self.last < self.manager.today()  # no payments tomorrow

    # -- changing them ----------------------------------------------------------------------------
    def set_status(self, value: str | None) -> None:
        self.status = value
        self.changed.emit()

    def set_waiter(self, value: str | None) -> None:
        self.waiter = value
        self.changed.emit()

    def set_table(self, value: str | None) -> None:
        self.table = value
        self.changed.emit()

    def set_search(self, text: str) -> None:
        self.search = text.strip()
        self.changed.emit()

    def set_dated(self, on: bool) -> None:
        self.dated = on
        self.changed.emit()

    def set_days(self, first: date, last: date) -> None:
        """Business days `first` to `last`, both included; swapped if given the wrong way round."""
        self.first, self.last = min(first, last), max(first, last)
        self.dated = True
        self.changed.emit()

    def step_first(self, days: int) -> None:
        """Move the first day; past the last day it takes the last day along."""
        first = self.first + timedelta(days=days)
        self.set_days(first, max(first, self.last))

    def step_last(self, days: int) -> None:
        """Move the last day, never past today; before the first day it takes the first day along."""
        last = min(self.last + timedelta(days=days), self.manager.today())
        self.set_days(min(self.first, last), last)

    def quick_range(self, name: str) -> None:
        """One of QUICK_RANGES, in business days."""
        first_back, last_back = self.QUICK_RANGES[name]
        today = self.manager.today()
        self.set_days(today - timedelta(days=first_back), today - timedelta(days=last_back))

    @property
    def quick_range_name(self) -> str | None:
        """The quick range the chosen days are, if any (its button shows as chosen)."""
        today = self.manager.today()
        return next(
            (
                name
                for name, (first_back, last_back) in self.QUICK_RANGES.items()
                if self.dated
                and (self.first, self.last) == (today - timedelta(days=first_back), today - timedelta(days=last_back))
            ),
            None,
        )

    def reset(self) -> None:
        self.dated, self.status, self.waiter, self.table, self.search = False, None, None, None, ""
        self.changed.emit()

    # -- for the store --------------------------------------------------------------------------
    def current(self) -> HistoryFilter:
        first, last = (self.first, self.last) if self.dated else (None, None)
        return self.manager.make_filter(first, last, self.status, self.waiter, self.table, self.search)
