"""Small building blocks shared by the screens."""

from __future__ import annotations

import segno
from PySide6.QtCore import QRect, QSize, Qt
from PySide6.QtGui import QColor, QPainter, QPaintEvent
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QLayout, QPushButton, QSizePolicy, QVBoxLayout, QWidget


def label(text: str, name: str = "", wrap: bool = False) -> QLabel:
    widget = QLabel(text)
    if name:
        widget.setObjectName(name)
    widget.setWordWrap(wrap)
    return widget


def button(text: str, name: str = "", checkable: bool = False) -> QPushButton:
    widget = QPushButton(text)
    if name:
        widget.setObjectName(name)
    widget.setCheckable(checkable)
    widget.setCursor(Qt.CursorShape.PointingHandCursor)
    widget.setFocusPolicy(Qt.FocusPolicy.NoFocus)
    return widget


def card(layout: QLayout, margins: int = 24) -> QFrame:
    frame = QFrame()
    frame.setObjectName("Card")
    layout.setContentsMargins(margins, margins, margins, margins)
    frame.setLayout(layout)
    return frame


def clear(layout: QLayout) -> None:
    while layout.count():
        item = layout.takeAt(0)
        if item is None:
            break
        widget = item.widget()
        if widget is not None:
            widget.deleteLater()
        elif item.layout() is not None:
            clear(item.layout())


def hbox(*widgets: QWidget, spacing: int = 12) -> QHBoxLayout:
    row = QHBoxLayout()
    row.setSpacing(spacing)
    for widget in widgets:
        row.addWidget(widget)
    return row


def vbox(spacing: int = 12, margins: int = 0) -> QVBoxLayout:
    column = QVBoxLayout()
    column.setSpacing(spacing)
    column.setContentsMargins(margins, margins, margins, margins)
    return column


class QrCode(QWidget):
    """A QR code painted module by module at an integer scale: sharp at any size, no blur."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._matrix: list[list[bool]] = []
        self.data = ""
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(240, 240)

    def set_data(self, data: str) -> None:
        self.data = data
        code = segno.make(data, error="m", micro=False) if data else None
        self._matrix = [[bool(v) for v in row] for row in code.matrix] if code else []
        self.update()

    def sizeHint(self) -> QSize:
        return QSize(480, 480)

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor("white"))
        if not self._matrix:
            return
        quiet = 2
        count = len(self._matrix) + 2 * quiet
        side = min(self.width(), self.height())
        module = max(1, side // count)
        size = module * count
        x0, y0 = (self.width() - size) // 2 + quiet * module, (self.height() - size) // 2 + quiet * module
        black = QColor("#111111")
        for y, row in enumerate(self._matrix):
            for x, dark in enumerate(row):
                if dark:
                    painter.fillRect(QRect(x0 + x * module, y0 + y * module, module, module), black)
        painter.end()
