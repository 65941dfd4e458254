"""The feed worker as Qt signals: connection state for the status bar, changed orders for the rest."""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal

from ..client import SyncClient
from ..feed import Connection, FeedWorker
from ..settings import KioskSettings
from ..store import KioskStore
from .status import StatusViewModel


class FeedViewModel(QObject):
    connectionChanged = Signal(str)  # a Connection value
    ordersChanged = Signal(list)  # order ids a feed page changed

    def __init__(
        self, client: SyncClient, store: KioskStore, settings: KioskSettings, parent: QObject | None = None
    ) -> None:
        super().__init__(parent)
        self.worker = FeedWorker(
            client,
            store,
            wait=settings.feed_wait_seconds,
            backoff_initial=settings.backoff_initial_seconds,
            backoff_max=settings.backoff_max_seconds,
            on_state=lambda state: self.connectionChanged.emit(state.value),
            on_applied=self.ordersChanged.emit,
        )
        # The status bar's words follow the connection and what the feed settles.
        self.status = StatusViewModel(store, parent=self)
        self.connectionChanged.connect(self.status.set_connection)
        self.ordersChanged.connect(self.status.refresh)

    @property
    def connection(self) -> Connection:
        return self.worker.state

    def start(self) -> None:
        self.worker.start()

    async def stop(self) -> None:
        await self.worker.stop()
        self.status.stop()
