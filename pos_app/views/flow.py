"""A row of buttons that continues on a second row when it is too narrow for one (category tabs)."""

from __future__ import annotations

from PySide6.QtCore import QPoint, QRect, QSize, Qt
from PySide6.QtWidgets import QLayout, QLayoutItem, QWidget


class FlowRow(QLayout):
    """Items left to right, wrapping to the next row when the next one does not fit; each row's spare
    width is shared out evenly, so a row that fits looks like a row of Expanding buttons."""

    def __init__(self, spacing: int = 6, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._items: list[QLayoutItem] = []
        self.setContentsMargins(0, 0, 0, 0)
        self.setSpacing(spacing)

    def addItem(self, item: QLayoutItem) -> None:
        self._items.append(item)

    def count(self) -> int:
        return len(self._items)

    def itemAt(self, index: int) -> QLayoutItem | None:
        return self._items[index] if 0 <= index < len(self._items) else None

    def takeAt(self, index: int) -> QLayoutItem | None:
        return self._items.pop(index) if 0 <= index < len(self._items) else None

    def expandingDirections(self) -> Qt.Orientation:
        return Qt.Orientation.Horizontal

    def hasHeightForWidth(self) -> bool:
        return True

    def heightForWidth(self, width: int) -> int:
        return self._arrange(QRect(0, 0, width, 0), move=False)

    def setGeometry(self, rect: QRect) -> None:
        super().setGeometry(rect)
        self._arrange(rect, move=True)

    def sizeHint(self) -> QSize:  # one row
        hints = [item.sizeHint() for item in self._items]
        width = sum(h.width() for h in hints) + self.spacing() * max(0, len(hints) - 1)
        return QSize(width, max((h.height() for h in hints), default=0))

    def minimumSize(self) -> QSize:  # one item a row at the narrowest
        hints = [item.sizeHint() for item in self._items]
        return QSize(max((h.width() for h in hints), default=0), max((h.height() for h in hints), default=0))

    def _rows(self, width: int) -> list[list[QLayoutItem]]:
        """As few rows as fit, with the items shared evenly between them (2 + 2, not 3 + 1)."""
        greedy = self._greedy(width)
        per_row = -(-len(self._items) // len(greedy))
        even = [self._items[i : i + per_row] for i in range(0, len(self._items), per_row)] or [[]]
        return even if len(even) == len(greedy) and all(self._fits(row, width) for row in even) else greedy

    def _fits(self, row: list[QLayoutItem], width: int) -> bool:
        return sum(i.sizeHint().width() for i in row) + self.spacing() * (len(row) - 1) <= width

    def _greedy(self, width: int) -> list[list[QLayoutItem]]:
        rows: list[list[QLayoutItem]] = [[]]
        used = 0
        for item in self._items:
            needed = item.sizeHint().width() + (self.spacing() if rows[-1] else 0)
            if rows[-1] and used + needed > width:
                rows.append([])
                used, needed = 0, item.sizeHint().width()
            rows[-1].append(item)
            used += needed
        return rows

    def _arrange(self, rect: QRect, move: bool) -> int:
        y = rect.y()
        for row in self._rows(rect.width()):
            height = max(item.sizeHint().height() for item in row) if row else 0
            spare = rect.width() - sum(i.sizeHint().width() for i in row) - self.spacing() * (len(row) - 1)
            share, rest = divmod(max(0, spare), max(1, len(row)))
            x = rect.x()
            for index, item in enumerate(row):
                width = item.sizeHint().width() + share + (1 if index < rest else 0)
                if move:
                    item.setGeometry(QRect(QPoint(x, y), QSize(width, height)))
                x += width + self.spacing()
            y += height + self.spacing()
        return max(0, y - rect.y() - self.spacing())
