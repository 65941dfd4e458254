"""Small building blocks shared by the screens."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

import segno
from PySide6.QtCore import QRect, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QFontMetrics, QMouseEvent, QPainter, QPaintEvent
from PySide6.QtWidgets import (
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLayout,
    QPushButton,
    QSizePolicy,
    QStyle,
    QStyleOptionButton,
    QStylePainter,
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


def wrapped(text: str, metrics: QFontMetrics, width: int) -> str:
    """`text` with line breaks between words so no line is wider than `width` (a word that is wider
    stays whole on its own line: it is never cut)."""
    lines: list[str] = []
    for paragraph in text.split("\n"):
        line = ""
        for word in paragraph.split(" "):
            candidate = f"{line} {word}" if line else word
            if line and metrics.horizontalAdvance(candidate) > width:
                lines.append(line)
                line = word
            else:
                line = candidate
        lines.append(line)
    return "\n".join(lines)


class WrapButton(QPushButton):
    """A button whose words go onto more lines when it is narrower than its text (never cut, never
    "…"): on a wide screen it looks like any button, on a narrow one "Round up +€0.54" becomes two lines.

    `lines` is how many lines its height holds; the narrowest it gets (minimumSizeHint) is the width
    at which the text needs no more than that. The style draws the text, so every state keeps its colours.
    """

    def __init__(self, text: str, name: str = "", checkable: bool = False, *, lines: int = 2) -> None:
        super().__init__(text)
        if name:
            self.setObjectName(name)
        self.setCheckable(checkable)
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        # Preferred, not QPushButton's Minimum (which makes the one-line width the least it can have).
        self.setSizePolicy(QSizePolicy.Policy.Preferred, self.sizePolicy().verticalPolicy())
        self.lines = lines

    def _text_width(self, text: str) -> int:
        return max((self.fontMetrics().horizontalAdvance(line) for line in text.split("\n")), default=0)

    def _chrome(self) -> int:
        """Border and padding: what the style adds around the text."""
        return super().sizeHint().width() - self._text_width(self.text())

    def minimumSizeHint(self) -> QSize:
        text, metrics = self.text(), self.fontMetrics()
        low = max((self._text_width(word) for word in text.replace("\n", " ").split(" ")), default=0)
        high = max(low, self._text_width(text))
        while low < high:  # the narrowest width whose wrapped text has at most `lines` lines
            middle = (low + high) // 2
            if wrapped(text, metrics, middle).count("\n") + 1 <= self.lines:
                high = middle
            else:
                low = middle + 1
        return QSize(low + self._chrome(), super().minimumSizeHint().height())

    def shown_text(self) -> str:
        """The text as painted at the current width (tests check that nothing is cut)."""
        return wrapped(self.text(), self.fontMetrics(), self.width() - self._chrome())

    def paintEvent(self, event: QPaintEvent) -> None:
        option = QStyleOptionButton()
        self.initStyleOption(option)
        option.text = self.shown_text()
        painter = QStylePainter(self)
        painter.drawControl(QStyle.ControlElement.CE_PushButton, option)
        painter.end()


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


def segmented(buttons: Sequence[QPushButton]) -> QHBoxLayout:
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
        # No stretch factors: each gets its own width first, then an even share of the rest; when the row
        # is short, a WrapButton gives way by going onto two lines.
        row.addWidget(widget)
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
    """A QR code painted module by module at an integer scale: sharp at any size, no blur.

    It takes the square the layout gives it (600 px on the 1280x800 screen, less on a smaller one) but
    never less than MIN_SIDE: a phone still reads it from across a table. The quiet zone (QUIET modules
    of white on each side) is inside the painted square and never cut.
    """

    MIN_SIDE = 360
    QUIET = 2  # modules; the white card around the code adds more

    def __init__(self, parent: QWidget | None = None, preferred: int = 600) -> None:
        super().__init__(parent)
        self._matrix: list[list[bool]] = []
        self.data = ""
        self.preferred = preferred
        policy = QSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Preferred)
        policy.setHeightForWidth(True)
        self.setSizePolicy(policy)
        self.setMinimumSize(self.MIN_SIDE, self.MIN_SIDE)
        self.setMaximumSize(preferred, preferred)

    def set_data(self, data: str) -> None:
        self.data = data
        code = segno.make(data, error="m", micro=False) if data else None
        self._matrix = [[bool(v) for v in row] for row in code.matrix] if code else []
        # The least square in which whole modules still make MIN_SIDE (41 modules: 9 px each, 369 px).
        count = len(self._matrix) + 2 * self.QUIET
        least = -(-self.MIN_SIDE // count) * count if self._matrix else self.MIN_SIDE
        self.setMinimumSize(least, least)
        self.update()

    def sizeHint(self) -> QSize:
        return QSize(self.preferred, self.preferred)

    def hasHeightForWidth(self) -> bool:
        return True

    def heightForWidth(self, width: int) -> int:
        return width

    def painted(self) -> tuple[int, int]:
        """(side of the painted code with its quiet zone, px per module): what a phone gets to read."""
        if not self._matrix:
            return 0, 0
        count = len(self._matrix) + 2 * self.QUIET
        module = max(1, min(self.width(), self.height()) // count)
        return module * count, module

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor("white"))
        if not self._matrix:
            return
        size, module = self.painted()
        x0 = (self.width() - size) // 2 + self.QUIET * module
        y0 = (self.height() - size) // 2 + self.QUIET * module
        black = QColor("#111111")
        for y, row in enumerate(self._matrix):
            for x, dark in enumerate(row):
                if dark:
                    painter.fillRect(QRect(x0 + x * module, y0 + y * module, module, module), black)
        painter.end()
