"""Wake long-polling kiosks as soon as their part of the feed grows."""

from __future__ import annotations

import asyncio
from typing import Any

from ..storage.feed_rows import PARTNER_PREFIX
from ..storage.repository import Repository


class FeedNotifier:
    """Futures of the polls waiting on each listener key; notify() settles them all.

    Keys are kiosk ids, so a busy kiosk's payments do not wake every other
    kiosk's poll; the key None listens to everything (the POS sync). A partner's
    order (kiosk id `partner:<name>`) is in every kiosk's feed, so its change
    wakes every poll, whether told here or by another instance's NOTIFY. A bare
    future per waiter (not an Event behind `wait_for`, which adds a task)
    wakes a waiting poll in one turn of the event loop, which is what a kiosk
    feels when the service is busy with other requests.
    """

    def __init__(self) -> None:
        self._waiters: dict[str | None, set[asyncio.Future[Any]]] = {}

    def notify(self, kiosk_id: str) -> None:
        if kiosk_id.startswith(PARTNER_PREFIX):
            self.notify_all()
            return
        for key in (kiosk_id, None):
            for waiter in self._waiters.pop(key, ()):
                if not waiter.done():
                    waiter.set_result(None)

    def notify_all(self) -> None:
        """Every waiting poll looks again (chain mode: a notification from another instance may be lost)."""
        waiters, self._waiters = self._waiters, {}
        for group in waiters.values():
            for waiter in group:
                if not waiter.done():
                    waiter.set_result(None)

    def subscribe(self, kiosk_id: str | None, waiter: asyncio.Future[Any]) -> None:
        """Settle `waiter` with None at the next change for this key (others may settle it first)."""
        self._waiters.setdefault(kiosk_id, set()).add(waiter)

    def unsubscribe(self, kiosk_id: str | None, waiter: asyncio.Future[Any]) -> None:
        waiters = self._waiters.get(kiosk_id)
        if waiters is not None:
            waiters.discard(waiter)
            if not waiters:
                del self._waiters[kiosk_id]

    async def wait(self, kiosk_id: str | None, timeout: float) -> None:
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[None] = loop.create_future()
        self.subscribe(kiosk_id, waiter)
        timer = loop.call_later(timeout, _settle, waiter)
        try:
            await waiter
        finally:
            timer.cancel()
            self.unsubscribe(kiosk_id, waiter)

    def waiting(self, kiosk_id: str | None) -> int:
        """How many polls listen on this key right now (a test waits for a long poll to be in place)."""
        return len(self._waiters.get(kiosk_id, ()))


def _settle(waiter: asyncio.Future[Any]) -> None:
    if not waiter.done():
        waiter.set_result(None)


class Feed:
    def __init__(self, repo: Repository, notifier: FeedNotifier) -> None:
        self._repo = repo
        self._notifier = notifier

    def waiting(self, kiosk_id: str | None) -> int:
        """How many long polls of this kiosk are waiting for events right now (see FeedNotifier.waiting)."""
        return self._notifier.waiting(kiosk_id)

    async def poll(self, after: int, wait: float, *, kiosk_id: str | None, limit: int = 100) -> list[dict[str, Any]]:
        """Events after `after` at once if there are some, else the first ones within `wait` seconds."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + wait
        while True:
            events = self._repo.feed_after(after, limit, kiosk_id)
            remaining = deadline - loop.time()
            if events or remaining <= 0:
                return events
            await self._notifier.wait(kiosk_id, remaining)


# Kiosks released before split bills and order statuses read every feed event as a payment's and
# stop at one without a payment status; they are sent only the events they know (payment.*, pos.*)
# unless they ask for every event (`GET /v1/events?events=all`, which this release's kiosk does).
NEWER_EVENTS = ("bill.", "order.status")


def for_kiosk(rows: list[dict[str, Any]], *, every: bool) -> list[dict[str, Any]]:
    """The rows a kiosk is sent: all, or only those a kiosk of an earlier release can apply."""
    return rows if every else [row for row in rows if not str(row["event"]).startswith(NEWER_EVENTS)]
