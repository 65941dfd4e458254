"""`tablepay kiosk --smoke-test`: start the kiosk as it starts for real, open the order screen, take a
screenshot, print what it found, quit.

This is what the frozen bundle runs (scripts/build, tests/packaging/test_bundle.py) to prove that Qt, its
platform plugin, the menu file, QR codes, keyring and httpx all made it into the bundle, and that what
build.spec cut (Babel's locales, Qt's plugins, packages) still holds what the kiosk uses (smoke_checks).
It needs no running sync service: an unreachable one is fine, the kiosk then shows "Offline". An
unpaired kiosk shows its pairing screen instead (what `tablepay kiosk` shows then): the report says
`"pairing_screen": true`, and that is a success too.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from . import smoke_checks
from .app import Kiosk, PairingScreen, build_pairing_screen, start_kiosk
from .secrets import Pairing
from .settings import KioskSettings

if TYPE_CHECKING:
    from PySide6.QtWidgets import QWidget

log = logging.getLogger(__name__)
SETTLED = ("online", "offline", "unauthorized")  # the feed worker reached (or failed to reach) the service


def seconds_since_process_start() -> float | None:
    """Wall time since this process was started (Linux /proc), so a cold start includes the bootloader."""
    try:
        ticks = int(Path("/proc/self/stat").read_text().rsplit(")", 1)[1].split()[19])
        uptime = float(Path("/proc/uptime").read_text().split()[0])
        return round(uptime - ticks / os.sysconf("SC_CLK_TCK"), 2)
    except (OSError, ValueError, IndexError):
        return None


class SmokeFailure(RuntimeError):
    pass


async def _until(predicate: Callable[[], object], timeout: float, what: str) -> None:
    try:
        async with asyncio.timeout(timeout):
            while not predicate():  # noqa: ASYNC110 - a widget's state has no event to await
                await asyncio.sleep(0.05)
    except TimeoutError:
        raise SmokeFailure(f"timed out after {timeout:.0f} s waiting for {what}") from None


def _distinct_colours(path: Path) -> int:
    from PySide6.QtGui import QImage

    image = QImage(str(path))
    if image.isNull():
        return 0
    step_x, step_y = max(1, image.width() // 64), max(1, image.height() // 64)
    return len({image.pixel(x, y) for x in range(0, image.width(), step_x) for y in range(0, image.height(), step_y)})


async def _exercise(kiosk: Kiosk, screenshot: Path) -> dict[str, object]:
    window = kiosk.window
    window.show()
    kiosk.start()
    tables = window.tables_page.buttons
    tables[next(iter(tables))].click()
    menu = kiosk.order_vm.menu
    kiosk.order_vm.add_item(menu.items[0].sku)
    await _until(lambda: window.pages.currentWidget() is window.order_page, 5, "the order screen")
    shown_after = seconds_since_process_start()
    await _until(lambda: kiosk.feed_vm.connection.value in SETTLED, 15, "the feed's first answer")
    colours = await _save(window, screenshot)
    connection, order = kiosk.feed_vm.connection, kiosk.order_vm.order
    assert order is not None, "the order screen shows no order"
    return {
        "order_screen": True,
        "order_screen_after_seconds": shown_after,
        "lines": len(order.lines),
        "connection": connection.value,
        "screenshot": str(screenshot),
        "screenshot_colours": colours,
    }


async def _save(window: QWidget, screenshot: Path) -> int:
    await asyncio.sleep(0.2)  # let the last state repaint
    screenshot.parent.mkdir(parents=True, exist_ok=True)
    if not window.grab().save(str(screenshot)):
        raise SmokeFailure(f"could not save the screenshot to {screenshot}")
    colours = _distinct_colours(screenshot)
    if colours < 8:  # a blank or single-colour grab means nothing was drawn
        raise SmokeFailure(f"the screenshot {screenshot} looks blank ({colours} colours)")
    return colours


async def _pairing_screen(screen: PairingScreen, screenshot: Path) -> dict[str, object]:
    """The unpaired start: the pairing screen, settled (a configured service may be asked for a code)."""
    from .viewmodels.pairing import BUSY

    screen.window.show()
    screen.vm.start()
    await _until(lambda: screen.vm.state not in BUSY, 15, "the pairing screen to settle")
    shown_after = seconds_since_process_start()
    colours = await _save(screen.window, screenshot)
    return {
        "pairing_screen": True,
        "order_screen": False,
        "pairing_state": screen.vm.state.value,
        "pairing_code": screen.vm.code,  # one-time and short-lived: safe to print
        "pairing_screen_after_seconds": shown_after,
        "screenshot": str(screenshot),
        "screenshot_colours": colours,
    }


def run_smoke_test(data_dir: Path, settings: KioskSettings, pairing: Pairing | None, screenshot: Path) -> int:
    """Run the kiosk through its start-up and the order screen; prints one JSON report; 0 when it worked."""
    import keyring
    import qasync
    from PySide6.QtGui import QGuiApplication
    from PySide6.QtWidgets import QApplication

    began = time.monotonic()
    app = QApplication.instance() or QApplication(sys.argv)  # noqa: F841 - must outlive the loop
    report: dict[str, object] = {
        "frozen": bool(getattr(sys, "frozen", False)),
        "qt_platform": QGuiApplication.platformName(),
        "keyring_backend": f"{type(keyring.get_keyring()).__module__}.{type(keyring.get_keyring()).__name__}",
        "data_dir": str(data_dir),
        "service_url": pairing.service_url if pairing else None,
        "menu": settings.menu_path,
    }

    async def main() -> None:
        report.update(smoke_checks.report())
        if pairing is None:
            screen = build_pairing_screen(data_dir, settings)
            try:
                report.update(await _pairing_screen(screen, screenshot))
            finally:
                await screen.vm.aclose()
                screen.window.close()
            return
        kiosk = await start_kiosk(data_dir, settings, pairing)
        try:
            report.update(await _exercise(kiosk, screenshot))
        finally:
            await kiosk.aclose()
            kiosk.window.close()

    try:
        qasync.run(main())
    except Exception as exc:  # noqa: BLE001 - the report says what broke, the exit code says that it did
        report.update(ok=False, error=f"{type(exc).__name__}: {exc}")
        print(json.dumps(report), flush=True)
        return 1
    report.update(ok=True, run_seconds=round(time.monotonic() - began, 2))
    print(json.dumps(report), flush=True)
    return 0
