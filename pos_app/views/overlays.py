"""Touch overlays drawn inside the window (never a modal exec(): no nested event loop)."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import QFrame, QGridLayout, QLineEdit, QWidget

from .widgets import button, hbox, key_pad, label, vbox

QUICK_NOTES = ("No onions", "Gluten-free", "Nut allergy", "Vegetarian", "Birthday", "Kids' portion")


class Overlay(QWidget):
    """Dims the window and shows a centred dialog card; hide() closes it."""

    def __init__(self, parent: QWidget, title: str, width: int = 520) -> None:
        super().__init__(parent)
        self.setObjectName("Overlay")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        self.dialog = QFrame(self)
        self.dialog.setObjectName("Dialog")
        self.dialog.setFixedWidth(width)
        self.body = vbox(spacing=16, margins=28)
        self.title = label(title, "Title")
        self.body.addWidget(self.title)
        self.dialog.setLayout(self.body)
        self.hide()

    def open(self) -> None:
        parent = self.parentWidget()
        assert parent is not None
        self.setGeometry(parent.rect())
        self.raise_()
        self.show()
        self._centre()

    def resizeEvent(self, event: QResizeEvent) -> None:
        self._centre()

    def _centre(self) -> None:
        self.dialog.adjustSize()
        self.dialog.move((self.width() - self.dialog.width()) // 2, (self.height() - self.dialog.height()) // 2)


class NumberPad(Overlay):
    """Amounts typed like on a till: 1, 2, 5, 0 gives 12.50 (minor units, no decimal point)."""

    def __init__(self, parent: QWidget, title: str, fmt: Callable[[int], str], maximum: int = 10_000_00) -> None:
        super().__init__(parent, title, width=460)
        self._fmt, self.maximum = fmt, maximum
        self._on_done: Callable[[int], None] = lambda amount: None
        self.amount = 0
        self.display = label(fmt(0), "PadDisplay")
        self.display.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.body.addWidget(self.display)
        grid, self.keys = key_pad(self.press)
        self.body.addLayout(grid)
        self.cancel_button, self.ok_button = button("Cancel", "Secondary"), button("Use amount", "Primary")
        self.cancel_button.clicked.connect(self.hide)
        self.ok_button.clicked.connect(self._done)
        self.body.addLayout(hbox(self.cancel_button, self.ok_button))

    def ask(self, start: int, on_done: Callable[[int], None]) -> None:
        self.amount, self._on_done = start, on_done
        self.display.setText(self._fmt(self.amount))
        self.open()

    def press(self, key: str) -> None:
        if key == "C":
            self.amount = 0
        elif key == "⌫":
            self.amount //= 10
        elif self.amount * 10 + int(key) <= self.maximum:  # beyond it is a typo (a tip over 10,000.00)
            self.amount = self.amount * 10 + int(key)
        self.display.setText(self._fmt(self.amount))

    def _done(self) -> None:
        self.hide()
        self._on_done(self.amount)


class NoteEditor(Overlay):
    """Quick notes by touch; the text field is there for a keyboard if one is attached."""

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent, "Note for the kitchen", width=640)
        self._on_done: Callable[[str], None] = lambda text: None
        self.edit = QLineEdit()
        self.edit.setPlaceholderText("Type a note, or tap below")
        self.body.addWidget(self.edit)
        grid = QGridLayout()
        grid.setSpacing(10)
        for index, text in enumerate(QUICK_NOTES):
            chip = button(text, "Chip")
            chip.clicked.connect(lambda _=False, t=text: self._append(t))
            grid.addWidget(chip, index // 3, index % 3)
        self.body.addLayout(grid)
        clear_button, self.ok_button = button("Clear", "Secondary"), button("Save note", "Primary")
        clear_button.clicked.connect(self.edit.clear)
        self.ok_button.clicked.connect(self._done)
        self.body.addLayout(hbox(clear_button, self.ok_button))

    def ask(self, text: str, on_done: Callable[[str], None]) -> None:
        self.edit.setText(text)
        self._on_done = on_done
        self.open()

    def _append(self, text: str) -> None:
        current = self.edit.text().strip()
        self.edit.setText(f"{current}, {text}" if current else text)

    def _done(self) -> None:
        self.hide()
        self._on_done(self.edit.text().strip())
