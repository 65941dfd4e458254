"""Finger-sized pickers for manager mode's filters, instead of QComboBox and QDateEdit.

Why not Qt's own: a QComboBox popup lists rows about 30 px high with a thin scroll bar, and a
style sheet cannot reliably enlarge the popup on every platform style; QDateEdit's arrows are
about 16 px and its calendar's day cells about 30 px. A waiter's or manager's finger needs
48-56 px. So each filter is a labelled 56 px button that shows its value in words; a tap opens
an overlay of 64 px chips (a list) or a day stepper with 64 px − and + buttons. Overlays are child
widgets shown with show(), never exec(): no nested event loop (docs/kiosk.md, Decisions).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QGridLayout, QPushButton, QScrollArea, QSizePolicy, QWidget

from ..viewmodels.history import COLUMNS, HistoryModel
from ..viewmodels.history_filters import Choice, HistoryFilters
from .overlays import Overlay
from .widgets import button, clear, hbox, label, literal, segmented, vbox

PICKER_HEIGHT = 56  # the smallest touch target anywhere (theme.COMPACT)
CHOICE_COLUMNS = 3
LIST_HEIGHT = 440  # the chips scroll beyond this, so the dialog fits a 768 px high window


class Picker(QWidget):
    """A filter: its name above (always visible, not a placeholder), its value on a big button."""

    clicked = Signal()

    def __init__(self, caption: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        column = vbox(spacing=4)
        self.caption = label(caption, "FieldCaption")
        self.button = button("", "Picker")
        self.button.setMinimumHeight(PICKER_HEIGHT)
        self.button.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.button.clicked.connect(self.clicked.emit)
        self.caption.setBuddy(self.button)
        column.addWidget(self.caption)
        column.addWidget(self.button)
        self.setLayout(column)

    def set_value(self, text: str) -> None:
        self.button.setText(f"{literal(text)}  ▾")

    def value(self) -> str:
        return self.button.text().removesuffix("  ▾").replace("&&", "&")


class ChoiceOverlay(Overlay):
    """Pick one of a list: 64 px chips in rows of three; the current one is marked."""

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent, "", width=720)
        self.choices_area = QScrollArea()
        self.choices_area.setWidgetResizable(True)
        self.choices_area.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        holder = QWidget()
        self.grid = QGridLayout(holder)
        self.grid.setSpacing(10)
        self.grid.setContentsMargins(0, 0, 14, 0)  # room for the scroll bar beside the chips
        self.choices_area.setWidget(holder)
        self.body.addWidget(self.choices_area)
        self.close_button = button("Close", "Secondary")
        self.close_button.clicked.connect(self.hide)
        self.body.addWidget(self.close_button)
        self.chips: dict[str | None, QPushButton] = {}

    def ask(
        self, title: str, choices: Sequence[Choice], current: str | None, on_pick: Callable[[str | None], None]
    ) -> None:
        self.title.setText(title)
        clear(self.grid)
        self.chips = {}
        for index, choice in enumerate(choices):
            chip = button(literal(choice.text), "Chip", checkable=True)
            chip.setChecked(choice.value == current)
            chip.clicked.connect(lambda _=False, v=choice.value: self._pick(on_pick, v))
            self.grid.addWidget(chip, index // CHOICE_COLUMNS, index % CHOICE_COLUMNS)
            self.chips[choice.value] = chip
        holder = self.choices_area.widget()
        assert holder is not None
        holder.adjustSize()
        self.choices_area.setFixedHeight(min(LIST_HEIGHT, holder.sizeHint().height()))  # scrolls only when it must
        self.open()

    def _pick(self, on_pick: Callable[[str | None], None], value: str | None) -> None:
        self.hide()
        on_pick(value)


class DayStepper(QWidget):
    """One day with big − and + buttons (a business day: the history's unit)."""

    def __init__(self, caption: str, on_step: Callable[[int], None], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        column = vbox(spacing=4)
        column.addWidget(label(caption, "FieldCaption"))
        self.minus, self.plus = button("−", "StepButton"), button("+", "StepButton")
        self.minus.clicked.connect(lambda: on_step(-1))
        self.plus.clicked.connect(lambda: on_step(1))
        self.day = label("", "StepValue")
        self.day.setAlignment(Qt.AlignmentFlag.AlignCenter)
        row = hbox(self.minus, self.day, self.plus, spacing=10)
        row.setStretch(1, 1)
        column.addLayout(row)
        self.setLayout(column)


class DaysOverlay(Overlay):
    """All days, a quick range, or a first and a last business day stepped with − and +."""

    def __init__(self, parent: QWidget, filters: HistoryFilters) -> None:
        super().__init__(parent, "Days", width=720)
        self.filters = filters
        self.all_button, self.chosen_button = button("All days", checkable=True), button("Chosen days", checkable=True)
        self.all_button.clicked.connect(lambda: filters.set_dated(False))
        self.chosen_button.clicked.connect(lambda: filters.set_dated(True))
        self.body.addLayout(segmented([self.all_button, self.chosen_button]))
        self.quick: dict[str, QPushButton] = {}
        for name in filters.QUICK_RANGES:
            chip = button(name, "Chip", checkable=True)
            chip.clicked.connect(lambda _=False, n=name: filters.quick_range(n))
            self.quick[name] = chip
        self.body.addLayout(hbox(*self.quick.values(), spacing=10))
        self.first = DayStepper("FIRST DAY", filters.step_first)
        self.last = DayStepper("LAST DAY", filters.step_last)
        self.body.addWidget(self.first)  # one under the other: each day gets the dialog's width, never cut off
        self.body.addWidget(self.last)
        self.done_button = button("Done", "Primary")
        self.done_button.clicked.connect(self.hide)
        self.body.addWidget(self.done_button)
        filters.changed.connect(self._render)

    def ask(self) -> None:
        self._render()
        self.open()

    def _render(self) -> None:
        f = self.filters
        self.all_button.setChecked(not f.dated)
        self.chosen_button.setChecked(f.dated)
        chosen = f.quick_range_name
        for name, chip in self.quick.items():
            chip.setChecked(name == chosen)
        self.first.day.setText(f.day_text(f.first))
        self.last.day.setText(f.day_text(f.last))
        self.last.plus.setEnabled(f.can_step_last_forward)  # a tap on a stepper also turns Chosen days on


class ColumnsOverlay(Overlay):
    """Which columns the history shows: a chip per column; Default columns goes back to the set that fits."""

    def __init__(self, parent: QWidget, model: HistoryModel) -> None:
        super().__init__(parent, "Columns", width=720)
        self.model = model
        self.body.addWidget(
            label("The default columns fit the screen; more columns scroll sideways.", "Subtitle", wrap=True)
        )
        grid = QGridLayout()
        grid.setSpacing(10)
        self.chips: dict[str, QPushButton] = {}
        for index, (key, title) in enumerate(COLUMNS):
            chip = button(title, "Chip", checkable=True)
            chip.clicked.connect(lambda on, k=key: model.set_shown(k, on))
            chip.setEnabled(key != "time")  # the list is read by its time
            grid.addWidget(chip, index // CHOICE_COLUMNS, index % CHOICE_COLUMNS)
            self.chips[key] = chip
        self.body.addLayout(grid)
        self.default_button, self.done_button = button("Default columns", "Secondary"), button("Done", "Primary")
        self.default_button.clicked.connect(model.default_columns)
        self.done_button.clicked.connect(self.hide)
        self.body.addLayout(hbox(self.default_button, self.done_button))
        model.columnsChanged.connect(self._render)

    def ask(self) -> None:
        self._render()
        self.open()

    def _render(self) -> None:
        for key, chip in self.chips.items():
            chip.setChecked(key in self.model.shown)
