"""Compose the kiosk: store, client, feed, view models and window. The only module that knows every layer."""

from __future__ import annotations

import asyncio
import logging
import sys
import traceback
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from .client import SyncClient
from .menu import Menu, load_menu
from .secrets import Pairing
from .settings import KioskSettings
from .store import KioskStore, open_db

log = logging.getLogger(__name__)
DB_NAME = "kiosk.sqlite"


@dataclass
class Kiosk:
    store: KioskStore
    client: SyncClient
    window: object  # views.MainWindow (typed loosely so importing this module needs no widgets)
    order_vm: object
    orders_vm: object
    checkout_vm: object
    feed_vm: object
    settings_vm: object

    def start(self) -> None:
        """Start the feed worker; needs a running asyncio (qasync) loop."""
        self.feed_vm.start()  # type: ignore[attr-defined]

    async def aclose(self) -> None:
        await self.feed_vm.stop()  # type: ignore[attr-defined]
        await self.client.aclose()
        self.store.db.close()


def build_kiosk(data_dir: Path, settings: KioskSettings, pairing: Pairing, menu: Menu | None = None) -> Kiosk:
    from .viewmodels import CheckoutViewModel, FeedViewModel, OrdersViewModel, OrderViewModel, SettingsViewModel
    from .views.main_window import MainWindow

    store = KioskStore(open_db(data_dir / DB_NAME))
    client = SyncClient(pairing.service_url, pairing.token, timeout=settings.request_timeout_seconds)
    menu = menu or load_menu(Path(settings.menu_path))
    order_vm = OrderViewModel(store, menu, settings)
    orders_vm = OrdersViewModel(store, settings)
    checkout_vm = CheckoutViewModel(store, client, order_vm)
    feed_vm = FeedViewModel(client, store, settings)
    settings_vm = SettingsViewModel(settings, data_dir, client, pairing.service_url)
    window = MainWindow(order_vm, orders_vm, checkout_vm, feed_vm, settings_vm, pairing.service_url)
    return Kiosk(store, client, window, order_vm, orders_vm, checkout_vm, feed_vm, settings_vm)


def _log_excepthook(kind: type[BaseException], value: BaseException, tb: TracebackType | None) -> None:
    """asyncSlot sends exceptions here: log them instead of losing them."""
    log.error("unhandled error in the kiosk:\n%s", "".join(traceback.format_exception(kind, value, tb)))


def run(data_dir: Path, settings: KioskSettings, pairing: Pairing, *, fullscreen: bool = False) -> int:
    """Start the Qt application on a qasync loop; returns when the window closes."""
    import qasync
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication(sys.argv)
    sys.excepthook = _log_excepthook

    async def main() -> None:
        kiosk = build_kiosk(data_dir, settings, pairing)
        window = kiosk.window
        closed = asyncio.get_running_loop().create_future()
        app.aboutToQuit.connect(lambda: closed.done() or closed.set_result(None))  # type: ignore[attr-defined]
        awake = None
        if fullscreen:
            from .screen import keep_screen_on

            window.setWindowFlag(Qt.WindowType.FramelessWindowHint, True)  # type: ignore[attr-defined]
            window.showFullScreen()  # type: ignore[attr-defined]
            awake = keep_screen_on()
        else:
            window.show()  # type: ignore[attr-defined]
        kiosk.start()
        try:
            await closed
        finally:
            if awake is not None:
                awake.release()
            await kiosk.aclose()

    try:
        qasync.run(main())
    except asyncio.CancelledError:
        pass
    return 0
