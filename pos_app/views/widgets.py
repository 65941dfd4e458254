"""Small building blocks shared by the screens."""

from __future__ import annotations

import time
from collections.abc import Callable

import segno
from PySide6.QtCore import QRect, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QMouseEvent, QPainter, QPaintEvent
from PySide6.QtWidgets import (
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLayout,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)


def label(text: str, name: str = "", wrap: bool = False) -> QLabel:
    widget = QLabel(text)
    if name:
        widget.setObjectName(name)
    widget.setWordWrap(wrap)
    return widget


def literal(text: str) -> str:
    """Data shown on a button as written: Qt reads a single '&' as a keyboard-shortcut marker."""
    return text.replace("&", "&&")


def button(text: str, name: str = "", checkable: bool = False) -> QPushButton:
    widget = QPushButton(text)
    if name:
        widget.setObjectName(name)
    widget.setCheckable(checkable)
    widget.setCursor(Qt.CursorShape.PointingHandCursor)
    widget.setFocusPolicy(Qt.FocusPolicy.NoFocus)
    return widget


PAD_KEYS = ("1", "2", "3", "4", "5", "6", "7", "8", "9", "C", "0", "⌫")


def key_pad(
    on_key: Callable[[str], None], *, spacing: int = 12, key_height: int | None = None, holder: QWidget | None = None
) -> tuple[QGridLayout, dict[str, QPushButton]]:
    """A till-style 3x4 pad of finger-sized keys (digits, C, backspace); each key calls `on_key`."""
    grid = QGridLayout(holder) if holder is not None else QGridLayout()
    grid.setSpacing(spacing)
    if holder is not None:
        grid.setContentsMargins(0, 0, 0, 0)
    keys: dict[str, QPushButton] = {}
    for index, key in enumerate(PAD_KEYS):
        key_button = button(key, "PadKey")
        if key_height is not None:
            key_button.setStyleSheet(f"min-height: {key_height}px; max-height: {key_height}px;")
        key_button.clicked.connect(lambda _=False, k=key: on_key(k))
        grid.addWidget(key_button, index // 3, index % 3)
        keys[key] = key_button
    return grid, keys


def segmented(buttons: list[QPushButton]) -> QHBoxLayout:
    """Buttons joined into one segmented control (rounded ends, shared borders)."""
    row = QHBoxLayout()
    row.setSpacing(0)
    for index, widget in enumerate(buttons):
        widget.setObjectName("Segment")
        position = (
            "only"
            if len(buttons) == 1
            else "first"
            if index == 0
            else "last"
            if index == len(buttons) - 1
            else "middle"
        )
        widget.setProperty("segment", position)
        widget.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        row.addWidget(widget, max(1, widget.sizeHint().width()))
    return row


class ElidedLabel(QLabel):
    """One line that ends in "…" when it does not fit, instead of pushing its neighbours out."""

    def __init__(self, text: str, name: str = "") -> None:
        super().__init__(text)
        if name:
            self.setObjectName(name)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.setMinimumWidth(60)

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setPen(self.palette().color(self.foregroundRole()))
        painter.setFont(self.font())
        rect = self.contentsRect()
        text = self.fontMetrics().elidedText(self.text(), Qt.TextElideMode.ElideRight, rect.width())
        painter.drawText(rect, int(self.alignment()) | int(Qt.AlignmentFlag.AlignVCenter), text)
        painter.end()


class BrandLogo(QWidget):
    """The TablePay mark in the header; a long press (2 s) or 5 quick taps emits `secretGesture`.

    Touch presses reach it as synthesised mouse events, so this works with a finger and a mouse.
    """

    secretGesture = Signal()
    LONG_PRESS_MS = 2000
    TAPS = 5
    TAP_WINDOW_S = 3.0

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("BrandLogo")
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(12)
        mark = label("T", "LogoMark")
        mark.setFixedSize(40, 40)
        mark.setAlignment(Qt.AlignmentFlag.AlignCenter)
        row.addWidget(mark)
        row.addWidget(label("TablePay", "Brand"))
        self.setMinimumHeight(56)
        self._hold = QTimer(self)
        self._hold.setSingleShot(True)
        self._hold.setInterval(self.LONG_PRESS_MS)
        self._hold.timeout.connect(self._fire)
        self._taps: list[float] = []

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            self._hold.start()
        event.accept()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if not self._hold.isActive():  # the long press already fired, or not our press
            return
        self._hold.stop()
        now = time.monotonic()
        self._taps = [t for t in self._taps if now - t < self.TAP_WINDOW_S] + [now]
        if len(self._taps) >= self.TAPS:
            self._fire()
        event.accept()

    def _fire(self) -> None:
        self._taps = []
        self.secretGesture.emit()


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
        elif (inner := item.layout()) is not None:
            clear(inner)


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
