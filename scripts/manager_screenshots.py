"""Offscreen screenshots of manager mode on a seeded store: docs/screenshots/manager-*.png, plus
the order screen with a long donation partner (kiosk-order-long-partner.png).

    QT_QPA_PLATFORM=offscreen .venv/bin/python scripts/manager_screenshots.py

No service is needed to show the history, the totals and the refund dialog (the kiosk reads its
own SQLite); the status bar therefore says "Connecting…". manager-history-1024x768.png is the
manager page alone at 1024x768 (the whole window fits 1024x768 too: tests/kiosk/test_small_screen.py).
"""

from __future__ import annotations

import os
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("PYTHON_KEYRING_BACKEND", "keyring.backends.null.Keyring")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from PySide6.QtCore import QEvent
from PySide6.QtWidgets import QApplication

from bench.manager_seed import seed_payments
from pos_app.app import build_kiosk
from pos_app.secrets import Pairing
from pos_app.settings import KioskSettings
from pos_app.views.manager_page import ManagerPage
from pos_app.views.theme import STYLE

OUT = ROOT / "docs" / "screenshots"
LONG_PARTNER = "Médecins Sans Frontières / Doctors Without Borders"


def settle(app: QApplication) -> None:
    for _ in range(5):
        app.sendPostedEvents(None, QEvent.Type.DeferredDelete.value)  # rows a redraw replaced: gone
        app.processEvents()


def main() -> int:
    app = QApplication.instance() or QApplication(sys.argv)
    data_dir = Path(tempfile.mkdtemp(prefix="tablepay-manager-shots-"))
    kiosk = build_kiosk(data_dir, KioskSettings(kiosk_id="kiosk-1", waiter="Ana"), Pairing("http://127.0.0.1:9", "t"))
    now = datetime.now(UTC)
    seed_payments(kiosk.store.db, 640, now - timedelta(hours=640 * 7 / 60), every=timedelta(minutes=7))
    window = kiosk.window
    window.resize(1280, 800)
    window.show()
    window.show_manager()
    page = window.manager_page
    page.history.view.selectRow(2)
    settle(app)
    OUT.mkdir(parents=True, exist_ok=True)
    window.grab().save(str(OUT / "manager-history.png"))
    page.show_tab(1)
    settle(app)
    window.grab().save(str(OUT / "manager-totals.png"))
    page.show_tab(0)
    row = next(i for i, r in enumerate(kiosk.history_model.rows) if r.status == "partially_refunded")
    page.history.view.selectRow(row)
    page.refund.ask(kiosk.history_model.rows[row].payment_id)
    for key in "C9999":  # 99.99, more than is left: the dialog refuses it before anything is sent
        page.refund.press(key)
    settle(app)
    assert (window.width(), window.height()) == (1280, 800), window.size()
    window.grab().save(str(OUT / "manager-refund.png"))
    page.refund.hide()

    small = ManagerPage(kiosk.manager_vm, kiosk.history_model, kiosk.refund_vm, kiosk.reconcile_vm)
    small.setStyleSheet(STYLE)
    small.resize(1024, 768)
    small.show()
    small.open()
    small.history.view.selectRow(2)
    settle(app)
    assert (small.width(), small.height()) == (1024, 768), small.size()
    small.grab().save(str(OUT / "manager-history-1024x768.png"))
    small.close()

    page.closed.emit()  # Lock: back to the waiter's screens
    kiosk.order_vm.settings.donation_partner = LONG_PARTNER
    window.order_page.on_settings_changed()
    window.tables_page.tablePicked.emit("5")
    for sku in ("MARG", "CARB", "TIRA", "LEMO"):
        kiosk.order_vm.add_item(sku)
    window.order_page.tip_buttons[10].click()
    window.order_page.donation_buttons[200].click()
    settle(app)
    window.grab().save(str(OUT / "kiosk-order-long-partner.png"))
    print(
        "wrote",
        *(OUT / f"manager-{n}.png" for n in ("history", "history-1024x768", "totals", "refund")),
        OUT / "kiosk-order-long-partner.png",
    )
    kiosk.store.db.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
