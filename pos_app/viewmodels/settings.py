"""The settings screen: unlock with the PIN, edit tips, donation amounts and locale, test the connection.

The PIN is checked against its salted scrypt hash (pos_app.pin); five wrong PINs lock the pad
for a while. Saved changes go to the kiosk's settings file and `changed` tells the order screen.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable
from enum import Enum
from pathlib import Path

from PySide6.QtCore import QObject, Signal

from ..client import ApiError, SyncClient, Unreachable
from ..pin import verify_pin
from ..settings import KioskSettings, save_settings
from .actions import unexpected, waiter_action

log = logging.getLogger(__name__)

MAX_TIP_PRESETS, MAX_DONATION_AMOUNTS = 4, 4
SET_PIN_COMMAND = "tablepay kiosk set-settings-pin"


class PinResult(str, Enum):
    OK = "ok"
    WRONG = "wrong"
    LOCKED = "locked"
    NO_PIN = "no_pin"


class SettingsViewModel(QObject):
    changed = Signal()  # saved: tip presets, donation amounts or locale may differ
    draftChanged = Signal()
    connectionTested = Signal(bool, str)  # ok, message

    MAX_WRONG = 5
    LOCKOUT_SECONDS = 30.0

    def __init__(
        self,
        settings: KioskSettings,
        directory: Path,
        client: SyncClient,
        service_url: str,
        clock: Callable[[], float] = time.monotonic,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.settings, self.directory, self.client, self.service_url = settings, directory, client, service_url
        self._clock = clock
        self._wrong = 0
        self._locked_until = 0.0
        self.testing = False
        self.begin_edit()

    # -- the PIN ----------------------------------------------------------------
    @property
    def has_pin(self) -> bool:
        return bool(self.settings.settings_pin_hash)

    def locked_for(self) -> float:
        return max(0.0, self._locked_until - self._clock())

    def check_pin(self, pin: str) -> PinResult:
        if not self.has_pin:
            return PinResult.NO_PIN
        if self.locked_for() > 0:
            return PinResult.LOCKED
        if verify_pin(pin, self.settings.settings_pin_hash):
            self._wrong = 0
            self.begin_edit()
            return PinResult.OK
        self._wrong += 1
        log.warning("wrong settings PIN (%d in a row)", self._wrong)
        if self._wrong >= self.MAX_WRONG:
            self._wrong = 0
            self._locked_until = self._clock() + self.LOCKOUT_SECONDS
            return PinResult.LOCKED
        return PinResult.WRONG

    # -- the draft being edited ------------------------------------------------
    def begin_edit(self) -> None:
        self.tip_presets = list(self.settings.tip_presets)
        self.donation_amounts = list(self.settings.donation_amounts)
        self.locale = self.settings.locale
        self.error = ""
        self.draftChanged.emit()

    def set_tip_preset(self, index: int, percent: int) -> None:
        """index == len(tip_presets) adds one; 0 % removes it."""
        self._set(self.tip_presets, index, percent, MAX_TIP_PRESETS)

    def set_donation_amount(self, index: int, amount: int) -> None:
        self._set(self.donation_amounts, index, amount, MAX_DONATION_AMOUNTS)

    def _set(self, values: list[int], index: int, value: int, limit: int) -> None:
        if value <= 0:
            if index < len(values):
                del values[index]
        elif index < len(values):
            values[index] = value
        elif len(values) < limit:
            values.append(value)
        values[:] = sorted(set(values))
        self.draftChanged.emit()

    def set_locale(self, locale: str) -> None:
        self.locale = locale
        self.draftChanged.emit()

    def save(self) -> bool:
        candidate = dataclasses.replace(
            self.settings,
            tip_presets=list(self.tip_presets),
            donation_amounts=list(self.donation_amounts),
            locale=self.locale,
        )
        try:
            path = save_settings(candidate, self.directory)
        except ValueError as exc:
            self.error = str(exc)
            self.draftChanged.emit()
            return False
        # The view models share this settings object: change it in place.
        self.settings.tip_presets, self.settings.donation_amounts = candidate.tip_presets, candidate.donation_amounts
        self.settings.locale = candidate.locale
        self.error = ""
        log.info("kiosk settings saved to %s", path)
        self.changed.emit()
        return True

    # -- the connection ----------------------------------------------------------
    def recover(self, error: Exception) -> None:
        self.testing = False
        self.connectionTested.emit(False, unexpected(error))

    @waiter_action()
    async def test_connection(self) -> None:
        if self.testing:
            return
        self.testing = True
        started = time.perf_counter()
        try:
            kiosk_id = await self.client.whoami()
        except Unreachable:
            ok, message = False, f"Unreachable: no answer from {self.service_url}"
        except ApiError as exc:
            ok = False
            message = (
                "Token refused (401): pair again with `tablepay kiosk pair URL TOKEN`"
                if exc.status == 401
                else f"The service answered {exc.status}: {exc.message}"
            )
        else:
            millis = (time.perf_counter() - started) * 1000
            ok = kiosk_id == self.settings.kiosk_id
            message = (
                f"Connected as {kiosk_id} ({millis:.0f} ms)"
                if ok
                else f"Connected, but the token belongs to {kiosk_id!r}, not {self.settings.kiosk_id!r}"
            )
        finally:
            self.testing = False
        self.connectionTested.emit(ok, message)
