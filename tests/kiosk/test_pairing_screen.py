"""The first start of an unpaired kiosk (issue 12): the pairing screen, against the real sync service.

The screen is driven through its real widgets (the on-screen keys included); the operator's side is
the real `tablepay sync add-kiosk KIOSK_ID --code CODE` as a process. Once paired, the kiosk starts
as `tablepay kiosk` starts it (start_kiosk) and shows the order screens in the same process.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import shiboken6

from pos_app.app import Kiosk, PairingScreen, build_pairing_screen
from pos_app.secrets import load_pairing
from pos_app.settings import SETTINGS_FILE, KioskSettings
from pos_app.viewmodels.pairing import PairingState
from pos_app.views.keyboard import SHIFT
from sync_service.api.auth import token_hash
from sync_service.services.pairing import CODE_TTL_SECONDS
from tests.support.faulty_proxy import FaultyProxy
from tests.support.harness import Clock, Harness, running_harness
from tests.support.live_server import LiveServer

from .conftest import kiosk_settings
from .test_kiosk_flows import LONG, click
from .test_never_stranded import assert_logged

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def harness(tmp_path: Path, clock: Clock) -> Iterator[Harness]:
    with running_harness(tmp_path, clock=clock) as running:
        yield running


def unpaired(**changes: object) -> KioskSettings:
    return kiosk_settings(kiosk_id="kiosk-1", **changes)


@contextmanager
def first_start(
    qtbot, loop: asyncio.AbstractEventLoop, directory: Path, settings: KioskSettings
) -> Iterator[tuple[PairingScreen, asyncio.Task[Kiosk | None]]]:
    """`tablepay kiosk` without a pairing: the pairing screen, then (once paired) the kiosk."""
    screen = build_pairing_screen(directory, settings, poll_wait=1.0, retry_seconds=0.2)
    qtbot.addWidget(screen.window)
    starting = loop.create_task(screen.kiosk(lambda window: window.show()))
    try:
        yield screen, starting
    finally:
        if not starting.done():
            starting.cancel()
            qtbot.waitUntil(starting.done, timeout=LONG)
        kiosk = None if starting.cancelled() else starting.result()
        if kiosk is not None:
            closing = loop.create_task(kiosk.aclose())
            qtbot.waitUntil(closing.done, timeout=LONG)
            if shiboken6.isValid(kiosk.window):
                kiosk.window.close()


def type_on(qtbot, keyboard, text: str) -> None:
    """Tap the keys as a finger would: Clear, the scheme key, then each character (⇧ for capitals)."""
    click(qtbot, keyboard.keys["Clear"])
    if text.startswith("http://"):
        click(qtbot, keyboard.keys["http://"])
        text = text.removeprefix("http://")
    for char in text:
        if char.isalpha() and char.isupper() != keyboard.upper:
            click(qtbot, keyboard.keys[SHIFT])
        click(qtbot, keyboard.keys[char.lower()])


def add_kiosk(h: Harness, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tablepay", "sync", "add-kiosk", *args],
        env=h.command_env(),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )


def showing_code(qtbot, screen: PairingScreen) -> str:
    qtbot.waitUntil(lambda: screen.vm.state is PairingState.CODE, timeout=LONG)
    window = screen.window
    assert window.code_label.isVisible() and window.code_label.text() == screen.vm.code
    code = window.code_label.text()
    assert len(code) == 9 and code[4] == "-"
    assert window.command_label.text() == f"tablepay sync add-kiosk KIOSK_ID --code {code}"
    assert window.new_code_button.isVisible() and window.change_address_button.isVisible()
    return code


def test_an_unpaired_kiosk_shows_a_code_and_goes_on_to_the_order_screen(
    qtbot, qasync_loop, harness: Harness, tmp_path: Path
) -> None:
    directory = tmp_path / "kiosk"
    with first_start(qtbot, qasync_loop, directory, unpaired()) as (screen, starting):
        window = screen.window
        qtbot.waitUntil(lambda: window.url_edit.isVisible(), timeout=LONG)
        assert window.url_edit.text() == "http://127.0.0.1:8787"  # the demo's service, until told otherwise
        type_on(qtbot, window.keyboard, harness.service.url)
        assert window.url_edit.text() == harness.service.url
        click(qtbot, window.get_code_button)
        code = showing_code(qtbot, screen)
        assert "Code valid for 10:00" in window.code_status.text() or "Code valid for 9:" in window.code_status.text()
        with concurrent.futures.ThreadPoolExecutor(1) as pool:
            operator = pool.submit(add_kiosk, harness, "bar-1", "--code", code)
            qtbot.waitUntil(starting.done, timeout=LONG)
            added = operator.result(timeout=60)
        assert added.returncode == 0, added.stderr
        assert "Kiosk 'bar-1' paired" in added.stdout and "collected its token" in added.stdout
        kiosk = starting.result()
        assert kiosk is not None and kiosk.window.isVisible() and not window.isVisible()
        # The token works: the feed goes online; the pairing is stored as `tablepay kiosk pair` stores it.
        qtbot.waitUntil(lambda: kiosk.feed_vm.connection.value == "online", timeout=LONG)
        stored = load_pairing(directory)
        assert stored is not None and stored.service_url == harness.service.url
        assert json.loads((directory / SETTINGS_FILE).read_text())["kiosk_id"] == "bar-1"
        assert harness.app.state.repo.kiosk_for_token_hash(token_hash(stored.token)) == "bar-1"
        click(qtbot, kiosk.window.tables_page.buttons["7"])
        assert kiosk.window.pages.currentWidget() is kiosk.window.order_page
        # The code was single-use: the operator cannot pair another kiosk with it.
        again = add_kiosk(harness, "bar-2", "--code", code)
        assert again.returncode == 2 and "was already used (for kiosk 'bar-1')" in again.stderr


def test_a_configured_service_is_asked_at_once_and_an_expired_code_offers_a_new_one(
    qtbot, qasync_loop, harness: Harness, clock: Clock, tmp_path: Path
) -> None:
    settings = unpaired(service_url=harness.service.url)
    with first_start(qtbot, qasync_loop, tmp_path / "kiosk", settings) as (screen, _):
        first = showing_code(qtbot, screen)
        clock.offset = CODE_TTL_SECONDS + 1  # eleven minutes later, for the service
        qtbot.waitUntil(lambda: screen.vm.state is PairingState.EXPIRED, timeout=LONG)
        window = screen.window
        assert window.retry_button.isVisible() and window.retry_button.text() == "New code"
        assert window.back_button.isVisible()
        clock.offset = 0
        click(qtbot, window.retry_button)
        assert showing_code(qtbot, screen) != first


def test_the_manual_url_and_token_path_pairs_the_kiosk(qtbot, qasync_loop, harness: Harness, tmp_path: Path) -> None:
    directory = tmp_path / "kiosk"
    with first_start(qtbot, qasync_loop, directory, unpaired()) as (screen, starting):
        window = screen.window
        qtbot.waitUntil(lambda: window.token_instead_button.isVisible(), timeout=LONG)
        click(qtbot, window.token_instead_button)
        qtbot.waitUntil(lambda: window.token_edit.isVisible(), timeout=LONG)
        keys = window.manual_keyboard
        click(qtbot, window.manual_url_edit)  # a tap on a field: the keys type there
        type_on(qtbot, keys, harness.service.url)
        click(qtbot, window.token_edit)
        type_on(qtbot, keys, "tpk_wrong-Token")
        click(qtbot, window.pair_button)
        qtbot.waitUntil(lambda: screen.vm.state is PairingState.ERROR, timeout=LONG)
        assert "refused this token (401)" in window.detail.text() and window.retry_button.isVisible()
        assert load_pairing(directory) is None
        click(qtbot, window.retry_button)  # back to the typed address and token
        qtbot.waitUntil(lambda: window.token_edit.isVisible(), timeout=LONG)
        assert window.manual_url_edit.text() == harness.service.url
        assert keys.target is window.token_edit  # the address is there: the keys type the token
        type_on(qtbot, keys, harness.token)
        assert window.token_edit.text() == harness.token
        click(qtbot, window.pair_button)
        qtbot.waitUntil(starting.done, timeout=LONG)
        kiosk = starting.result()
        assert kiosk is not None
        qtbot.waitUntil(lambda: kiosk.feed_vm.connection.value == "online", timeout=LONG)
        stored = load_pairing(directory)
        assert stored is not None and stored.token == harness.token
        assert json.loads((directory / SETTINGS_FILE).read_text())["kiosk_id"] == "kiosk-1"


@pytest.fixture
def proxy(harness: Harness) -> Iterator[FaultyProxy]:
    faulty = FaultyProxy(harness.service.url)
    with LiveServer(faulty.app) as server:
        faulty.url = server.url
        yield faulty


@pytest.mark.parametrize(
    "route", [("POST", "/v1/pairing/codes", 201), ("GET", "/v1/pairing/codes/.+", 200)], ids=["create", "poll"]
)
def test_a_malformed_answer_leaves_try_again_on_screen(
    qtbot, qasync_loop, proxy: FaultyProxy, route, caplog, tmp_path: Path
) -> None:
    method, path, status = route
    proxy.break_route(method, path, status, b'{"status": "paired"}')  # a 2xx without the fields it promises
    settings = unpaired(service_url=proxy.url)
    with first_start(qtbot, qasync_loop, tmp_path / "kiosk", settings) as (screen, _):
        qtbot.waitUntil(lambda: screen.vm.state is PairingState.ERROR, timeout=LONG)
        window = screen.window
        assert "Something went wrong" in window.detail.text()
        assert window.retry_button.isVisible() and window.retry_button.text() == "Try again"
        assert window.back_button.isVisible() and window.back_button.text() == "Change address"
        assert_logged(caplog)
        assert load_pairing(tmp_path / "kiosk") is None
        proxy.fault = None
        click(qtbot, window.retry_button)  # the way out works
        showing_code(qtbot, screen)
