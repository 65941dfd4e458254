"""An on-screen keyboard for addresses and tokens: a kiosk has a touch screen and no keys.

It types into whichever of its line edits was touched last (`target`), so an attached keyboard
works too. The till pad (widgets.key_pad) has digits only; an address and a token need letters,
both cases, and the few signs a URL or a token holds (: / . - _).
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject
from PySide6.QtWidgets import QGridLayout, QLineEdit, QPushButton, QWidget

from .widgets import button

SHIFT, BACKSPACE, CLEAR = "⇧", "⌫", "Clear"
ROWS: tuple[tuple[tuple[str, int], ...], ...] = (  # (key, columns it spans), ten columns a row
    tuple((k, 1) for k in "1234567890"),
    tuple((k, 1) for k in "qwertyuiop"),
    tuple((k, 1) for k in "asdfghjkl-"),
    ((SHIFT, 1), *((k, 1) for k in "zxcvbnm_"), (BACKSPACE, 1)),
    (("http://", 2), ("https://", 2), (":", 1), ("/", 1), (".", 2), (CLEAR, 2)),
)


class OnScreenKeyboard(QWidget):
    def __init__(self, parent: QWidget | None = None, key_height: int = 64) -> None:
        super().__init__(parent)
        self.target: QLineEdit | None = None
        self.upper = False
        self.keys: dict[str, QPushButton] = {}
        grid = QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setSpacing(8)
        for row, keys in enumerate(ROWS):
            column = 0
            for key, span in keys:
                key_button = button(key, "KeyboardKey", checkable=key == SHIFT)
                key_button.setFixedHeight(key_height)
                key_button.clicked.connect(lambda _=False, k=key: self.press(k))
                grid.addWidget(key_button, row, column, 1, span)
                self.keys[key] = key_button
                column += span

    def attach(self, *edits: QLineEdit) -> None:
        """Type into these; the one touched last is the target (the first until then)."""
        for edit in edits:
            edit.installEventFilter(self)
        self.target = edits[0] if edits else None

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.FocusIn and isinstance(watched, QLineEdit):
            self.target = watched
        return False

    def press(self, key: str) -> None:
        if key == SHIFT:
            self.upper = not self.upper
            for name, key_button in self.keys.items():
                if len(name) == 1 and name.isalpha():
                    key_button.setText(name.upper() if self.upper else name)
            return
        edit = self.target
        if edit is None:
            return
        if key == BACKSPACE:
            edit.backspace()
        elif key == CLEAR:
            edit.clear()
        else:
            edit.insert(key.upper() if self.upper and len(key) == 1 else key)
