"""Manager mode's day totals (figures and chart) and reconciliation tabs."""

from __future__ import annotations

from datetime import date, timedelta

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QWidget,
)

from ..viewmodels import ManagerViewModel, ReconcileViewModel
from .manager_chart import DayChart
from .widgets import button, card, hbox, label, vbox


class TotalsTab(QWidget):
    def __init__(self, manager: ManagerViewModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.manager = manager
        self.day = manager.today()
        root = vbox(spacing=12)
        top = QHBoxLayout()
        self.prev_button, self.next_button, self.today_button = button("◀"), button("▶"), button("Today")
        for widget in (self.prev_button, self.next_button):
            widget.setFixedWidth(72)
        # The day and when it starts, one above the other: on one line they need 500 px at 30 px.
        self.day_label = label("", "Title")
        self.day_start = label("", "Subtitle")
        day = vbox(spacing=0)
        day.addWidget(self.day_label)
        day.addWidget(self.day_start)
        self.prev_button.clicked.connect(lambda: self.show_day(self.day - timedelta(days=1)))
        self.next_button.clicked.connect(lambda: self.show_day(self.day + timedelta(days=1)))
        self.today_button.clicked.connect(lambda: self.show_day(self.manager.today()))
        self.bom = QCheckBox("BOM for Excel")
        self.export_button = button("Export day CSV")
        self.export_button.clicked.connect(self._export)
        top.addWidget(self.prev_button)
        top.addLayout(day, 1)
        top.addWidget(self.next_button)
        top.addWidget(self.today_button)
        top.addSpacing(16)
        top.addWidget(self.bom)
        top.addWidget(self.export_button)
        root.addLayout(top)
        self.export_message = label("", "LineMeta")
        root.addWidget(self.export_message)

        figures = QGridLayout()
        # Two rows of four: a busy day's five-digit figures ("€12,345.67") still fit 984 px (1024x768).
        figures.setHorizontalSpacing(16)
        figures.setVerticalSpacing(4)
        self.values: dict[str, QLabel] = {}
        names = (
            ("paid_orders", "PAID ORDERS"),
            ("gross", "GROSS TAKEN"),
            ("revenue", "REVENUE (DISHES)"),
            ("tips", "TIPS"),
            ("donations", "DONATIONS"),
            ("refunds", "REFUNDS"),
            ("attention", "NEED A LOOK"),
        )
        for index, (key, title) in enumerate(names):
            row, column = 3 * (index // 4), index % 4
            figures.addWidget(label(title, "SectionLabel"), row, column)
            value = label("", "Figure")
            self.values[key] = value
            figures.addWidget(value, row + 1, column)
        # Under the refunds, apart from them (a bank took it back; nobody here gave it), on a day with any.
        self.chargebacks = label("", "LineMeta")
        refunds = [key for key, _ in names].index("refunds")
        figures.addWidget(self.chargebacks, 3 * (refunds // 4) + 2, refunds % 4)
        root.addWidget(card(figures, margins=16))
        lists = QHBoxLayout()
        # Wrapped: a long partner name or many unpaid orders make a card taller, never the tab wider.
        self.tips_list, self.partners_list, self.attention_list = (
            label("", wrap=True),
            label("", wrap=True),
            label("", wrap=True),
        )
        for title, listing in (
            ("TIPS PER WAITER", self.tips_list),
            ("DONATIONS PER PARTNER (not revenue)", self.partners_list),
            ("OPEN OR FAILED, ORDER NOT PAID", self.attention_list),
        ):
            box = vbox(spacing=4)
            box.addWidget(label(title, "SectionLabel"))
            box.addWidget(listing)
            box.addStretch(1)
            lists.addWidget(card(box, margins=14), 1)
        root.addLayout(lists)
        self.chart = DayChart()
        chart_box = vbox()
        chart_box.addWidget(self.chart)
        root.addWidget(card(chart_box, margins=12), 1)
        self.setLayout(root)

    def show_day(self, day: date) -> None:
        self.day = day
        m = self.manager
        totals = m.totals(day)
        fmt = lambda amount: m.fmt(amount, totals.currency)
        self.day_label.setText(day.strftime("%a %d %b %Y"))
        self.day_start.setText(f"business day from {m.settings.business_day_starts_at}")
        for key, value in (
            ("paid_orders", str(totals.paid_orders)),
            ("gross", fmt(totals.gross)),
            ("revenue", fmt(totals.revenue)),
            ("tips", fmt(totals.tips)),
            ("donations", fmt(totals.donations)),
            ("refunds", fmt(totals.refunds)),
            ("attention", str(len(totals.attention))),
        ):
            self.values[key].setText(value)
        self.chargebacks.setText(m.chargebacks_text(totals))
        self.chargebacks.setVisible(bool(self.chargebacks.text()))
        self.tips_list.setText("\n".join(f"{w}: {fmt(a)}" for w, a in sorted(totals.tips_by_waiter.items())) or "—")
        self.partners_list.setText(
            "\n".join(f"{p}: {fmt(a)}" for p, a in sorted(totals.donations_by_partner.items())) or "—"
        )
        self.attention_list.setText(m.attention_text(totals))
        tips = sorted(totals.tips_by_waiter.items(), key=lambda item: -item[1])
        self.chart.set_data(m.hourly_takings(totals), tips, fmt, lambda amount: m.fmt_whole(amount, totals.currency))

    def _export(self) -> None:
        path = self.manager.export_totals(self.day, bom=self.bom.isChecked())
        self.export_message.setText(f"Saved {path}")


class ReconcileTab(QWidget):
    HEADERS = ("Order", "Table", "Kiosk", "Service", "POS", "Why", "")

    def __init__(self, vm: ReconcileViewModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.vm = vm
        root = vbox(spacing=12)
        self.check_button, self.refresh_all_button = button("Check now", "Primary"), button("Refresh all", "Secondary")
        self.check_button.clicked.connect(vm.check)
        self.refresh_all_button.clicked.connect(vm.refresh_all)
        self.message = label(
            "Compares this kiosk's payments of the last days with the sync service and the POS.", "Subtitle", wrap=True
        )
        root.addLayout(hbox(self.check_button, self.refresh_all_button))
        root.addWidget(self.message)
        self.table = QTableWidget(0, len(self.HEADERS))
        self.table.setHorizontalHeaderLabels(self.HEADERS)
        self.table.verticalHeader().setVisible(False)
        self.table.verticalHeader().setDefaultSectionSize(64)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.horizontalHeader().setSectionResizeMode(5, QHeaderView.ResizeMode.Stretch)
        root.addWidget(self.table, 1)
        self.setLayout(root)
        self.refresh_buttons: dict[str, QWidget] = {}
        vm.changed.connect(self._render)

    def _render(self) -> None:
        self.message.setText(self.vm.message)
        self.check_button.setEnabled(not self.vm.busy)
        self.refresh_all_button.setEnabled(not self.vm.busy and bool(self.vm.rows))
        self.table.setRowCount(len(self.vm.rows))
        self.refresh_buttons = {}
        for index, row in enumerate(self.vm.rows):
            for column, text in enumerate(
                (
                    row.order_id,
                    row.table,
                    row.kiosk_status,
                    row.service_status or "unknown",
                    row.pos_status or "—",
                    row.reason,
                )
            ):
                item = QTableWidgetItem(text)
                item.setFlags(Qt.ItemFlag.ItemIsEnabled)
                self.table.setItem(index, column, item)
            refresh = button("Refresh")
            refresh.setEnabled(not self.vm.busy)
            refresh.clicked.connect(lambda _=False, pid=row.payment_id: self.vm.refresh(pid))
            self.table.setCellWidget(index, 6, refresh)
            self.refresh_buttons[row.payment_id] = refresh
        self.table.resizeColumnsToContents()
        self.table.horizontalHeader().setSectionResizeMode(5, QHeaderView.ResizeMode.Stretch)
        # The reason says what to do: rows grow to show all of it (never less than a finger's height).
        self.table.setWordWrap(True)
        self.table.resizeRowsToContents()
        for index in range(self.table.rowCount()):
            self.table.setRowHeight(index, max(64, self.table.rowHeight(index)))
