"""Wake long-polling kiosks as soon as the feed grows."""

from __future__ import annotations

import asyncio
from typing import Any

from ..storage.repository import Repository


class FeedNotifier:
    """Every waiter holds the current asyncio.Event; notify() sets it and starts a new one."""

    def __init__(self) -> None:
        self._event = asyncio.Event()

    def notify(self) -> None:
        self._event.set()
        self._event = asyncio.Event()

    async def wait(self, timeout: float) -> None:
        event = self._event
        try:
            await asyncio.wait_for(event.wait(), timeout)
        except TimeoutError:
            pass


class Feed:
    def __init__(self, repo: Repository, notifier: FeedNotifier) -> None:
        self._repo = repo
        self._notifier = notifier

    async def poll(self, after: int, wait: float, *, kiosk_id: str | None, limit: int = 100) -> list[dict[str, Any]]:
        """Events after `after` at once if there are some, else the first ones within `wait` seconds."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + wait
        while True:
            events = self._repo.feed_after(after, limit, kiosk_id)
            remaining = deadline - loop.time()
            if events or remaining <= 0:
                return events
            await self._notifier.wait(remaining)
