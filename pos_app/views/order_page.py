"""Menu grid on the left, the order with tip, donation and totals on the right."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QButtonGroup, QFrame, QGridLayout, QHBoxLayout, QPushButton, QScrollArea, QSizePolicy, QWidget

from tablepay_domain.tips import DonationKind, TipKind

from ..viewmodels import OrderViewModel
from .overlays import NoteEditor, NumberPad
from .widgets import button, card, clear, hbox, label, vbox

MENU_COLUMNS = 2


class OrderPage(QWidget):
    checkoutRequested = Signal()

    def __init__(self, vm: OrderViewModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("Page")
        self.vm = vm
        self.numpad = NumberPad(self, "Custom tip", vm.fmt)
        self.note_editor = NoteEditor(self)
        root = QHBoxLayout(self)
        root.setContentsMargins(24, 14, 24, 14)
        root.setSpacing(20)
        root.addLayout(self._menu_side(), 1)
        root.addWidget(self._order_side(), 1)
        vm.changed.connect(self._on_changed)
        self._on_changed()

    # -- the menu -------------------------------------------------------------
    def _menu_side(self) -> QWidget:
        column = vbox(spacing=16)
        tabs = QHBoxLayout()
        tabs.setSpacing(10)
        self.category_buttons: dict[str, QPushButton] = {}
        group = QButtonGroup(self)
        for category in self.vm.menu.categories:
            tab = button(category, "CategoryButton", checkable=True)
            tab.clicked.connect(lambda _=False, c=category: self.show_category(c))
            group.addButton(tab)
            tabs.addWidget(tab)
            self.category_buttons[category] = tab
        tabs.addStretch(1)
        column.addLayout(tabs)
        self.menu_grid = QGridLayout()
        self.menu_grid.setSpacing(14)
        holder = QWidget()
        holder.setLayout(self.menu_grid)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setWidget(holder)
        column.addWidget(scroll, 1)
        self.menu_buttons: dict[str, QPushButton] = {}
        if self.vm.menu.categories:
            self.show_category(self.vm.menu.categories[0])
        return column  # type: ignore[return-value]

    def show_category(self, category: str) -> None:
        self.category_buttons[category].setChecked(True)
        clear(self.menu_grid)
        self.menu_buttons = {}
        for index, item in enumerate(self.vm.menu.in_category(category)):
            tile = button(f"{item.name}\n{self.vm.fmt(item.unit_amount)}", "MenuButton")
            tile.setMinimumWidth(120)
            tile.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
            tile.clicked.connect(lambda _=False, sku=item.sku: self.vm.add_item(sku))
            self.menu_grid.addWidget(tile, index // MENU_COLUMNS, index % MENU_COLUMNS)
            self.menu_buttons[item.sku] = tile
        for column in range(MENU_COLUMNS):
            self.menu_grid.setColumnStretch(column, 1)
        self.menu_grid.setRowStretch(self.menu_grid.rowCount(), 1)

    # -- the order ------------------------------------------------------------
    def _order_side(self) -> QFrame:
        column = vbox(spacing=8)
        self.title = label("", "Title")
        self.note_button = button("+ Note", "Chip")
        self.note_button.setFixedWidth(140)
        self.note_button.clicked.connect(self._edit_note)
        column.addLayout(hbox(self.title, self.note_button))
        self.note_label = label("", "LineMeta", wrap=True)
        column.addWidget(self.note_label)
        self.lines_box = vbox(spacing=6)
        lines_holder = QWidget()
        lines_holder.setLayout(self.lines_box)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setMinimumHeight(120)
        scroll.setWidget(lines_holder)
        column.addWidget(scroll, 1)

        column.addWidget(label("TIP", "SectionLabel"))
        tips = QHBoxLayout()
        tips.setSpacing(8)
        self.tip_buttons: dict[int, QPushButton] = {}
        for percent in [0, *self.vm.settings.tip_presets]:
            chip = button("None" if percent == 0 else f"{percent} %", "Chip", checkable=True)
            chip.clicked.connect(lambda _=False, p=percent: self.vm.set_tip_percent(p))
            tips.addWidget(chip)
            self.tip_buttons[percent] = chip
        self.custom_tip_button = button("Custom", "Chip", checkable=True)
        self.custom_tip_button.clicked.connect(self._custom_tip)
        tips.addWidget(self.custom_tip_button)
        column.addLayout(tips)

        self.donation_title = label(f"DONATION TO {self.vm.settings.donation_partner.upper()}", "SectionLabel")
        column.addWidget(self.donation_title)
        donations = QHBoxLayout()
        donations.setSpacing(8)
        self.donation_none = button("None", "Chip", checkable=True)
        self.donation_none.clicked.connect(lambda: self.vm.set_donation_fixed(0))
        self.donation_round_up = button("Round up", "Chip", checkable=True)
        self.donation_round_up.clicked.connect(self.vm.set_donation_round_up)
        donations.addWidget(self.donation_none)
        donations.addWidget(self.donation_round_up)
        self.donation_buttons: dict[int, QPushButton] = {}
        for amount in self.vm.settings.donation_amounts:
            chip = button(self.vm.fmt(amount), "Chip", checkable=True)
            chip.clicked.connect(lambda _=False, a=amount: self.vm.set_donation_fixed(a))
            donations.addWidget(chip)
            self.donation_buttons[amount] = chip
        column.addLayout(donations)

        sums = QGridLayout()
        sums.setVerticalSpacing(0)
        self.sum_values: dict[str, QWidget] = {}
        for row, (key, text) in enumerate([("dishes", "Dishes"), ("tip", "Tip"),
                                           ("donation", f"Donation · {self.vm.settings.donation_partner}")]):
            name, value = label(text, "SumLabel"), label("", "SumValue")
            value.setAlignment(Qt.AlignmentFlag.AlignRight)
            sums.addWidget(name, row, 0)
            sums.addWidget(value, row, 1)
            self.sum_values[key] = value
        self.total_value = label("", "TotalValue")
        self.total_value.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        sums.addWidget(label("Total", "TotalLabel"), 3, 0)
        sums.addWidget(self.total_value, 3, 1)
        column.addLayout(sums)
        self.checkout_button = button("Checkout", "Primary")
        self.checkout_button.clicked.connect(self.checkoutRequested.emit)
        column.addWidget(self.checkout_button)
        return card(column, margins=18)

    def _line_row(self, sku: str, name: str, quantity: int, unit: int, editable: bool) -> QWidget:
        row = QWidget()
        layout = QHBoxLayout(row)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(8)
        text = vbox(spacing=0)
        text.addWidget(label(name, "LineName"))
        text.addWidget(label(f"{self.vm.fmt(unit)} each", "LineMeta"))
        layout.addLayout(text, 1)
        minus, plus, remove = button("−", "QtyButton"), button("+", "QtyButton"), button("✕", "RemoveButton")
        qty = label(str(quantity), "LineTotal")
        qty.setFixedWidth(36)
        qty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        minus.clicked.connect(lambda: self.vm.decrement(sku))
        plus.clicked.connect(lambda: self.vm.increment(sku))
        remove.clicked.connect(lambda: self.vm.remove(sku))
        for widget in (minus, plus, remove):
            widget.setEnabled(editable)
        total = label(self.vm.fmt(quantity * unit), "LineTotal")
        total.setFixedWidth(92)
        total.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        for widget in (minus, qty, plus, total, remove):
            layout.addWidget(widget)
        row.setProperty("sku", sku)
        self.line_rows[sku] = (minus, plus, remove)
        return row

    def _on_changed(self) -> None:
        order = self.vm.order
        clear(self.lines_box)
        self.line_rows: dict[str, tuple[QPushButton, QPushButton, QPushButton]] = {}
        editable = self.vm.editable
        if order is None:
            self.title.setText("")
            return
        self.title.setText(f"Table {order.table}")
        for line in order.lines:
            self.lines_box.addWidget(self._line_row(line.sku, line.name, line.quantity, line.unit_amount, editable))
        if not order.lines:
            self.lines_box.addWidget(label("Tap a dish to add it.", "Empty"))
        self.lines_box.addStretch(1)
        self.note_label.setText(f"Note: {order.note}" if order.note else "")
        self.note_label.setVisible(bool(order.note))
        totals = self.vm.totals()
        for percent, chip in self.tip_buttons.items():
            chip.setChecked((order.tip.kind is TipKind.NONE and percent == 0)
                            or (order.tip.kind is TipKind.PERCENT and order.tip.value == percent))
            chip.setEnabled(editable)
        self.custom_tip_button.setChecked(order.tip.kind is TipKind.CUSTOM)
        self.custom_tip_button.setText(self.vm.fmt(totals.tip) if order.tip.kind is TipKind.CUSTOM else "Custom")
        self.custom_tip_button.setEnabled(editable)
        self.donation_none.setChecked(order.donation.kind is DonationKind.NONE)
        self.donation_round_up.setChecked(order.donation.kind is DonationKind.ROUND_UP)
        preview = self.vm.round_up_preview()
        self.donation_round_up.setText(f"Round up +{self.vm.fmt(preview)}" if preview.amount else "Round up")
        for amount, chip in self.donation_buttons.items():
            chip.setChecked(order.donation.kind is DonationKind.FIXED and order.donation.value == amount)
        for chip in (self.donation_none, self.donation_round_up, *self.donation_buttons.values()):
            chip.setEnabled(editable)
        self.sum_values["dishes"].setText(self.vm.fmt(totals.dishes))  # type: ignore[attr-defined]
        self.sum_values["tip"].setText(self.vm.fmt(totals.tip))  # type: ignore[attr-defined]
        self.sum_values["donation"].setText(self.vm.fmt(totals.donation))  # type: ignore[attr-defined]
        self.total_value.setText(self.vm.fmt(totals.total))
        live = order.latest_attempt is not None and order.latest_attempt.status.is_live
        self.checkout_button.setText("Show payment QR" if live else "Checkout")
        self.checkout_button.setEnabled(bool(order.lines) and not order.is_paid)

    def _custom_tip(self) -> None:
        order = self.vm.order
        self.custom_tip_button.setChecked(order is not None and order.tip.kind is TipKind.CUSTOM)
        self.numpad.ask(self.vm.totals().tip.amount, self.vm.set_tip_custom)

    def _edit_note(self) -> None:
        if self.vm.order is not None:
            self.note_editor.ask(self.vm.order.note, self.vm.set_note)
