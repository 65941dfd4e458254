"""Manager history with 100,000 payments: open, filter, sort, export CSV, peak memory (offscreen widgets).

    QT_QPA_PLATFORM=offscreen .venv/bin/python -m bench.manager [--payments 100000]

Seeds a fresh kiosk store (executemany), then times the real ManagerPage: opening the history
(model + first page painted), a state filter, a sort by total, and the CSV export of the filter.
"""

from __future__ import annotations

import argparse
import os
import resource
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--payments", type=int, default=100_000)
    args = parser.parse_args(argv)

    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QApplication

    from pos_app.client import SyncClient
    from pos_app.settings import KioskSettings
    from pos_app.store import KioskStore, ManagerStore, open_db
    from pos_app.viewmodels import HistoryModel, ManagerViewModel, ReconcileViewModel, RefundViewModel
    from pos_app.views.manager_page import ManagerPage

    from .manager_seed import seed_payments

    app = QApplication.instance() or QApplication([])
    directory = Path(tempfile.mkdtemp(prefix="tablepay-manager-bench-"))
    db = open_db(directory / "kiosk.sqlite")
    started = time.perf_counter()
    seed_payments(db, args.payments, datetime.now(UTC) - timedelta(minutes=3 * args.payments))
    db = open_db(directory / "kiosk.sqlite")  # as the kiosk would open it next time (fresh statistics)
    seeded = time.perf_counter() - started
    print(f"seeded {args.payments:,} payments in {seeded:.1f} s; RSS {rss_mb():.0f} MB before the widgets")

    client = SyncClient("http://127.0.0.1:9", "unused")
    manager = ManagerViewModel(KioskStore(db), ManagerStore(db), client, KioskSettings(), directory / "exports")
    model = HistoryModel(manager)
    page = ManagerPage(
        manager, model, RefundViewModel(manager, client), ReconcileViewModel(manager.data, client, lambda: _nothing())
    )
    page.resize(1280, 732)
    page.show()
    app.processEvents()

    def timed(name: str, action) -> float:
        begin = time.perf_counter()
        action()
        page.history.view.viewport().repaint()  # the rows on screen painted
        app.processEvents()
        elapsed = (time.perf_counter() - begin) * 1000
        print(f"{name:<34} {elapsed:8.1f} ms")
        return elapsed

    tab = page.history
    timed("open history (model + first page)", page.open)
    assert model.total == args.payments
    timed("filter: state = refunded", lambda: tab.filters.set_status("refunded"))
    timed("filter: waiter = Ana", lambda: tab.filters.set_waiter("Ana"))
    timed("search: order id", lambda: tab.search.setText("ord-0999"))
    tab.search.clear()
    tab.filters.set_status(None)
    tab.filters.set_waiter(None)
    timed("sort: total, ascending", lambda: tab.view.sortByColumn(8, Qt.SortOrder.AscendingOrder))
    timed("sort: waiter, descending", lambda: tab.view.sortByColumn(2, Qt.SortOrder.DescendingOrder))
    timed("scroll: 10 more pages (by waiter)", lambda: [model.fetchMore() for _ in range(10)])
    timed("sort: time, descending", lambda: tab.view.sortByColumn(0, Qt.SortOrder.DescendingOrder))
    timed("scroll: 10 more pages (by time)", lambda: [model.fetchMore() for _ in range(10)])
    # The kiosk's button runs this on a worker thread; timed here as the plain call.
    timed(
        "export CSV (all payments)",
        lambda: manager.export_history(tab.model.filter, tab.model.sort_key, tab.model.descending),
    )
    print(f"  {tab.export_message.text()}")
    timed("day totals (today)", lambda: page.show_tab(1))
    print(f"peak RSS {rss_mb():.0f} MB")
    return 0


async def _nothing() -> None:
    return None


if __name__ == "__main__":
    raise SystemExit(main())
