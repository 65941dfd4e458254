"""Kiosk fixtures: a qasync loop flagged as running (stack-notes pattern B), a real sandbox +
sync service, and a kiosk built exactly as `tablepay kiosk` builds it."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import qasync
import shiboken6

from pos_app.app import Kiosk, start_kiosk
from pos_app.secrets import Pairing
from pos_app.settings import KioskSettings
from sync_service.api.app import create_app
from tests.support.harness import Harness, running_harness
from tests.support.live_server import LiveServer


@pytest.fixture
def qasync_loop(qapp) -> Iterator[asyncio.AbstractEventLoop]:
    loop = qasync.QEventLoop(qapp, already_running=True)
    asyncio.set_event_loop(loop)
    yield loop
    # let cancelled tasks finish their clean-up before the loop goes away
    asyncio.events._set_running_loop(None)
    asyncio.set_event_loop(None)
    # Not closed: closing a qasync loop under pytest-qt crashed in the next processEvents (stack-notes pattern B).


@pytest.fixture
def harness(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Harness]:
    """On Stripe; `@pytest.mark.parametrize("harness", ["mollie"], indirect=True)` puts a test on Mollie."""
    with running_harness(tmp_path, provider=getattr(request, "param", "stripe")) as running:
        yield running


def kiosk_settings(**changes: object) -> KioskSettings:
    values: dict[str, object] = dict(
        kiosk_id="kiosk-1",
        waiter="Ana",
        feed_wait_seconds=2.0,
        backoff_initial_seconds=0.1,
        backoff_max_seconds=0.5,
        request_timeout_seconds=5.0,
    )
    values.update(changes)
    return KioskSettings(**values)  # type: ignore[arg-type]


@contextmanager
def running_kiosk(
    qtbot,
    loop: asyncio.AbstractEventLoop,
    harness: Harness,
    directory: Path,
    settings: KioskSettings | None = None,
    *,
    online: bool = True,
    service_url: str | None = None,
) -> Iterator[Kiosk]:
    """A kiosk started as `tablepay kiosk` starts it (start_kiosk: the menu source is honoured).

    `service_url`: talk to the service through something else on loopback (a proxy that injects faults).
    """
    starting = loop.create_task(
        start_kiosk(directory, settings or kiosk_settings(), Pairing(service_url or harness.service.url, harness.token))
    )
    qtbot.waitUntil(starting.done, timeout=15_000)
    built = starting.result()
    qtbot.addWidget(built.window)
    built.window.show()
    built.start()
    if online:
        qtbot.waitUntil(lambda: built.feed_vm.connection.value == "online", timeout=10_000)
    try:
        yield built
    finally:
        closing = loop.create_task(built.aclose())
        qtbot.waitUntil(closing.done, timeout=10_000)
        if shiboken6.isValid(built.window):  # at test teardown pytest-qt may have closed and deleted it already
            built.window.close()


@pytest.fixture
def kiosk(qtbot, qasync_loop, harness: Harness, tmp_path: Path) -> Iterator[Kiosk]:
    with running_kiosk(qtbot, qasync_loop, harness, tmp_path / "kiosk") as built:
        yield built


def restart_service(harness: Harness) -> LiveServer:
    """A new sync service process-equivalent on the same port and data dir (as after a crash)."""
    harness.service.stop()
    server = LiveServer(create_app(harness.settings), harness.service.port).start()
    return server
