"""Wake long-polling kiosks as soon as their part of the feed grows."""

from __future__ import annotations

import asyncio
from typing import Any

from ..storage.repository import Repository


class FeedNotifier:
    """One asyncio.Event per listener key; notify() sets it and starts a new one.

    Keys are kiosk ids, so a busy kiosk's payments do not wake every other
    kiosk's poll; the key None listens to everything (the POS sync).
    """

    def __init__(self) -> None:
        self._events: dict[str | None, asyncio.Event] = {}
        self._waiting: dict[str | None, int] = {}

    def notify(self, kiosk_id: str) -> None:
        for key in (kiosk_id, None):
            event = self._events.pop(key, None)
            if event is not None:
                event.set()

    async def wait(self, kiosk_id: str | None, timeout: float) -> None:
        event = self._events.setdefault(kiosk_id, asyncio.Event())
        self._waiting[kiosk_id] = self._waiting.get(kiosk_id, 0) + 1
        try:
            await asyncio.wait_for(event.wait(), timeout)
        except TimeoutError:
            pass
        finally:
            self._waiting[kiosk_id] -= 1

    def waiting(self, kiosk_id: str | None) -> int:
        """How many polls listen on this key right now (a test waits for a long poll to be in place)."""
        return self._waiting.get(kiosk_id, 0)


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
