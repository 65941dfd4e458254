"""The PIN pad that guards the settings, and the settings screen itself (touch only, no keyboard)."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QGridLayout, QHBoxLayout, QPushButton, QWidget

from tablepay_domain.money import Money
from tablepay_locale import LOCALES  # the locales the kiosk offers

from ..money_format import format_money
from ..pin import MAX_DIGITS
from ..viewmodels import ManagerViewModel, OrderViewModel, PinResult, SettingsViewModel
from ..viewmodels.settings import MAX_DONATION_AMOUNTS, MAX_TIP_PRESETS, SET_PIN_COMMAND
from .overlays import NumberPad, Overlay
from .theme import DANGER, PAID, WARN, pill_style
from .widgets import ElidedLabel, button, card, clear, hbox, key_pad, label, segmented, vbox


class PinPad(Overlay):
    """Digits shown as dots; Unlock checks them. Without a PIN it says how to set one."""

    unlocked = Signal()

    def __init__(self, parent: QWidget, vm: SettingsViewModel | ManagerViewModel) -> None:
        # The manager's gate has the same shape (has_pin, check_pin, locked_for) and its own words.
        super().__init__(parent, getattr(vm, "title", "Settings"), width=440)
        self.vm = vm
        self.prompt = getattr(vm, "prompt", "Enter the settings PIN")
        self.no_pin_text = getattr(
            vm, "no_pin_text", "No settings PIN is set on this kiosk yet. To set one, run this on the kiosk's machine:"
        )
        self.digits = ""
        self.message = label("", "PinMessage", wrap=True)
        self.dots = label("", "PinDots")
        self.dots.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.dots.setMinimumHeight(72)
        self.body.addWidget(self.message)
        self.body.addWidget(self.dots)
        self.command = label(getattr(vm, "command", SET_PIN_COMMAND), "Code")
        self.command.setTextInteractionFlags(Qt.TextInteractionFlag.NoTextInteraction)
        self.body.addWidget(self.command)
        self.grid_holder = QWidget()
        _, self.keys = key_pad(self.press, holder=self.grid_holder)
        self.body.addWidget(self.grid_holder)
        self.cancel_button, self.ok_button = button("Cancel", "Secondary"), button("Unlock", "Primary")
        self.cancel_button.clicked.connect(self.hide)
        self.ok_button.clicked.connect(self.submit)
        self.body.addLayout(hbox(self.cancel_button, self.ok_button))

    def ask(self) -> None:
        self.digits = ""
        has_pin = self.vm.has_pin
        self.grid_holder.setVisible(has_pin)
        self.dots.setVisible(has_pin)
        self.ok_button.setVisible(has_pin)
        self.command.setVisible(not has_pin)
        self.cancel_button.setText("Cancel" if has_pin else "Close")
        if has_pin and self.vm.locked_for() > 0:
            self._say(f"Too many wrong PINs. Try again in {self.vm.locked_for():.0f} s.", error=True)
        elif has_pin:
            self._say(self.prompt)
        else:
            self._say(self.no_pin_text)
        self._render()
        self.open()

    def press(self, key: str) -> None:
        if key == "C":
            self.digits = ""
        elif key == "⌫":
            self.digits = self.digits[:-1]
        elif len(self.digits) < MAX_DIGITS:
            self.digits += key
        self._render()

    def submit(self) -> None:
        result = self.vm.check_pin(self.digits)
        self.digits = ""
        self._render()
        if result is PinResult.OK:
            self.hide()
            self.unlocked.emit()
        elif result is PinResult.LOCKED:
            self._say(f"Too many wrong PINs. Try again in {self.vm.locked_for():.0f} s.", error=True)
        elif result is PinResult.WRONG:
            self._say("Wrong PIN. Try again.", error=True)
        else:
            self.ask()

    def _say(self, text: str, error: bool = False) -> None:
        self.message.setText(text)
        self.message.setProperty("error", "true" if error else "false")
        self.message.style().unpolish(self.message)
        self.message.style().polish(self.message)

    def _render(self) -> None:
        self.dots.setText("●" * len(self.digits) if self.digits else "·" * 4)


class SettingsPage(QWidget):
    """Kiosk identity and connection on the left, tips, donation and locale on the right."""

    closed = Signal()

    def __init__(self, vm: SettingsViewModel, order_vm: OrderViewModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("Page")
        self.vm, self.order_vm = vm, order_vm
        self.tip_pad = NumberPad(self, "Tip preset", lambda value: f"{value} %", maximum=100)
        self.amount_pad = NumberPad(self, "Donation amount", order_vm.fmt, maximum=1000_00)
        root = vbox(spacing=16, margins=24)
        top = QHBoxLayout()
        top.addWidget(label("Settings", "Title"), 1)
        self.cancel_button, self.save_button = button("Close", "Secondary"), button("Save", "Primary")
        self.cancel_button.setFixedWidth(180)
        self.save_button.setFixedWidth(220)
        self.cancel_button.clicked.connect(self._close)
        self.save_button.clicked.connect(self._save)
        top.addWidget(self.cancel_button)
        top.addSpacing(12)
        top.addWidget(self.save_button)
        root.addLayout(top)
        self.error = label("", "PinMessage", wrap=True)
        self.error.setProperty("error", "true")
        root.addWidget(self.error)
        columns = QHBoxLayout()
        columns.setSpacing(20)
        columns.addWidget(self._kiosk_card(), 5)
        columns.addWidget(self._choices_card(), 6)
        root.addLayout(columns, 1)
        self.setLayout(root)
        vm.draftChanged.connect(self._render)
        vm.connectionTested.connect(self._on_tested)
        self._render()

    def _field(self, box: QGridLayout, row: int, name: str, value: QWidget) -> None:
        box.addWidget(label(name, "FieldLabel"), row, 0)
        box.addWidget(value, row, 1)

    def _kiosk_card(self) -> QWidget:
        column = vbox(spacing=14)
        column.addWidget(label("THIS KIOSK", "SectionLabel"))
        grid = QGridLayout()
        grid.setHorizontalSpacing(16)
        grid.setVerticalSpacing(12)
        grid.setColumnStretch(1, 1)
        self.kiosk_id = ElidedLabel(self.vm.settings.kiosk_id, "FieldValue")
        self.service_url = ElidedLabel(self.vm.service_url, "FieldValue")
        self.connection = label("")
        self._field(grid, 0, "Kiosk id", self.kiosk_id)
        self._field(grid, 1, "Sync service", self.service_url)
        self._field(grid, 2, "Connection", hbox_widget(self.connection))
        column.addLayout(grid)
        self.test_button = button("Test connection", "Secondary")
        self.test_button.clicked.connect(self._test)
        column.addWidget(self.test_button)
        self.test_result = label("", "PinMessage", wrap=True)
        column.addWidget(self.test_result)
        column.addStretch(1)
        return card(column, margins=24)

    def _choices_card(self) -> QWidget:
        column = vbox(spacing=12)
        column.addWidget(label("TIP PRESETS · tap to change, 0 removes", "SectionLabel"))
        self.tips_row = QHBoxLayout()
        column.addLayout(self.tips_row)
        column.addSpacing(6)
        # Wrapping: a partner such as "Médecins Sans Frontières / Doctors Without Borders" is named whole.
        donations = label(f"DONATION AMOUNTS · {self.vm.settings.donation_partner.upper()}", "SectionLabel", wrap=True)
        column.addWidget(donations)
        self.donations_row = QHBoxLayout()
        column.addLayout(self.donations_row)
        column.addSpacing(6)
        column.addWidget(label("LOCALE · how amounts are shown", "SectionLabel"))
        self.locale_grid = QGridLayout()
        self.locale_grid.setSpacing(8)
        self.locale_buttons: dict[str, QPushButton] = {}
        for index, locale in enumerate(LOCALES):
            chip = button(locale, "Chip", checkable=True)
            chip.clicked.connect(lambda _=False, loc=locale: self.vm.set_locale(loc))
            self.locale_grid.addWidget(chip, index // 4, index % 4)
            self.locale_buttons[locale] = chip
        column.addLayout(self.locale_grid)
        self.locale_sample = label("", "FieldLabel")
        column.addWidget(self.locale_sample)
        column.addStretch(1)
        return card(column, margins=24)

    # -- rendering ------------------------------------------------------------------
    def open(self) -> None:
        self.vm.begin_edit()
        self.test_result.setText("")
        self.set_connection(self._connection_state)

    _connection_state = ("Connecting…", WARN)

    def set_connection(self, state: tuple[str, str]) -> None:
        self._connection_state = state
        self.connection.setText(f"●  {state[0]}")
        self.connection.setStyleSheet(pill_style(state[1]))

    def _render(self) -> None:
        fmt = self.order_vm.fmt
        self.tip_buttons = self._values_row(
            self.tips_row, self.vm.tip_presets, MAX_TIP_PRESETS, lambda v: f"{v} %", self._edit_tip
        )
        self.donation_buttons = self._values_row(
            self.donations_row, self.vm.donation_amounts, MAX_DONATION_AMOUNTS, fmt, self._edit_donation
        )
        for locale, chip in self.locale_buttons.items():
            chip.setChecked(locale == self.vm.locale)
        sample = format_money(Money(123450, self.order_vm.menu.currency), self.vm.locale)
        self.locale_sample.setText(f"{self.vm.locale}: {sample}")
        self.error.setText(self.vm.error)
        self.error.setVisible(bool(self.vm.error))

    def _values_row(
        self, row: QHBoxLayout, values: list[int], limit: int, fmt: Callable[[int], str], edit: Callable[[int], None]
    ) -> list[QPushButton]:
        clear(row)
        buttons = []
        for index, value in enumerate(values):
            chip = button(fmt(value))
            chip.clicked.connect(lambda _=False, i=index: edit(i))
            buttons.append(chip)
        if len(values) < limit:
            add, new_index = button("+ Add"), len(values)
            add.clicked.connect(lambda _=False, i=new_index: edit(i))
            buttons.append(add)
        row.addLayout(segmented(buttons))
        return buttons

    def _edit_tip(self, index: int) -> None:
        start = self.vm.tip_presets[index] if index < len(self.vm.tip_presets) else 0
        self.tip_pad.ask(start, lambda value: self.vm.set_tip_preset(index, value))

    def _edit_donation(self, index: int) -> None:
        start = self.vm.donation_amounts[index] if index < len(self.vm.donation_amounts) else 0
        self.amount_pad.ask(start, lambda value: self.vm.set_donation_amount(index, value))

    def _test(self) -> None:
        self.test_result.setText("Testing…")
        self.test_result.setProperty("error", "false")
        self.vm.test_connection()

    def _on_tested(self, ok: bool, message: str) -> None:
        self.test_result.setText(("✓  " if ok else "✕  ") + message)
        self.test_result.setStyleSheet(f"color: {PAID if ok else DANGER}; font-weight: 600; font-size: 17px;")

    def _save(self) -> None:
        if self.vm.save():
            self.closed.emit()

    def _close(self) -> None:
        self.vm.begin_edit()
        self.closed.emit()


def hbox_widget(widget: QWidget) -> QWidget:
    holder = QWidget()
    row = hbox(widget)
    row.setContentsMargins(0, 0, 0, 0)
    row.addStretch(1)
    holder.setLayout(row)
    return holder
