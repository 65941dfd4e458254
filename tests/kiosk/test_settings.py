"""Settings behind the PIN: the hidden gesture, the pad, editing and saving, the connection test."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest

from pos_app.app import Kiosk, build_kiosk
from pos_app.pin import hash_pin, verify_pin
from pos_app.secrets import Pairing
from pos_app.settings import SETTINGS_FILE, load_settings
from pos_app.viewmodels import PinResult
from tests.support.harness import Harness

from .conftest import kiosk_settings

PIN = "4711"


def click(qtbot, widget) -> None:
    qtbot.mouseClick(widget, Qt.MouseButton.LeftButton)


def type_pin(qtbot, kiosk: Kiosk, pin: str) -> None:
    pad = kiosk.window.pin_pad
    for digit in pin:
        click(qtbot, pad.keys[digit])
    click(qtbot, pad.ok_button)


def with_pin(kiosk: Kiosk) -> Kiosk:
    kiosk.settings_vm.settings.settings_pin_hash = hash_pin(PIN)
    return kiosk


def test_five_taps_on_the_logo_open_the_pin_pad(qtbot, kiosk: Kiosk):
    logo = with_pin(kiosk).window.logo
    for _ in range(4):
        click(qtbot, logo)
    assert not kiosk.window.pin_pad.isVisible()
    click(qtbot, logo)
    assert kiosk.window.pin_pad.isVisible()
    assert (
        kiosk.window.pin_pad.keys["5"].isVisible() and "Enter the settings PIN" in kiosk.window.pin_pad.message.text()
    )


def test_a_long_press_on_the_logo_opens_the_pin_pad(qtbot, kiosk: Kiosk):
    logo = with_pin(kiosk).window.logo
    centre = QPoint(logo.width() // 2, logo.height() // 2)
    pressed = time.monotonic()
    QTest.mousePress(logo, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, centre)
    assert not kiosk.window.pin_pad.isVisible()
    qtbot.waitUntil(kiosk.window.pin_pad.isVisible, timeout=3000)
    # A short hold does nothing: the pad opened only once the hold lasted LONG_PRESS_MS (2 s; Qt's
    # coarse timers may fire up to 5 % early). The wait is the gesture itself, not a pause.
    assert time.monotonic() - pressed >= 0.95 * logo.LONG_PRESS_MS / 1000
    QTest.mouseRelease(logo, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, centre)


def test_wrong_pin_is_refused_and_the_right_one_opens_settings(qtbot, kiosk: Kiosk):
    window = with_pin(kiosk).window
    window.pin_pad.ask()
    type_pin(qtbot, kiosk, "1234")
    assert window.pin_pad.isVisible() and "Wrong PIN" in window.pin_pad.message.text()
    assert window.root.currentWidget() is not window.settings_page
    type_pin(qtbot, kiosk, PIN)
    assert not window.pin_pad.isVisible()
    assert window.root.currentWidget() is window.settings_page
    assert window.settings_page.kiosk_id.text() == "kiosk-1"
    assert "Online" in window.settings_page.connection.text()


def test_five_wrong_pins_lock_the_pad(qtbot, kiosk: Kiosk):
    vm = with_pin(kiosk).settings_vm
    now = [1000.0]
    vm._clock = lambda: now[0]
    assert [vm.check_pin("0000") for _ in range(5)] == [PinResult.WRONG] * 4 + [PinResult.LOCKED]
    assert vm.check_pin(PIN) is PinResult.LOCKED  # even the right PIN, until the lockout ends
    now[0] += vm.LOCKOUT_SECONDS + 1
    assert vm.check_pin(PIN) is PinResult.OK


def test_without_a_pin_the_pad_says_how_to_set_one(qtbot, kiosk: Kiosk):
    window = kiosk.window
    window.pin_pad.ask()
    assert not kiosk.settings_vm.has_pin
    assert "No settings PIN" in window.pin_pad.message.text()
    assert window.pin_pad.command.isVisible() and "tablepay kiosk set-settings-pin" in window.pin_pad.command.text()
    assert not window.pin_pad.keys["1"].isVisible()
    assert kiosk.settings_vm.check_pin("2580") is PinResult.NO_PIN


def test_settings_changed_on_the_pad_are_saved_and_shown(qtbot, kiosk: Kiosk, tmp_path):
    window = with_pin(kiosk).window
    window.pin_pad.ask()
    type_pin(qtbot, kiosk, PIN)
    page = window.settings_page
    click(qtbot, page.tip_buttons[0])  # 10 % -> 12 %
    for key in "C12":
        click(qtbot, page.tip_pad.keys[key])
    click(qtbot, page.tip_pad.ok_button)
    click(qtbot, page.donation_buttons[-1])  # "+ Add" -> 3.00
    for key in "300":
        click(qtbot, page.amount_pad.keys[key])
    click(qtbot, page.amount_pad.ok_button)
    click(qtbot, page.locale_buttons["de_DE"])
    click(qtbot, page.save_button)
    assert window.root.currentWidget() is not page

    saved = load_settings(tmp_path / "kiosk")
    assert saved.tip_presets == [12, 15, 20]
    assert saved.donation_amounts == [100, 200, 300, 500]
    assert saved.locale == "de_DE"
    raw = json.loads((tmp_path / "kiosk" / SETTINGS_FILE).read_text())
    assert PIN not in json.dumps(raw) and verify_pin(PIN, raw["settings_pin_hash"])
    # the order screen follows at once
    click(qtbot, window.tables_page.buttons["4"])
    assert sorted(window.order_page.tip_buttons) == [0, 12, 15, 20]
    assert window.order_page.donation_buttons[300].text() == "3,00\xa0€"


def test_invalid_settings_are_not_saved(qtbot, kiosk: Kiosk, tmp_path):
    vm = kiosk.settings_vm
    vm.begin_edit()
    vm.set_tip_preset(0, 150)  # over 100 %
    assert not vm.save()
    assert "tip presets" in vm.error and kiosk.order_vm.settings.tip_presets == [10, 15, 20]
    assert not (tmp_path / "kiosk" / SETTINGS_FILE).exists()


def test_test_connection_reports_online_and_refused(qtbot, kiosk: Kiosk, harness: Harness, qasync_loop, tmp_path):
    window = with_pin(kiosk).window
    window.show_settings()
    click(qtbot, window.settings_page.test_button)
    qtbot.waitUntil(lambda: "Connected as kiosk-1" in window.settings_page.test_result.text(), timeout=10_000)

    refused = build_kiosk(tmp_path / "other", kiosk_settings(), Pairing(harness.service.url, "not-a-token"))
    qtbot.addWidget(refused.window)
    with qtbot.waitSignal(refused.settings_vm.connectionTested, timeout=10_000) as signal:
        refused.settings_vm.test_connection()
    assert signal.args[0] is False and "401" in signal.args[1]
    task = qasync_loop.create_task(refused.aclose())
    qtbot.waitUntil(task.done, timeout=10_000)


def test_a_clear_text_pin_from_the_first_release_is_hashed_or_dropped(tmp_path):
    (tmp_path / SETTINGS_FILE).write_text(json.dumps({"kiosk_id": "k", "settings_pin": "9513"}))
    settings = load_settings(tmp_path)
    assert verify_pin("9513", settings.settings_pin_hash)
    assert "9513" not in (tmp_path / SETTINGS_FILE).read_text()
    (tmp_path / SETTINGS_FILE).write_text(json.dumps({"kiosk_id": "k", "settings_pin": "2580"}))  # the old default
    assert load_settings(tmp_path).settings_pin_hash == ""
    assert "2580" not in (tmp_path / SETTINGS_FILE).read_text()


def test_keep_screen_on_says_when_it_cannot(qapp, monkeypatch, caplog):
    from pos_app.screen import keep_screen_on

    monkeypatch.delenv("DBUS_SESSION_BUS_ADDRESS", raising=False)
    awake = keep_screen_on()
    if not awake.active:  # offscreen CI: no session bus, so the log points at the OS settings
        assert "cannot keep the screen on" in caplog.text
    awake.release()


def test_every_kiosk_setting_is_documented() -> None:
    from dataclasses import fields

    from pos_app.settings import KioskSettings

    documented = (Path(__file__).resolve().parents[2] / "docs" / "kiosk.md").read_text()
    for setting in fields(KioskSettings):
        assert f"| `{setting.name}` |" in documented, f"{setting.name} is not in docs/kiosk.md's settings table"


@pytest.mark.parametrize(
    ("name", "value", "says"),
    [
        ("request_timeout_seconds", -1, "greater than 0"),
        ("backoff_initial_seconds", "1.5", "valid number"),
        ("feed_wait_seconds", True, "valid number"),
        ("backoff_max_seconds", 0.1, "at least backoff_initial_seconds"),
        ("kiosk_id", "", "at least 1 character"),
        ("tip_presets", "10,15", "valid list"),
    ],
)
def test_a_wrong_setting_in_the_file_is_refused_with_its_name(
    tmp_path: Path, name: str, value: object, says: str
) -> None:
    (tmp_path / SETTINGS_FILE).write_text(json.dumps({name: value}))
    with pytest.raises(ValueError, match=name) as refused:
        load_settings(tmp_path)
    assert says in str(refused.value) and SETTINGS_FILE in str(refused.value)
