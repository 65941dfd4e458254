"""Menu grid on the left, the order with tip, donation and totals on the right."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import (
    QButtonGroup,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from tablepay_domain.tips import DonationKind, TipKind

from ..viewmodels import KitchenViewModel, OrderViewModel
from .flow import FlowRow
from .overlays import NoteEditor, NumberPad
from .theme import POS_COLOURS, TONE_COLOURS, pill_style
from .widgets import ElidedLabel, WrapButton, button, card, clear, hbox, label, literal, segmented, vbox

MENU_COLUMNS = 2
LINE_HEIGHT = 60  # one order line: 56 px buttons plus a little air
# Below this page width (a 1024 px screen) the order gets 5/8 of the width rather than 6/11, so dish
# names on its lines stay whole; the menu's tiles and tabs wrap instead.
NARROW_WIDTH = 1100


def divider() -> QFrame:
    line = QFrame()
    line.setObjectName("Divider")
    return line


class OrderPage(QWidget):
    checkoutRequested = Signal()  # Pay in full
    splitRequested = Signal()  # Split the bill

    def __init__(self, vm: OrderViewModel, kitchen: KitchenViewModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("Page")
        self.vm, self.kitchen = vm, kitchen
        self.numpad = NumberPad(self, "Custom tip", vm.fmt)
        self.note_editor = NoteEditor(self)
        self.root = QHBoxLayout(self)
        self.root.setContentsMargins(20, 12, 20, 12)
        self.root.setSpacing(16)
        self.root.addLayout(self._menu_side(), 5)  # the order gets more room than the menu
        self.root.addWidget(self._order_side(), 6)
        vm.changed.connect(self._on_changed)
        kitchen.changed.connect(self._on_kitchen)
        self._on_changed()

    def resizeEvent(self, event: QResizeEvent) -> None:
        narrow = self.width() < NARROW_WIDTH
        self.root.setStretch(0, 3 if narrow else 5)
        self.root.setStretch(1, 5 if narrow else 6)
        super().resizeEvent(event)

    # -- the menu -------------------------------------------------------------
    def _menu_side(self) -> QVBoxLayout:
        column = vbox(spacing=14)
        tabs = FlowRow(spacing=6)  # one row at 1280 px; a second one when the menu side is narrower
        self.category_buttons: dict[str, QPushButton] = {}
        group = QButtonGroup(self)
        for category in self.vm.menu.categories:
            tab = button(category, "CategoryButton", checkable=True)
            tab.clicked.connect(lambda _=False, c=category: self.show_category(c))
            group.addButton(tab)
            tabs.addWidget(tab)
            self.category_buttons[category] = tab
        column.addLayout(tabs)
        self.menu_grid = QGridLayout()
        self.menu_grid.setSpacing(14)
        self.menu_grid.setContentsMargins(0, 0, 0, 0)
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
        return column

    def show_category(self, category: str) -> None:
        self.category_buttons[category].setChecked(True)
        clear(self.menu_grid)
        self.menu_buttons = {}
        for index, item in enumerate(self.vm.menu.in_category(category)):
            # A long name goes onto a second line when the column is narrow (a 1024 px screen), never "…".
            tile = WrapButton(f"{literal(item.name)}\n{self.vm.fmt(item.unit_amount)}", "MenuButton", lines=3)
            tile.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
            tile.clicked.connect(lambda _=False, sku=item.sku: self.vm.add_item(sku))
            self.menu_grid.addWidget(tile, index // MENU_COLUMNS, index % MENU_COLUMNS)
            self.menu_buttons[item.sku] = tile
        for column in range(MENU_COLUMNS):
            self.menu_grid.setColumnStretch(column, 1)
        self.menu_grid.setRowStretch(self.menu_grid.rowCount(), 1)

    # -- the order ------------------------------------------------------------
    def _order_side(self) -> QFrame:
        column = vbox(spacing=6)  # tighter than 8 px: the donation partner's line fits and five lines still do
        self.title = label("", "Title")
        self.note_button = button("+ Note", "Segment")
        self.note_button.setProperty("segment", "only")
        self.note_button.setFixedWidth(128)
        self.note_button.clicked.connect(self._edit_note)
        self.pos_badge = label("")
        self.pos_badge.setFixedHeight(32)
        title_row = hbox(self.title, self.pos_badge)
        title_row.addStretch(1)
        title_row.addWidget(self.note_button)
        column.addLayout(title_row)
        self.kitchen_message = label("", "KitchenMessage", wrap=True)
        column.addWidget(self.kitchen_message)
        self.note_label = label("", "LineMeta", wrap=True)
        column.addWidget(self.note_label)
        self.lines_box = vbox(spacing=0)
        self.lines_box.setContentsMargins(0, 0, 14, 0)  # room for the scroll bar: it never covers a button
        lines_holder = QWidget()
        lines_holder.setLayout(self.lines_box)
        self.lines_scroll = QScrollArea()
        self.lines_scroll.setWidgetResizable(True)
        self.lines_scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.lines_scroll.setMinimumHeight(LINE_HEIGHT * 2)
        self.lines_scroll.setWidget(lines_holder)
        column.addWidget(self.lines_scroll, 1)
        column.addWidget(divider())

        self.choices_box = QGridLayout()  # captions in one column, as wide as the widest needs
        self.choices_box.setHorizontalSpacing(12)
        self.choices_box.setVerticalSpacing(0)  # the partner's line sits right under its row
        self.choices_box.setColumnStretch(1, 1)
        column.addLayout(self.choices_box)
        self._build_choices()
        column.addWidget(divider())

        sums = QHBoxLayout()
        sums.setSpacing(8)
        self.sum_values: dict[str, QLabel] = {}
        self.sum_names: dict[str, QLabel] = {}
        # The partner is named whole under the donation row, so this line never has to cut a long name.
        for key, text in [("dishes", "Dishes"), ("tip", "Tip"), ("donation", "Donation")]:
            name, value = label(text, "SumLabel"), label("", "SumValue")
            sums.addWidget(name)
            sums.addWidget(value)
            sums.addSpacing(18)
            self.sum_names[key], self.sum_values[key] = name, value
        sums.addStretch(1)
        column.addLayout(sums)
        pay = QHBoxLayout()
        pay.setSpacing(16)
        total_block = vbox(spacing=0)
        total_block.addWidget(label("TOTAL", "TotalLabel"))
        self.total_value = label("", "TotalValue")
        total_block.addWidget(self.total_value)
        pay.addLayout(total_block)
        # Both wrap onto two lines rather than widen the order side ("Send to kitchen · 2 new" at 1024 px).
        self.kitchen_button = WrapButton("Send to kitchen", "Kitchen")
        self.kitchen_button.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.kitchen_button.clicked.connect(self.kitchen.send)
        pay.addWidget(self.kitchen_button, 1)
        self.split_button = WrapButton("Split the bill", "Secondary")
        self.split_button.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.split_button.clicked.connect(self.splitRequested.emit)
        pay.addWidget(self.split_button, 1)
        self.checkout_button = WrapButton("Pay in full", "Primary")
        self.checkout_button.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.checkout_button.clicked.connect(self.checkoutRequested.emit)
        pay.addWidget(self.checkout_button, 1)
        column.addLayout(pay)
        return card(column, margins=16)

    def _caption(self, title: str, sub: str = "") -> QWidget:
        holder = QWidget()
        box = vbox(spacing=0)
        box.addStretch(1)
        box.addWidget(label(title, "RowCaption"))
        if sub:
            box.addWidget(label(sub, "RowCaptionSub"))
        box.addStretch(1)
        holder.setLayout(box)
        return holder

    def _build_choices(self) -> None:
        """Tip and donation as two segmented rows; rebuilt when the settings change."""
        clear(self.choices_box)
        settings = self.vm.settings
        self.tip_buttons: dict[int, QPushButton] = {}
        tips: list[QPushButton] = []
        for percent in [0, *settings.tip_presets]:
            chip = WrapButton("No tip" if percent == 0 else f"{percent} %", checkable=True)
            chip.clicked.connect(lambda _=False, p=percent: self.vm.set_tip_percent(p))
            tips.append(chip)
            self.tip_buttons[percent] = chip
        self.custom_tip_button = WrapButton("Custom", checkable=True)
        self.custom_tip_button.clicked.connect(self._custom_tip)
        tips.append(self.custom_tip_button)
        self.choices_box.addWidget(self._caption("Tip", "on dishes"), 0, 0)
        tip_row = segmented(tips)
        tip_row.setContentsMargins(0, 0, 0, 4)
        self.choices_box.addLayout(tip_row, 0, 1)

        self.donation_none = WrapButton("None", checkable=True)
        self.donation_none.clicked.connect(lambda: self.vm.set_donation_fixed(0))
        self.donation_round_up = WrapButton("Round up", checkable=True)
        self.donation_round_up.clicked.connect(self.vm.set_donation_round_up)
        self.donation_buttons: dict[int, QPushButton] = {}
        donations = [self.donation_none, self.donation_round_up]
        for amount in settings.donation_amounts:
            chip = WrapButton(self.vm.fmt(amount), checkable=True)
            chip.clicked.connect(lambda _=False, a=amount: self.vm.set_donation_fixed(a))
            donations.append(chip)
            self.donation_buttons[amount] = chip
        self.donation_title = self._caption("Donation")
        self.choices_box.addWidget(self.donation_title, 1, 0)
        self.donation_row = QWidget()  # a widget, not a bare layout, so the row can be hidden whole
        donation_row = segmented(donations)
        donation_row.setContentsMargins(0, 0, 0, 0)  # as the bare layout had: a widget's default adds 11 px
        self.donation_row.setLayout(donation_row)
        self.choices_box.addWidget(self.donation_row, 1, 1)
        # Right under the buttons and as wide as they are, wrapping: "Médecins Sans Frontières / Doctors
        # Without Borders" is shown whole (a caption beside the row would have about 100 px for it).
        self.donation_partner = label(self.vm.donation_partner_text, "PartnerName", wrap=True)
        self.choices_box.addWidget(self.donation_partner, 2, 1)  # shown by _on_changed, with the rest

    def _show_donations(self) -> None:
        """The donation row, its partner line and its sum only where the sync service takes donations."""
        offered = self.vm.donations_offered
        for widget in (self.donation_title, self.donation_row, self.sum_names["donation"], self.sum_values["donation"]):
            widget.setVisible(offered)
        self.donation_partner.setText(self.vm.donation_partner_text)
        self.donation_partner.setVisible(bool(self.vm.donation_partner_text))

    def on_settings_changed(self) -> None:
        self._build_choices()
        current = next((c for c, b in self.category_buttons.items() if b.isChecked()), None)
        if current is not None:
            self.show_category(current)
        self._on_changed()

    def _line_row(self, sku: str, name: str, quantity: int, unit: int, sent: int, editable: bool) -> QWidget:
        row = QFrame()
        row.setObjectName("LineRow")
        row.setFixedHeight(LINE_HEIGHT)
        layout = QHBoxLayout(row)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(6)
        text = vbox(spacing=0)
        text.addStretch(1)
        text.addWidget(ElidedLabel(name, "LineName"))
        meta = f"{self.vm.fmt(unit)} each" + (f" · {sent} sent to kitchen" if sent else "")
        text.addWidget(ElidedLabel(meta, "LineMeta"))
        text.addStretch(1)
        layout.addLayout(text, 1)
        minus, plus, remove = button("−", "QtyButton"), button("+", "QtyButton"), button("✕", "RemoveButton")
        remove.setToolTip("Remove this line")
        qty = label(str(quantity), "LineQty")
        qty.setFixedWidth(40)
        qty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        minus.clicked.connect(lambda: self.vm.decrement(sku))
        plus.clicked.connect(lambda: self.vm.increment(sku))
        remove.clicked.connect(lambda: self.vm.remove(sku))
        for widget in (minus, plus, remove):
            widget.setEnabled(editable)
        # The kitchen already has `sent` of this dish: the order cannot go below it.
        minus.setEnabled(editable and quantity > sent)
        remove.setEnabled(editable and not sent)
        if sent:
            remove.setToolTip("Already sent to the kitchen: void it at the restaurant's POS")
        line_total = label(self.vm.fmt(quantity * unit), "LineTotal")
        self.line_totals.append(line_total)
        line_total.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        for part in (minus, qty, plus, line_total):
            layout.addWidget(part)
        layout.addSpacing(6)
        layout.addWidget(remove)
        row.setProperty("sku", sku)
        self.line_rows[sku] = (minus, plus, remove)
        return row

    def _on_changed(self) -> None:
        order = self.vm.order
        self._show_donations()
        clear(self.lines_box)
        self.line_rows: dict[str, tuple[QPushButton, QPushButton, QPushButton]] = {}
        self.line_totals: list[QLabel] = []
        editable = self.vm.editable
        if order is None:
            self.title.setText("")
            return
        self.title.setText(f"Table {order.table}")
        for line in order.lines:
            self.lines_box.addWidget(
                self._line_row(
                    line.sku, line.name, line.quantity, line.unit_amount, order.sent_quantity(line.sku), editable
                )
            )
        # One column for the line totals, as wide as the widest (at least 72 px): "€1,234.00" stays whole
        # and an everyday order leaves the room to the dish names.
        for line_total in self.line_totals:
            line_total.ensurePolished()
        column = max([72, *(t.sizeHint().width() for t in self.line_totals)])
        for line_total in self.line_totals:
            line_total.setFixedWidth(column)
        if not order.lines:
            self.lines_box.addWidget(label("Tap a dish to add it.", "Empty"))
        self.lines_box.addStretch(1)
        self.note_label.setText(f"Note: {order.note}" if order.note else "")
        self.note_label.setVisible(bool(order.note))
        totals = self.vm.totals()
        for percent, chip in self.tip_buttons.items():
            chip.setChecked(
                (order.tip.kind is TipKind.NONE and percent == 0)
                or (order.tip.kind is TipKind.PERCENT and order.tip.value == percent)
            )
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
        self.sum_values["dishes"].setText(self.vm.fmt(totals.dishes))
        self.sum_values["tip"].setText(self.vm.fmt(totals.tip))
        self.sum_values["donation"].setText(self.vm.fmt(totals.donation))
        self.total_value.setText(self.vm.fmt(totals.total))
        self.checkout_button.setText(self.vm.pay_text)
        self.checkout_button.setEnabled(self.vm.can_pay)
        self.split_button.setText(self.vm.split_text)
        self.split_button.setEnabled(self.vm.can_split)
        self._on_kitchen()

    def _on_kitchen(self) -> None:
        """The Send-to-kitchen button, the POS badge and the last outcome."""
        self.kitchen_button.setText(self.kitchen.button_text)
        self.kitchen_button.setEnabled(self.kitchen.can_send)
        badge = self.kitchen.pos_label
        self.pos_badge.setText(badge)
        self.pos_badge.setStyleSheet(pill_style(POS_COLOURS.get(self.kitchen.pos_status, POS_COLOURS[None])))
        self.pos_badge.setVisible(bool(badge))
        self.kitchen_message.setText(self.kitchen.message)
        self.kitchen_message.setStyleSheet(f"color: {TONE_COLOURS[self.kitchen.tone.value]};")
        self.kitchen_message.setVisible(bool(self.kitchen.message))

    def _custom_tip(self) -> None:
        order = self.vm.order
        self.custom_tip_button.setChecked(order is not None and order.tip.kind is TipKind.CUSTOM)
        self.numpad.ask(self.vm.totals().tip.amount, self.vm.set_tip_custom)

    def _edit_note(self) -> None:
        if self.vm.order is not None:
            self.note_editor.ask(self.vm.order.note, self.vm.set_note)
