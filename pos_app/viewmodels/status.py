"""What the status bar tells a waiter: is the kiosk connected, since when not, and what is still
waiting for the sync service's word. Never the service's URL (that is in the settings screen).

"Waiting" is what only the service can settle: a live checkout of an unpaid order (the guest may
have paid while the kiosk was offline; the feed brings it) and a refund sent without an answer.
Orders themselves are local and never wait: the waiter can keep taking them offline.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime, tzinfo

from PySide6.QtCore import QObject, QTimer, Signal

from ..feed import Connection
from ..store import KioskStore
from .kitchen import Tone
from .wording import counted

KEEP_WORKING = "Orders are kept; payments need the connection."


def duration(seconds: float) -> str:
    """'under a minute', '6 min', '2 h 5 min': how long, to the minute."""
    minutes = int(seconds // 60)
    if minutes < 1:
        return "under a minute"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min" if hours else f"{minutes} min"


class StatusViewModel(QObject):
    changed = Signal()

    TICK_MS = 30_000  # while offline, "for how long" is redrawn every half minute

    def __init__(
        self,
        store: KioskStore,
        *,
        clock: Callable[[], float] = time.time,
        tz: tzinfo | None = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.store, self._clock = store, clock
        self.tz = tz or datetime.now().astimezone().tzinfo
        self.connection = Connection.CONNECTING
        self.offline_since: float | None = None
        self.checkouts, self.refunds = store.awaiting_service()
        self._tick = QTimer(self)
        self._tick.setInterval(self.TICK_MS)
        self._tick.timeout.connect(self.changed.emit)

    # -- what changes it ------------------------------------------------------------------------
    def set_connection(self, state: str | Connection) -> None:
        self.connection = Connection(state)
        if self.connection is Connection.OFFLINE:
            if self.offline_since is None:  # the first failure counts, not every retry after it
                self.offline_since = self._clock()
            self._tick.start()
        else:
            self.offline_since = None
            self._tick.stop()
        self.refresh()

    def stop(self) -> None:
        """The kiosk is closing: no more ticks (the store goes away with it)."""
        self._tick.stop()

    def refresh(self, *_: object) -> None:
        """Count again what waits for the service (after a feed page, a checkout, a refund)."""
        self.checkouts, self.refunds = self.store.awaiting_service()
        self.changed.emit()

    # -- what the bar shows ----------------------------------------------------------------------
    @property
    def tone(self) -> Tone:
        return {Connection.ONLINE: Tone.OK, Connection.CONNECTING: Tone.WARN}.get(self.connection, Tone.ERROR)

    @property
    def headline(self) -> str:
        """The pill: 'Online', 'Connecting…', 'Offline since 12:04 (6 min)', 'Not paired: token refused'."""
        if self.connection is Connection.ONLINE:
            return "Online"
        if self.connection is Connection.CONNECTING:
            return "Connecting…"
        if self.connection is Connection.UNAUTHORIZED:
            return "Not paired: token refused"
        since = self.offline_since if self.offline_since is not None else self._clock()
        at = datetime.fromtimestamp(since, self.tz).strftime("%H:%M")
        return f"Offline since {at} ({duration(self._clock() - since)})"

    @property
    def waiting(self) -> str:
        """'2 payments and 1 refund wait for the service', or '' when nothing does."""
        parts = [counted(n, noun) for n, noun in ((self.checkouts, "payment"), (self.refunds, "refund")) if n]
        if not parts:
            return ""
        verb = "waits" if len(parts) == 1 and (self.checkouts or self.refunds) == 1 else "wait"
        return f"{' and '.join(parts)} {verb} for the service"

    @property
    def detail(self) -> str:
        """The line beside the pill: what the waiter can still do, and what is not settled yet."""
        waiting = self.waiting
        if self.connection is Connection.ONLINE:
            return f"{waiting}." if waiting else "Payments are confirmed as they happen."
        if self.connection is Connection.UNAUTHORIZED:
            first = "The sync service refused this kiosk: ask the manager to pair it again. " + KEEP_WORKING
        else:
            first = KEEP_WORKING
        return f"{first} {waiting}." if waiting else first
