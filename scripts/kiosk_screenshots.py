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

import qasync  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from pos_app.app import build_kiosk  # noqa: E402
from pos_app.pin import hash_pin  # noqa: E402
from pos_app.secrets import Pairing  # noqa: E402
from pos_app.settings import KioskSettings  # noqa: E402
from tests.support.harness import running_harness  # noqa: E402

OUT = ROOT / "docs" / "screenshots"


async def until(predicate, timeout: float = 15) -> None:  # type: ignore[no-untyped-def]
    async with asyncio.timeout(timeout):
        while not predicate():
            await asyncio.sleep(0.05)


async def shoot(service_url: str, token: str, data_dir: Path, complete) -> None:  # type: ignore[no-untyped-def]
    settings = KioskSettings(kiosk_id="kiosk-1", waiter="Ana", settings_pin_hash=hash_pin("2468"))
    kiosk = build_kiosk(data_dir, settings, Pairing(service_url, token))
    window = kiosk.window
    window.show()  # type: ignore[attr-defined]
    size = window.size()  # type: ignore[attr-defined]
    assert (size.width(), size.height()) == (1280, 800), f"the window is {size.width()}x{size.height()}, not 1280x800"
    kiosk.start()
    await until(lambda: kiosk.feed_vm.connection.value == "online")  # type: ignore[attr-defined]
    vm, page = kiosk.order_vm, window.order_page  # type: ignore[attr-defined]
    window.tables_page.buttons["3"].click()  # type: ignore[attr-defined]
    vm.add_item("BURR")  # type: ignore[attr-defined]
    vm.add_item("OLIV")  # type: ignore[attr-defined]
    await kiosk.kitchen_vm.send_now()  # type: ignore[attr-defined]
    window.show_tables()  # type: ignore[attr-defined]
    window.tables_page.buttons["7"].click()  # type: ignore[attr-defined]
    for sku in ("MARG", "MARG", "CARB", "LASA", "TIRA", "LEMO", "LEMO"):
        vm.add_item(sku)  # type: ignore[attr-defined]
    page.show_category("Mains")
    page.tip_buttons[15].click()
    page.donation_round_up.click()
    await asyncio.sleep(0.3)
    window.grab().save(str(OUT / "kiosk-order.png"))  # type: ignore[attr-defined]
    page.kitchen_button.click()
    await until(lambda: page.pos_badge.text() == "In POS")  # the simulator took package 1
    vm.add_item("GELA")  # type: ignore[attr-defined]
    page.show_category("Desserts")
    await asyncio.sleep(0.3)
    window.grab().save(str(OUT / "kiosk-send-to-kitchen.png"))  # type: ignore[attr-defined]
    page.checkout_button.click()
    await until(lambda: kiosk.checkout_vm.state.value == "waiting")  # type: ignore[attr-defined]
    await asyncio.sleep(0.3)
    window.grab().save(str(OUT / "kiosk-qr.png"))  # type: ignore[attr-defined]
    await asyncio.to_thread(complete, {"checkout_url": kiosk.checkout_vm.attempt.checkout_url})  # type: ignore[attr-defined]
    await until(lambda: kiosk.checkout_vm.state.value == "paid")  # type: ignore[attr-defined]
    await asyncio.sleep(0.3)
    window.grab().save(str(OUT / "kiosk-paid.png"))  # type: ignore[attr-defined]
    window.checkout_panel.done_button.click()  # type: ignore[attr-defined]
    window.nav_orders.click()  # type: ignore[attr-defined]
    await asyncio.sleep(0.3)
    window.grab().save(str(OUT / "kiosk-orders.png"))  # type: ignore[attr-defined]
    window.pin_pad.ask()  # type: ignore[attr-defined]
    for key in "24":
        window.pin_pad.press(key)  # type: ignore[attr-defined]
    await asyncio.sleep(0.2)
    window.grab().save(str(OUT / "kiosk-pin.png"))  # type: ignore[attr-defined]
    for key in "68":
        window.pin_pad.press(key)  # type: ignore[attr-defined]
    window.pin_pad.submit()  # type: ignore[attr-defined]
    window.settings_page.test_button.click()  # type: ignore[attr-defined]
    await until(lambda: "Connected" in window.settings_page.test_result.text())  # type: ignore[attr-defined]
    await asyncio.sleep(0.2)
    window.grab().save(str(OUT / "kiosk-settings.png"))  # type: ignore[attr-defined]
    await kiosk.aclose()


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    _app = QApplication.instance() or QApplication(sys.argv)
    with tempfile.TemporaryDirectory() as tmp, running_harness(Path(tmp), pos=True) as harness:
        qasync.run(shoot(harness.service.url, harness.token, Path(tmp) / "kiosk",
                         lambda payment: harness.complete(payment, "succeeded")))
    print(f"saved {', '.join(p.name for p in sorted(OUT.glob('kiosk-*.png')))} in {OUT}")


if __name__ == "__main__":
    main()
