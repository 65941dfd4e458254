"""The payment history as a QAbstractTableModel that reads SQLite a page at a time.

Qt asks `canFetchMore`/`fetchMore` as the view scrolls; each page is one LIMIT/OFFSET query with
the filter and sort in SQL, so opening 100,000 payments costs one page, not 100,000 rows.
The model also owns the screen's filters (HistoryFilters) and which columns are shown.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt, Signal

from ..store import HistoryFilter, HistoryRow, ManagerStore
from .history_filters import HistoryFilters
from .kitchen import POS_LABELS
from .manager import ManagerViewModel
from .orders import PAYMENT_LABELS
from .wording import counted

# key (a store.SORT_SQL key), header
COLUMNS = (
    ("time", "Time"),
    ("table", "Table"),
    ("waiter", "Waiter"),
    ("order", "Order"),
    ("state", "State"),
    ("dishes", "Dishes"),
    ("tip", "Tip"),
    ("donation", "Donation"),
    ("total", "Total"),
    ("reference", "Provider ref."),
    ("pos", "POS"),
)
MONEY_COLUMNS = {"dishes", "tip", "donation", "total"}
# What a manager looks for in a list (when, where, who, what happened, how much, the kitchen's side);
# the rest is in Order detail. These fit side by side, without a horizontal scroll bar, in a
# 1024 px window as in a 1280 px one; the others are one tap away under Columns.
DEFAULT_COLUMNS = ("time", "table", "waiter", "order", "state", "tip", "total", "pos")
ROW_ROLE = Qt.ItemDataRole.UserRole + 1  # the HistoryRow itself
_Index = QModelIndex | QPersistentModelIndex


class HistoryModel(QAbstractTableModel):
    filterChanged = Signal()  # a new filter or sort: the count changed
    columnsChanged = Signal()  # a column was shown or hidden

    PAGE = 200

    def __init__(self, manager: ManagerViewModel, parent: Any = None) -> None:
        super().__init__(parent)
        self.manager = manager
        self.data_store: ManagerStore = manager.data
        self.filter = HistoryFilter()
        self.sort_key, self.descending = "time", True
        self.rows: list[HistoryRow] = []
        self.total = 0
        self.shown: tuple[str, ...] = DEFAULT_COLUMNS
        self.filters = HistoryFilters(manager, self)
        self.filters.changed.connect(self.apply_filters)

    # -- what the screen shows around the table ------------------------------------------------------
    @property
    def count_text(self) -> str:
        """'1 payment', '640 payments': how many attempts the filter matches (all of them, not the loaded page)."""
        return counted(self.total, "payment", self.manager.settings.locale)

    def column_key(self, column: int) -> str:
        return COLUMNS[column][0]

    def column_of(self, key: str) -> int:
        return next(i for i, (k, _) in enumerate(COLUMNS) if k == key)

    def is_shown(self, column: int) -> bool:
        return COLUMNS[column][0] in self.shown

    def set_shown(self, key: str, on: bool) -> None:
        """Show or hide a column; the time always stays (it is how the list is read and sorted)."""
        if key == "time":
            return
        keys = set(self.shown) | {key} if on else set(self.shown) - {key}
        self.shown = tuple(k for k, _ in COLUMNS if k in keys)
        self.columnsChanged.emit()

    def default_columns(self) -> None:
        self.shown = DEFAULT_COLUMNS
        self.columnsChanged.emit()

    def apply_filters(self) -> None:
        self.set_filter(self.filters.current())

    # -- loading -------------------------------------------------------------------------------
    def set_filter(self, f: HistoryFilter) -> None:
        self.filter = f
        self.reload()

    def reload(self, keep: int = 0) -> None:
        """Read the first page again (or as many rows as were loaded, to keep the scroll place)."""
        self.beginResetModel()
        self.total = self.data_store.history_count(self.filter)
        self.rows = self.data_store.history_page(self.filter, self.sort_key, self.descending, 0, max(self.PAGE, keep))
        self.endResetModel()
        self.filterChanged.emit()

    def refresh(self, *_: object) -> None:
        """After feed events: the same filter and rows, with their new states."""
        self.reload(keep=len(self.rows))

    def canFetchMore(self, parent: _Index = QModelIndex()) -> bool:  # noqa: B008 (Qt's signature)
        return not parent.isValid() and len(self.rows) < self.total

    def fetchMore(self, parent: _Index = QModelIndex()) -> None:  # noqa: B008
        page = self.data_store.history_page(self.filter, self.sort_key, self.descending, len(self.rows), self.PAGE)
        if not page:
            self.total = len(self.rows)
            return
        self.beginInsertRows(QModelIndex(), len(self.rows), len(self.rows) + len(page) - 1)
        self.rows.extend(page)
        self.endInsertRows()

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        self.sort_key, self.descending = COLUMNS[column][0], order == Qt.SortOrder.DescendingOrder
        self.reload()

    # -- the table ------------------------------------------------------------------------------
    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section][1]
        return None

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        row = self.rows[index.row()]
        key = COLUMNS[index.column()][0]
        if role == Qt.ItemDataRole.DisplayRole:
            return self.text(row, key)
        if role == Qt.ItemDataRole.TextAlignmentRole and key in MONEY_COLUMNS:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == ROW_ROLE:
            return row
        return None

    def text(self, row: HistoryRow, key: str) -> str:
        m = self.manager
        if key == "time":
            return m.local_time(row.created_at, "%d %b %H:%M")
        if key == "state":
            label = PAYMENT_LABELS.get(row.status, row.status)
            if row.amount_refunded and row.status == "partially_refunded":
                label += f" ({m.fmt(row.amount_refunded, row.currency)})"
            return label + (" · share" if row.share else "") + m.charged_back_text(row)
        if key == "pos":
            return POS_LABELS.get(row.pos_status, row.pos_status or "") or "—"
        values = {
            "table": row.table,
            "waiter": f"{row.partner} (partner)" if row.partner else row.waiter,
            "order": row.order_id,
            "reference": row.provider_reference or "",
            "dishes": row.dish_subtotal,
            "tip": row.tip_amount,
            "donation": row.donation_amount,
            "total": row.amount_total,
        }
        value = values[key]
        return m.fmt(value, row.currency) if isinstance(value, int) else str(value)

    def row_at(self, index: int) -> HistoryRow:
        return self.rows[index]
