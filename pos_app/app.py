"""Compose the kiosk: store, client, feed, view models and window. The only module that knows every layer."""

from __future__ import annotations

import asyncio
import logging
import sys
import traceback
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from .client import SyncClient
from .menu import Menu, load_menu
from .menu_source import MenuChoice, choose_menu
from .secrets import Pairing
from .settings import KioskSettings
from .store import KioskStore, ManagerStore, open_db

if TYPE_CHECKING:
    from .viewmodels import (
        CheckoutViewModel,
        FeedViewModel,
        HistoryModel,
        KitchenViewModel,
        ManagerViewModel,
        OfferViewModel,
        OrdersViewModel,
        OrderViewModel,
        PartnersViewModel,
        ReconcileViewModel,
        RefundViewModel,
        SettingsViewModel,
    )
    from .viewmodels.pairing import PairingViewModel
    from .views.main_window import MainWindow
    from .views.pairing_page import PairingWindow

log = logging.getLogger(__name__)
DB_NAME = "kiosk.sqlite"
EXPORT_DIR = "exports"  # CSV exports of manager mode, inside the kiosk's data dir


@dataclass
class Kiosk:
    # The view models and the window are named for the type checker only, so importing this module
    # builds no widget (the CLI imports it before Qt starts).
    store: KioskStore
    client: SyncClient
    window: MainWindow
    order_vm: OrderViewModel
    offer_vm: OfferViewModel
    orders_vm: OrdersViewModel
    checkout_vm: CheckoutViewModel
    feed_vm: FeedViewModel
    settings_vm: SettingsViewModel
    kitchen_vm: KitchenViewModel
    menu_choice: MenuChoice
    manager_vm: ManagerViewModel
    history_model: HistoryModel
    refund_vm: RefundViewModel
    reconcile_vm: ReconcileViewModel
    partners_vm: PartnersViewModel

    def start(self) -> None:
        """Start the feed worker; needs a running asyncio (qasync) loop."""
        self.feed_vm.start()

    async def aclose(self) -> None:
        await self.feed_vm.stop()
        await self.offer_vm.stop()  # before the client closes: its question must not be left half-sent
        await self.client.aclose()
        self.store.db.close()


def settle(future: asyncio.Future[Any], value: Any = None) -> None:
    """Set a future's result unless it already has one (a signal may fire twice)."""
    if not future.done():
        future.set_result(value)


def build_kiosk(data_dir: Path, settings: KioskSettings, pairing: Pairing, menu: Menu | None = None) -> Kiosk:
    """The kiosk with the menu file (or `menu`), without asking the service for anything."""
    store, client = _open(data_dir, settings, pairing)
    chosen = menu or load_menu(Path(settings.menu_path))
    return _compose(store, client, data_dir, settings, pairing, MenuChoice(chosen, "file", "Menu: file"))


async def start_kiosk(data_dir: Path, settings: KioskSettings, pairing: Pairing) -> Kiosk:
    """The kiosk as `tablepay kiosk` starts it: with `menu_source = "pos"` the menu comes from the
    POS (GET /v1/menu), or from the last saved POS menu, or from the file (pos_app.menu_source)."""
    store, client = _open(data_dir, settings, pairing)
    choice = await choose_menu(settings, client, store, load_menu(Path(settings.menu_path)))
    return _compose(store, client, data_dir, settings, pairing, choice)


def _open(data_dir: Path, settings: KioskSettings, pairing: Pairing) -> tuple[KioskStore, SyncClient]:
    store = KioskStore(open_db(data_dir / DB_NAME))
    return store, SyncClient(pairing.service_url, pairing.token, timeout=settings.request_timeout_seconds)


def _compose(
    store: KioskStore, client: SyncClient, data_dir: Path, settings: KioskSettings, pairing: Pairing, choice: MenuChoice
) -> Kiosk:
    from .viewmodels import (
        CheckoutViewModel,
        FeedViewModel,
        HistoryModel,
        KitchenViewModel,
        ManagerViewModel,
        OfferViewModel,
        OrdersViewModel,
        OrderViewModel,
        PartnersViewModel,
        ReconcileViewModel,
        RefundViewModel,
        SettingsViewModel,
    )
    from .views.main_window import MainWindow

    offer_vm = OfferViewModel(client)
    order_vm = OrderViewModel(store, choice.menu, settings, offer_vm)
    orders_vm = OrdersViewModel(store, settings, offer_vm)
    checkout_vm = CheckoutViewModel(store, client, order_vm)
    kitchen_vm = KitchenViewModel(store, client, order_vm)
    feed_vm = FeedViewModel(client, store, settings)
    feed_vm.connectionChanged.connect(offer_vm.on_connection)  # asks GET /v1/kiosk on each (re)connect
    settings_vm = SettingsViewModel(settings, data_dir, client, pairing.service_url)
    manager_vm = ManagerViewModel(store, ManagerStore(store.db), client, settings, data_dir / EXPORT_DIR)
    history_model = HistoryModel(manager_vm)
    refund_vm = RefundViewModel(manager_vm, client)
    reconcile_vm = ReconcileViewModel(
        manager_vm.data, client, lambda: feed_vm.worker.poll_once(wait=0), fmt=manager_vm.fmt
    )
    partners_vm = PartnersViewModel(client)
    window = MainWindow(
        order_vm,
        orders_vm,
        checkout_vm,
        feed_vm,
        settings_vm,
        pairing.service_url,
        kitchen_vm=kitchen_vm,
        menu_note=(choice.note, choice.degraded),
        manager=(manager_vm, history_model, refund_vm, reconcile_vm, partners_vm),
    )
    return Kiosk(
        store,
        client,
        window,
        order_vm,
        offer_vm,
        orders_vm,
        checkout_vm,
        feed_vm,
        settings_vm,
        kitchen_vm,
        choice,
        manager_vm,
        history_model,
        refund_vm,
        reconcile_vm,
        partners_vm,
    )


@dataclass
class PairingScreen:
    """What an unpaired kiosk shows instead of exiting (`tablepay kiosk` from a desktop icon or at boot)."""

    vm: PairingViewModel
    window: PairingWindow
    data_dir: Path
    settings: KioskSettings

    async def kiosk(self, present: Callable[[Any], None], closed: Awaitable[None] | None = None) -> Kiosk | None:
        """Show the screen until it is paired, then start the kiosk with the stored pairing and show its
        window in place of this one (no restart); None when the app closes first."""
        paired: asyncio.Future[Pairing] = asyncio.get_running_loop().create_future()
        self.vm.paired.connect(lambda pairing: settle(paired, pairing))
        present(self.window)
        self.vm.start()
        waiting: set[asyncio.Future[Any]] = {paired, asyncio.ensure_future(closed)} if closed else {paired}
        try:
            await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
        finally:
            await self.vm.aclose()
        if not paired.done():
            return None
        kiosk = await start_kiosk(self.data_dir, self.settings, paired.result())
        present(kiosk.window)  # first, so the app never has no window (it would quit)
        self.window.close()
        kiosk.start()
        return kiosk


def build_pairing_screen(data_dir: Path, settings: KioskSettings, **options: Any) -> PairingScreen:
    """`options` go to the view model (poll_wait, retry_seconds: tests make them short)."""
    from .viewmodels.pairing import PairingViewModel
    from .views.pairing_page import PairingWindow

    vm = PairingViewModel(data_dir, settings, **options)
    return PairingScreen(vm, PairingWindow(vm), data_dir, settings)


def _log_excepthook(kind: type[BaseException], value: BaseException, tb: TracebackType | None) -> None:
    """asyncSlot sends exceptions here: log them instead of losing them."""
    log.error("unhandled error in the kiosk:\n%s", "".join(traceback.format_exception(kind, value, tb)))


def run(data_dir: Path, settings: KioskSettings, pairing: Pairing | None, *, fullscreen: bool = False) -> int:
    """Start the Qt application on a qasync loop; returns when the window closes. Without a pairing it
    opens on the pairing screen and goes on to the order screens once paired."""
    import qasync
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication(sys.argv)
    sys.excepthook = _log_excepthook

    def present(window: Any) -> None:
        if fullscreen:
            window.setWindowFlag(Qt.WindowType.FramelessWindowHint, True)
            window.showFullScreen()
        else:
            window.show()

    async def main() -> None:
        closed = asyncio.get_running_loop().create_future()
        app.aboutToQuit.connect(lambda: settle(closed))
        awake = None
        if fullscreen:
            from .screen import keep_screen_on

            awake = keep_screen_on()
        try:
            if pairing is None:
                kiosk = await build_pairing_screen(data_dir, settings).kiosk(present, closed)
                if kiosk is None:
                    return
            else:
                kiosk = await start_kiosk(data_dir, settings, pairing)
                present(kiosk.window)
                kiosk.start()
            try:
                await closed
            finally:
                await kiosk.aclose()
        finally:
            if awake is not None:
                awake.release()

    try:
        qasync.run(main())
    except asyncio.CancelledError:
        pass
    return 0
