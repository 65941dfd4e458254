"""Manager mode: the payment history (a QTableView on HistoryModel), day totals, reconciliation."""

from __future__ import annotations

from PySide6.QtCore import QDate, QModelIndex, Qt, Signal
from PySide6.QtWidgets import (QAbstractItemView, QCheckBox, QComboBox, QDateEdit, QHBoxLayout, QHeaderView,
                               QLineEdit, QPushButton, QStackedWidget, QTableView, QWidget)

from ..viewmodels import (PAYMENT_LABELS, ROW_ROLE, HistoryModel, ManagerViewModel, ReconcileViewModel,
                          RefundViewModel)
from .manager_overlays import DetailOverlay, RefundOverlay
from .manager_tabs import ReconcileTab, TotalsTab
from .widgets import button, label, segmented, vbox

ALL = "All"
STATES = ("paid", "partially_refunded", "refunded", "open", "pending", "authorized", "failed", "cancelled", "expired")


class HistoryTab(QWidget):
    detailRequested = Signal(str)  # order_id
    refundRequested = Signal(str)  # payment_id

    def __init__(self, manager: ManagerViewModel, model: HistoryModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.manager, self.model = manager, model
        root = vbox(spacing=10)
        filters = QHBoxLayout()
        filters.setSpacing(8)
        self.dated = QCheckBox("Days")
        today = QDate(manager.today().year, manager.today().month, manager.today().day)
        self.first, self.last = QDateEdit(today.addDays(-6)), QDateEdit(today)
        for edit in (self.first, self.last):
            edit.setCalendarPopup(True)
            edit.setDisplayFormat("dd MMM yyyy")
            edit.setMinimumHeight(56)
            edit.setEnabled(False)
        self.state, self.waiter, self.table = QComboBox(), QComboBox(), QComboBox()
        self.state.addItem(ALL, None)
        for state in STATES:
            self.state.addItem(PAYMENT_LABELS[state], state)
        for combo in (self.state, self.waiter, self.table):
            combo.setMinimumHeight(56)
        self.search = QLineEdit()
        self.search.setPlaceholderText("Order id")
        self.search.setClearButtonEnabled(True)
        for widget in (self.dated, self.first, label("–"), self.last, self.state, self.waiter, self.table):
            filters.addWidget(widget)
        filters.addWidget(self.search, 1)
        root.addLayout(filters)

        actions = QHBoxLayout()
        self.count = label("", "Subtitle")
        self.detail_button, self.refund_button = button("Order detail"), button("Refund…")
        self.bom = QCheckBox("BOM for Excel")
        self.export_button = button("Export CSV")
        self.detail_button.clicked.connect(self._detail)
        self.refund_button.clicked.connect(self._refund)
        self.export_button.clicked.connect(self._export)
        self.manager.exportDone.connect(self._exported)
        actions.addWidget(self.count, 1)
        for widget in (self.detail_button, self.refund_button, self.bom, self.export_button):
            actions.addWidget(widget)
        root.addLayout(actions)
        self.export_message = label("", "LineMeta")
        root.addWidget(self.export_message)

        self.view = QTableView()
        self.view.setModel(model)
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.view.verticalHeader().setVisible(False)
        self.view.verticalHeader().setDefaultSectionSize(48)  # a finger-sized row
        self.view.setAlternatingRowColors(True)
        self.view.setWordWrap(False)
        header = self.view.horizontalHeader()
        header.setSortIndicator(0, Qt.SortOrder.DescendingOrder)  # before sorting is on: no second query
        self.view.setSortingEnabled(True)
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        for column, width in enumerate((140, 70, 90, 130, 190, 100, 90, 100, 100, 130, 110)):
            self.view.setColumnWidth(column, width)
        header.setStretchLastSection(True)
        self.view.doubleClicked.connect(lambda index: self.detailRequested.emit(self._row(index).order_id))
        self.view.selectionModel().selectionChanged.connect(lambda *_: self._render_actions())
        root.addWidget(self.view, 1)
        self.setLayout(root)

        self.dated.toggled.connect(self._dates_toggled)
        for edit in (self.first, self.last):
            edit.dateChanged.connect(lambda *_: self.apply())
        for combo in (self.state, self.waiter, self.table):
            combo.currentIndexChanged.connect(lambda *_: self.apply())
        self.search.textChanged.connect(lambda *_: self.apply())
        model.filterChanged.connect(self._render_count)
        model.modelReset.connect(self._render_actions)
        self._loading = False

    # -- filters -------------------------------------------------------------------------------
    def load_choices(self) -> None:
        """Fill the waiter and table lists from the store (when manager mode opens)."""
        self._loading = True
        for combo, values in ((self.waiter, self.manager.waiters()), (self.table, self.manager.tables())):
            current = combo.currentData()
            combo.clear()
            combo.addItem("All waiters" if combo is self.waiter else "All tables", None)
            for value in values:
                combo.addItem(value or "(none)", value)
            combo.setCurrentIndex(max(0, combo.findData(current)) if current is not None else 0)
        self._loading = False

    def _dates_toggled(self, on: bool) -> None:
        self.first.setEnabled(on)
        self.last.setEnabled(on)
        self.apply()

    def current_filter(self):  # type: ignore[no-untyped-def]
        first = self.first.date().toPython() if self.dated.isChecked() else None
        last = self.last.date().toPython() if self.dated.isChecked() else None
        return self.manager.make_filter(first, last, self.state.currentData(), self.waiter.currentData(),
                                        self.table.currentData(), self.search.text())

    def apply(self) -> None:
        if not self._loading:
            self.model.set_filter(self.current_filter())

    # -- actions ---------------------------------------------------------------------------------
    def _row(self, index: QModelIndex):  # type: ignore[no-untyped-def]
        return self.model.data(self.model.index(index.row(), 0), ROW_ROLE)

    def selected(self):  # type: ignore[no-untyped-def]
        rows = self.view.selectionModel().selectedRows()
        return self._row(rows[0]) if rows else None

    def _render_count(self) -> None:
        self.count.setText(f"{self.model.total:,} payments")

    def _render_actions(self) -> None:
        row = self.selected()
        self.detail_button.setEnabled(row is not None)
        self.refund_button.setEnabled(row is not None and row.refundable > 0)

    def _detail(self) -> None:
        if (row := self.selected()) is not None:
            self.detailRequested.emit(row.order_id)

    def _refund(self) -> None:
        if (row := self.selected()) is not None:
            self.refundRequested.emit(row.payment_id)

    def _export(self) -> None:
        self.export_button.setEnabled(False)
        self.export_message.setText("Exporting ...")
        self.manager.start_history_export(self.current_filter(), self.model.sort_key, self.model.descending,
                                          bom=self.bom.isChecked())

    def _exported(self, message: str) -> None:
        self.export_button.setEnabled(True)
        self.export_message.setText(message)


class ManagerPage(QWidget):
    """History, Day totals and Reconciliation; Lock leaves manager mode (the PIN is asked again)."""

    closed = Signal()

    def __init__(self, manager: ManagerViewModel, model: HistoryModel, refund_vm: RefundViewModel,
                 reconcile_vm: ReconcileViewModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("Page")
        self.manager, self.model = manager, model
        root = vbox(spacing=12, margins=20)
        top = QHBoxLayout()
        top.addWidget(label("Manager", "Title"))
        top.addSpacing(24)
        self.tab_buttons: list[QPushButton] = [button(text, checkable=True)
                                               for text in ("History", "Day totals", "Reconciliation")]
        top.addLayout(segmented(self.tab_buttons), 1)
        top.addSpacing(24)
        self.lock_button = button("Lock", "Secondary")
        self.lock_button.setFixedWidth(160)
        self.lock_button.clicked.connect(self.closed.emit)
        top.addWidget(self.lock_button)
        root.addLayout(top)
        self.history = HistoryTab(manager, model)
        self.totals = TotalsTab(manager)
        self.reconcile = ReconcileTab(reconcile_vm)
        self.tabs = QStackedWidget()
        for tab in (self.history, self.totals, self.reconcile):
            self.tabs.addWidget(tab)
        root.addWidget(self.tabs, 1)
        self.setLayout(root)
        for index, tab_button in enumerate(self.tab_buttons):
            tab_button.clicked.connect(lambda _=False, i=index: self.show_tab(i))
        self.detail = DetailOverlay(self, manager)
        self.refund = RefundOverlay(self, refund_vm)
        self.history.detailRequested.connect(self.detail.show_order)
        self.history.refundRequested.connect(self.refund.ask)
        refund_vm.requested.connect(lambda *_: model.refresh())

    def open(self) -> None:
        self.history.load_choices()
        self.history.apply()
        self.totals.show_day(self.manager.today())
        self.show_tab(0)

    def show_tab(self, index: int) -> None:
        self.tabs.setCurrentIndex(index)
        for i, tab_button in enumerate(self.tab_buttons):
            tab_button.setChecked(i == index)
        if self.tabs.currentWidget() is self.totals:
            self.totals.show_day(self.totals.day)
