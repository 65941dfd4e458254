"""The table picker: one large tile per table, marked when it has an open order."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QGridLayout, QPushButton, QScrollArea, QSizePolicy, QWidget

from ..viewmodels import OrdersViewModel
from .widgets import button, label, literal, vbox

COLUMNS = 4


class TablesPage(QWidget):
    tablePicked = Signal(str)

    def __init__(self, tables: tuple[str, ...], orders: OrdersViewModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("Page")
        self.orders = orders
        column = vbox(spacing=18, margins=28)
        column.addWidget(label("Pick a table", "Title"))
        column.addWidget(label("Tables with an open order are outlined.", "Subtitle"))
        holder = QWidget()
        plan = vbox(spacing=0)
        grid = QGridLayout()
        grid.setSpacing(16)
        plan.addLayout(grid, 1)  # the tiles grow first (to 120 px), then the space below them
        plan.addStretch(0)
        holder.setLayout(plan)
        self.buttons: dict[str, QPushButton] = {}
        for index, table in enumerate(tables):
            tile = button(literal(table), "TableButton")
            # 120 px where the screen has room (1280x800), down to 96 px on a 768 px high one; beyond
            # four rows the plan scrolls rather than push the window taller than the screen.
            tile.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Expanding)
            tile.clicked.connect(lambda _=False, t=table: self.tablePicked.emit(t))
            grid.addWidget(tile, index // COLUMNS, index % COLUMNS)
            self.buttons[table] = tile
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setWidget(holder)
        column.addWidget(scroll, 1)
        self.setLayout(column)
        orders.changed.connect(self._on_orders_changed)

    def _on_orders_changed(self) -> None:
        busy = self.orders.open_tables()
        for table, tile in self.buttons.items():
            count = busy.get(table, 0)
            tile.setText(f"{table}\n{count} open" if count else table)
            tile.setProperty("busy", "true" if count else "false")
            tile.style().unpolish(tile)
            tile.style().polish(tile)
