"""The feed worker: long-polls the sync service and applies each page to the local store.

Plain asyncio, no Qt: the view model layer turns its callbacks into signals.
Each page and its new cursor are written in one transaction (KioskStore.apply_events),
so a crash between the two cannot lose or double-apply an event; after any
outage the worker resumes from the stored cursor.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from enum import Enum

from .client import ApiError, MalformedAnswer, SyncClient, Unreachable
from .store import CHARGED_BACK, KioskStore

log = logging.getLogger(__name__)


class Connection(str, Enum):
    CONNECTING = "connecting"
    ONLINE = "online"
    OFFLINE = "offline"
    UNAUTHORIZED = "unauthorized"


class FeedWorker:
    def __init__(
        self,
        client: SyncClient,
        store: KioskStore,
        *,
        wait: float = 25.0,
        backoff_initial: float = 0.5,
        backoff_max: float = 15.0,
        on_state: Callable[[Connection], None] = lambda state: None,
        on_applied: Callable[[list[str]], None] = lambda order_ids: None,
    ) -> None:
        self._client, self._store, self._wait = client, store, wait
        self._initial, self._max = backoff_initial, backoff_max
        self._on_state, self._on_applied = on_state, on_applied
        self.state = Connection.CONNECTING
        self._task: asyncio.Task[None] | None = None

    def _set_state(self, state: Connection) -> None:
        if state != self.state:
            log.info("feed connection: %s", state.value)
            self.state = state
            self._on_state(state)

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run(), name="kiosk-feed")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None

    async def poll_once(self, wait: float | None = None) -> list[str]:
        """Fetch and apply one page; returns the orders that changed."""
        page = await self._client.events(self._store.cursor(), self._wait if wait is None else wait)
        changed = self._store.apply_events(page["events"], int(page["next_after"]))
        await self._chargeback_amounts(page["events"], every=self.state is not Connection.ONLINE)
        if changed:
            self._on_applied(changed)
        return changed

    async def _chargeback_amounts(self, events: list[dict[str, object]], *, every: bool) -> None:
        """A payment.charged_back event that does not carry amount_charged_back: read it from the payment
        (GET /v1/payments/{id}). Best effort: the event is applied either way, and the history marks the
        payment charged back without an amount until it is read, which is tried again for `every`
        such payment on the first poll after a (re)connect."""
        named = [
            str(e["payment_id"]) for e in events if e.get("event") == CHARGED_BACK and "amount_charged_back" not in e
        ]
        unknown = self._store.chargebacks_without_amount(None if every else named) if every or named else []
        for payment_id in unknown:
            try:
                self._store.record_attempt(await self._client.payment(payment_id))
            except (Unreachable, ApiError, MalformedAnswer) as exc:
                log.warning("feed: the amount charged back of %s is not known yet: %s", payment_id, exc)

    async def _run(self) -> None:
        delay = self._initial
        while True:
            try:
                # A quick poll first after start or an outage, so the status bar turns
                # "online" at once instead of after a whole long poll.
                await self.poll_once(wait=None if self.state is Connection.ONLINE else 0)
            except (Unreachable, ApiError) as exc:
                unauthorized = isinstance(exc, ApiError) and exc.status == 401
                self._set_state(Connection.UNAUTHORIZED if unauthorized else Connection.OFFLINE)
                log.warning("feed: %s; retrying in %.1f s", exc, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, self._max)  # bounded exponential backoff
                continue
            except asyncio.CancelledError:
                raise
            except Exception:  # a bug must not kill the feed for good: log, back off, go on
                log.exception("feed: unexpected error")
                self._set_state(Connection.OFFLINE)
                await asyncio.sleep(delay)
                delay = min(delay * 2, self._max)
                continue
            delay = self._initial
            self._set_state(Connection.ONLINE)
