"""Offscreen screenshots of the kiosk against a real sandbox + sync service: docs/screenshots/kiosk-*.png."""

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

from pos_app.app import build_kiosk
from pos_app.pin import hash_pin
from pos_app.secrets import Pairing
from pos_app.settings import KioskSettings
from tests.support.harness import running_harness

OUT = ROOT / "docs" / "screenshots"


async def until(predicate, timeout: float = 15) -> None:
    async with asyncio.timeout(timeout):
        while not predicate():
            await asyncio.sleep(0.05)


async def shoot(service_url: str, token: str, data_dir: Path, complete) -> None:
    settings = KioskSettings(kiosk_id="kiosk-1", waiter="Ana", settings_pin_hash=hash_pin("2468"))
    kiosk = build_kiosk(data_dir, settings, Pairing(service_url, token))
    window = kiosk.window
    window.show()
    size = window.size()
    assert (size.width(), size.height()) == (1280, 800), f"the window is {size.width()}x{size.height()}, not 1280x800"
    kiosk.start()
    await until(lambda: kiosk.feed_vm.connection.value == "online")
    vm, page = kiosk.order_vm, window.order_page
    window.tables_page.buttons["3"].click()
    vm.add_item("BURR")
    vm.add_item("OLIV")
    await kiosk.kitchen_vm.send_now()
    window.show_tables()
    window.tables_page.buttons["7"].click()
    for sku in ("MARG", "MARG", "CARB", "LASA", "TIRA", "LEMO", "LEMO"):
        vm.add_item(sku)
    page.show_category("Mains")
    page.tip_buttons[15].click()
    page.donation_round_up.click()
    await asyncio.sleep(0.3)
    window.grab().save(str(OUT / "kiosk-order.png"))
    page.kitchen_button.click()
    await until(lambda: page.pos_badge.text() == "In POS")  # the simulator took package 1
    vm.add_item("GELA")
    page.show_category("Desserts")
    await asyncio.sleep(0.3)
    window.grab().save(str(OUT / "kiosk-send-to-kitchen.png"))
    page.checkout_button.click()
    await until(lambda: kiosk.checkout_vm.state.value == "waiting")
    await asyncio.sleep(0.3)
    window.grab().save(str(OUT / "kiosk-qr.png"))
    await asyncio.to_thread(complete, {"checkout_url": kiosk.checkout_vm.attempt.checkout_url})
    await until(lambda: kiosk.checkout_vm.state.value == "paid")
    await asyncio.sleep(0.3)
    window.grab().save(str(OUT / "kiosk-paid.png"))
    window.checkout_panel.done_button.click()
    window.nav_orders.click()
    await asyncio.sleep(0.3)
    window.grab().save(str(OUT / "kiosk-orders.png"))
    window.pin_pad.ask()
    for key in "24":
        window.pin_pad.press(key)
    await asyncio.sleep(0.2)
    window.grab().save(str(OUT / "kiosk-pin.png"))
    for key in "68":
        window.pin_pad.press(key)
    window.pin_pad.submit()
    window.settings_page.test_button.click()
    await until(lambda: "Connected" in window.settings_page.test_result.text())
    await asyncio.sleep(0.2)
    window.grab().save(str(OUT / "kiosk-settings.png"))
    await kiosk.aclose()


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    _app = QApplication.instance() or QApplication(sys.argv)
    with tempfile.TemporaryDirectory() as tmp, running_harness(Path(tmp), pos=True) as harness:
        qasync.run(
            shoot(
                harness.service.url,
                harness.token,
                Path(tmp) / "kiosk",
                lambda payment: harness.complete(payment, "succeeded"),
            )
        )
    print(f"saved {', '.join(p.name for p in sorted(OUT.glob('kiosk-*.png')))} in {OUT}")


if __name__ == "__main__":
    main()
