"""The kiosk's own settings: a small JSON file in its config dir, edited by `tablepay kiosk set-...`.

Secrets (the bearer token) are not here: see pos_app.secrets.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

import platformdirs
from babel import Locale, UnknownLocaleError

from tablepay_domain.day_totals import parse_day_start
from tablepay_domain.tips import DEFAULT_TIP_PRESETS

from . import APP_NAME
from .menu import DEFAULT_MENU

log = logging.getLogger(__name__)

SETTINGS_FILE = "kiosk-settings.json"
MENU_SOURCES = ("file", "pos")
LEGACY_DEFAULT_PIN = "2580"  # the clear-text default of the first kiosk release: never honoured


def default_dir() -> Path:
    """TABLEPAY_KIOSK_DIR, else the platform's user data dir (~/.local/share/tablepay-kiosk)."""
    env = os.environ.get("TABLEPAY_KIOSK_DIR")
    return Path(env) if env else Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


@dataclass
class KioskSettings:
    kiosk_id: str = "kiosk-1"
    # The sync service an unpaired kiosk's pairing screen asks for a code at once (empty: it asks
    # the waiter for the address, proposing pos_app.pairing.DEFAULT_SERVICE_URL).
    service_url: str = ""
    waiter: str = ""
    locale: str = "en_IE"
    menu_path: str = str(DEFAULT_MENU)
    menu_source: str = "file"  # "pos": dishes and prices from the restaurant's POS (GET /v1/menu), cached
    tip_presets: list[int] = field(default_factory=lambda: list(DEFAULT_TIP_PRESETS))
    donation_partner: str = "Red Cross"
    donation_amounts: list[int] = field(default_factory=lambda: [100, 200, 500])
    settings_pin_hash: str = ""  # pos_app.pin.hash_pin(...); empty: no PIN set, settings stay locked
    manager_pin_hash: str = ""  # the same kind of hash, for manager mode (`tablepay kiosk set-manager-pin`)
    business_day_starts_at: str = "04:00"  # local time: a late shift counts to the day it started
    feed_wait_seconds: float = 25.0
    backoff_initial_seconds: float = 0.5
    backoff_max_seconds: float = 15.0
    request_timeout_seconds: float = 10.0

    def validate(self) -> KioskSettings:
        if any(isinstance(p, bool) or not isinstance(p, int) or not 0 < p <= 100 for p in self.tip_presets):
            raise ValueError("tip presets must be whole percentages between 1 and 100")
        if any(isinstance(a, bool) or not isinstance(a, int) or a <= 0 for a in self.donation_amounts):
            raise ValueError("donation amounts must be positive integers in minor units")
        try:
            Locale.parse(self.locale)
        except (ValueError, TypeError, UnknownLocaleError):
            raise ValueError(f"unknown locale {self.locale!r} (use e.g. en_IE, de_DE)") from None
        if self.menu_source not in MENU_SOURCES:
            raise ValueError(f"menu_source must be one of {', '.join(MENU_SOURCES)}, not {self.menu_source!r}")
        try:
            parse_day_start(self.business_day_starts_at)
        except ValueError:
            raise ValueError(f"business_day_starts_at must be HH:MM (e.g. 04:00), "
                             f"not {self.business_day_starts_at!r}") from None
        if not 0 < self.feed_wait_seconds <= 60:
            raise ValueError("feed_wait_seconds must be in (0, 60]")
        return self


def load_settings(directory: Path | None = None) -> KioskSettings:
    path = (directory or default_dir()) / SETTINGS_FILE
    if not path.exists():
        return KioskSettings()
    raw = json.loads(path.read_text(encoding="utf-8"))
    known = {f.name for f in fields(KioskSettings)}
    settings = KioskSettings(**{k: v for k, v in raw.items() if k in known}).validate()
    if "settings_pin" in raw:  # a clear-text PIN from the first release: hash it (or drop the old default)
        legacy = str(raw["settings_pin"])
        from .pin import hash_pin, valid_pin

        if not settings.settings_pin_hash and legacy != LEGACY_DEFAULT_PIN and valid_pin(legacy):
            settings.settings_pin_hash = hash_pin(legacy)
            log.warning("the settings PIN was stored in clear text in %s: replaced by its hash", path)
        else:
            log.warning("dropped the clear-text settings PIN from %s; set one with "
                        "`tablepay kiosk set-settings-pin`", path)
        save_settings(settings, path.parent)
    return settings


def save_settings(settings: KioskSettings, directory: Path | None = None) -> Path:
    settings.validate()
    directory = directory or default_dir()
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / SETTINGS_FILE
    path.write_text(json.dumps(asdict(settings), indent=2) + "\n", encoding="utf-8")
    return path
