"""`Mollie`: what the fake's routes, page, controls and worker share.

Built by `create_app`; its store and wakeup event are made by the app's lifespan, on the
server's own thread and loop. Every state change runs synchronously on that loop.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from starlette.requests import Request

from .options import MollieOptions
from .store import DB_NAME, MollieStore

DELIVERY_MODES = ("deliver", "hold", "drop")
_STATUS_FOR_MODE = {"deliver": "pending", "hold": "held", "drop": "dropped"}
PROFILE_ID = "pfl_TablePaySandbox"  # the one website profile a test API key belongs to


def iso(epoch: float) -> str:
    """Mollie's timestamps: ISO 8601 in UTC with an explicit offset, `2026-05-04T11:18:33+00:00`."""
    return datetime.fromtimestamp(int(epoch), UTC).isoformat()


@dataclass
class Faults:
    """Armed by `POST /_sandbox/mollie/faults`; in memory, so a restart clears them."""

    fail_status: int = 503
    fail_next: int = 0
    delay_seconds: float = 0.0
    delay_next: int = 0

    def view(self) -> dict[str, Any]:
        return {
            "status": self.fail_status,
            "count": self.fail_next,
            "delay_seconds": self.delay_seconds,
            "delay_count": self.delay_next,
        }


@dataclass
class Mollie:
    data_dir: Path
    public_url: str
    options: MollieOptions
    faults: Faults = field(default_factory=Faults)
    _store: MollieStore | None = field(default=None, repr=False)
    _wakeup: asyncio.Event | None = field(default=None, repr=False)

    def start(self) -> None:
        self._store = MollieStore(self.data_dir / DB_NAME)
        self._wakeup = asyncio.Event()

    def stop(self) -> None:
        if self._store is not None:
            self._store.close()

    @property
    def store(self) -> MollieStore:
        if self._store is None:
            raise RuntimeError("the Mollie fake is not started: run the app with its lifespan")
        return self._store

    @property
    def wakeup(self) -> asyncio.Event:
        assert self._wakeup is not None
        return self._wakeup

    def url(self, path: str) -> str:
        return self.public_url + path

    @property
    def delivery_mode(self) -> str:
        return self.store.setting("delivery_mode", "deliver")

    def call_webhook(self, payment: dict[str, Any], trigger: str) -> None:
        """Queue one webhook call chain (`id=tr_...`) for a change Mollie reports; none without a webhookUrl."""
        url = payment.get("webhook_url")
        if not url:
            return
        self.store.add_delivery(payment["id"], trigger, url, _STATUS_FOR_MODE[self.delivery_mode])
        self.wakeup.set()


def mollie(request: Request) -> Mollie:
    found: Mollie = request.app.state.mollie
    return found
