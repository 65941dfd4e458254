"""The table picker: one large tile per table, marked when it has an open order."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QGridLayout, QPushButton, QWidget

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
        grid = QGridLayout()
        grid.setSpacing(16)
        self.buttons: dict[str, QPushButton] = {}
        for index, table in enumerate(tables):
            tile = button(literal(table), "TableButton")
            tile.clicked.connect(lambda _=False, t=table: self.tablePicked.emit(t))
            grid.addWidget(tile, index // COLUMNS, index % COLUMNS)
            self.buttons[table] = tile
        column.addLayout(grid)
        column.addStretch(1)
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
