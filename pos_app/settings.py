"""The kiosk's own settings: a small JSON file in its config dir, edited by `tablepay kiosk set-...`.

Secrets (the bearer token) are not here: see pos_app.secrets.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import asdict, field, fields
from pathlib import Path
from typing import Annotated, Any, Literal

import platformdirs
from babel import Locale, UnknownLocaleError
from pydantic import ConfigDict, Field, ValidationError
from pydantic.dataclasses import dataclass

from tablepay_domain.day_totals import parse_day_start
from tablepay_domain.tips import DEFAULT_TIP_PRESETS
from tablepay_files import write_private
from tablepay_locale import LOCALES  # the locales the kiosk offers (and the bundle carries)

from . import APP_NAME
from .menu import DEFAULT_MENU

log = logging.getLogger(__name__)

SETTINGS_FILE = "kiosk-settings.json"
MENU_SOURCES = ("file", "pos")  # as KioskSettings.menu_source says
LEGACY_DEFAULT_PIN = "2580"  # the clear-text default of the first kiosk release: never honoured
# The locales the settings screen offers (tablepay_locale.LOCALES). The bundle (build.spec) carries
# Babel's data for these only (and the locales they inherit from); from a checkout `set-locale` takes
# any locale Babel knows.


def default_dir() -> Path:
    """TABLEPAY_KIOSK_DIR, else the platform's user data dir (~/.local/share/tablepay-kiosk)."""
    env = os.environ.get("TABLEPAY_KIOSK_DIR")
    return Path(env) if env else Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


Seconds = Annotated[float, Field(gt=0, le=300)]


# Validated from the field types when built (a negative timeout, "1.5" for a number, an unknown menu
# source: refused with the setting's name); `validate()` adds what types cannot say.
@dataclass(config=ConfigDict(strict=True, extra="forbid"))
class KioskSettings:
    kiosk_id: Annotated[str, Field(min_length=1, max_length=100)] = "kiosk-1"
    # The sync service an unpaired kiosk's pairing screen asks for a code at once (empty: it asks
    # the waiter for the address, proposing pos_app.pairing.DEFAULT_SERVICE_URL).
    service_url: Annotated[str, Field(max_length=500)] = ""
    waiter: Annotated[str, Field(max_length=100)] = ""
    locale: str = "en_IE"
    menu_path: str = str(DEFAULT_MENU)
    # "pos": dishes and prices from the restaurant's POS (GET /v1/menu), cached
    menu_source: Literal["file", "pos"] = "file"
    tip_presets: list[int] = field(default_factory=lambda: list(DEFAULT_TIP_PRESETS))
    donation_partner: Annotated[str, Field(max_length=200)] = "Red Cross"
    donation_amounts: list[int] = field(default_factory=lambda: [100, 200, 500])
    settings_pin_hash: str = ""  # pos_app.pin.hash_pin(...); empty: no PIN set, settings stay locked
    manager_pin_hash: str = ""  # the same kind of hash, for manager mode (`tablepay kiosk set-manager-pin`)
    business_day_starts_at: str = "04:00"  # local time: a late shift counts to the day it started
    feed_wait_seconds: Annotated[float, Field(gt=0, le=60)] = 25.0
    backoff_initial_seconds: Seconds = 0.5
    backoff_max_seconds: Seconds = 15.0
    request_timeout_seconds: Seconds = 10.0

    def validate(self) -> KioskSettings:
        """Check what the field types cannot (and what the settings screen changed in place)."""
        try:  # again, for values changed in place since it was built
            KioskSettings(**asdict(self))
        except ValidationError as exc:
            raise ValueError(_setting_errors(exc)) from None
        if any(isinstance(p, bool) or not isinstance(p, int) or not 0 < p <= 100 for p in self.tip_presets):
            raise ValueError("tip presets must be whole percentages between 1 and 100")
        if any(isinstance(a, bool) or not isinstance(a, int) or a <= 0 for a in self.donation_amounts):
            raise ValueError("donation amounts must be positive integers in minor units")
        try:
            Locale.parse(self.locale)
        except (ValueError, TypeError, UnknownLocaleError):
            raise ValueError(f"unknown locale {self.locale!r} (offered: {', '.join(LOCALES)})") from None
        try:
            parse_day_start(self.business_day_starts_at)
        except ValueError:
            raise ValueError(
                f"business_day_starts_at must be HH:MM (e.g. 04:00), not {self.business_day_starts_at!r}"
            ) from None
        if self.backoff_max_seconds < self.backoff_initial_seconds:
            raise ValueError("backoff_max_seconds must be at least backoff_initial_seconds")
        return self


def _setting_errors(exc: ValidationError) -> str:
    """One line per wrong setting, named as in kiosk-settings.json."""
    return "; ".join(
        f"kiosk setting {'.'.join(str(part) for part in error['loc']) or '?'}: {error['msg']}" for error in exc.errors()
    )


def settings_from(values: dict[str, Any]) -> KioskSettings:
    """KioskSettings from raw values (a file, a command), refused with the names of the wrong settings."""
    try:
        return KioskSettings(**values).validate()
    except ValidationError as exc:
        raise ValueError(_setting_errors(exc)) from None


def load_settings(directory: Path | None = None) -> KioskSettings:
    path = (directory or default_dir()) / SETTINGS_FILE
    if not path.exists():
        return KioskSettings()
    raw = json.loads(path.read_text(encoding="utf-8"))
    known = {f.name for f in fields(KioskSettings)}
    try:
        settings = settings_from({k: v for k, v in raw.items() if k in known})
    except ValueError as exc:
        raise ValueError(f"{path}: {exc}") from None
    if "settings_pin" in raw:  # a clear-text PIN from the first release: hash it (or drop the old default)
        legacy = str(raw["settings_pin"])
        from .pin import hash_pin, valid_pin

        if not settings.settings_pin_hash and legacy != LEGACY_DEFAULT_PIN and valid_pin(legacy):
            settings.settings_pin_hash = hash_pin(legacy)
            log.warning("the settings PIN was stored in clear text in %s: replaced by its hash", path)
        else:
            log.warning(
                "dropped the clear-text settings PIN from %s; set one with `tablepay kiosk set-settings-pin`", path
            )
        save_settings(settings, path.parent)
    return settings


def save_settings(settings: KioskSettings, directory: Path | None = None) -> Path:
    settings.validate()
    directory = directory or default_dir()
    # Private (it holds the PINs' hashes) and replaced whole, so a crash never leaves half a file.
    return write_private(directory / SETTINGS_FILE, json.dumps(asdict(settings), indent=2) + "\n")
