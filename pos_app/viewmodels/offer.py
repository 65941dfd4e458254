"""What the sync service lets this kiosk offer a guest, learnt from GET /v1/kiosk.

A service may take no donations (Stripe without a donation account, Mollie without a partner
organisation) and then refuses any checkout that carries one. The kiosk asks each time its feed
comes online (at start and after every outage), so a service reconfigured while the kiosk was
away is heard on reconnecting. Until the first answer (an offline start) the kiosk's settings
decide, as they always did: an order is taken offline either way, and a checkout asks first.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from PySide6.QtCore import QObject, Signal

from ..client import ApiError, KioskIdentity, MalformedAnswer, SyncClient, Unreachable
from ..feed import Connection

log = logging.getLogger(__name__)


class OfferViewModel(QObject):
    changed = Signal()  # the service's answer changed what the kiosk offers

    def __init__(self, client: SyncClient, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.client = client
        self.identity: KioskIdentity | None = None  # None: the service has not answered yet
        self._asking: asyncio.Task[None] | None = None

    @property
    def takes_donations(self) -> bool:
        """False only once the service said it takes none; before its word, the settings decide."""
        return self.identity is None or self.identity.donations is not False

    @property
    def pay_first(self) -> bool:
        """The service sends orders to the kitchen only once they are paid (TABLEPAY_KITCHEN=after_payment)."""
        return self.identity is not None and self.identity.kitchen == "after_payment"

    def on_connection(self, state: str) -> None:
        """The feed's connection changed: ask again each time it comes online."""
        if Connection(state) is Connection.ONLINE and self._asking is None:
            self._asking = asyncio.get_running_loop().create_task(self.learn(), name="kiosk-offer")
            # Let go of the finished task: kept, it and this QObject would hold each other in a cycle
            # that only the garbage collector frees, maybe on a thread that must never free a QObject.
            self._asking.add_done_callback(self._asked)

    def _asked(self, _: asyncio.Task[None]) -> None:
        self._asking = None

    async def stop(self) -> None:
        """Cancel a question still in flight (the kiosk is closing) and wait until it let go of its connection."""
        asking = self._asking
        if asking is not None and not asking.done():
            asking.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await asking

    async def known(self) -> None:
        """Ask now unless the service already answered (a checkout must not carry what it refuses)."""
        if self.identity is None:
            await self.learn()

    async def learn(self) -> None:
        """Ask the service; an unreachable or odd answer keeps what the kiosk knew (logged, never raised)."""
        try:
            identity = await self.client.identity()
        except (Unreachable, ApiError, MalformedAnswer) as exc:
            log.warning("could not learn what the sync service offers: %s", exc)
            return
        before = (self.takes_donations, self.pay_first)
        self.identity = identity
        if (self.takes_donations, self.pay_first) != before:
            log.info(
                "the sync service %s donations and sends orders to the kitchen %s",
                "takes" if self.takes_donations else "takes no",
                "once paid" if self.pay_first else "when sent",
            )
            self.changed.emit()
