"""Offscreen screenshot of an unpaired kiosk's pairing screen, showing a real code from a real sync
service: docs/screenshots/kiosk-pairing.png (1280x800, the kiosk's touch screen)."""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("PYTHON_KEYRING_BACKEND", "keyring.backends.null.Keyring")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import qasync
from PySide6.QtWidgets import QApplication

from pos_app.app import build_pairing_screen
from pos_app.settings import KioskSettings
from tests.support.harness import running_harness

OUT = ROOT / "docs" / "screenshots" / "kiosk-pairing.png"


async def shoot(service_url: str, data_dir: Path) -> None:
    screen = build_pairing_screen(data_dir, KioskSettings(service_url=service_url))
    screen.window.show()
    size = screen.window.size()
    assert (size.width(), size.height()) == (1280, 800), f"the window is {size.width()}x{size.height()}"
    screen.vm.start()
    async with asyncio.timeout(15):
        while screen.vm.state.value != "code":
            await asyncio.sleep(0.05)
    await asyncio.sleep(0.3)
    screen.window.grab().save(str(OUT))
    await screen.vm.aclose()
    screen.window.close()


def main() -> None:
    OUT.parent.mkdir(parents=True, exist_ok=True)
    _app = QApplication.instance() or QApplication(sys.argv)
    with tempfile.TemporaryDirectory() as tmp, running_harness(Path(tmp)) as harness:
        qasync.run(shoot(harness.service.url, Path(tmp) / "kiosk"))
    print(f"saved {OUT}")


if __name__ == "__main__":
    main()
