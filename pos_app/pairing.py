"""What pairing a kiosk means, whoever does it (`tablepay kiosk pair` or the pairing screen).

Both store the same thing the same way: the service URL and token (pos_app.secrets: keyring, else
the 0600 plain-text file) and the kiosk id the service gave, in the kiosk's settings file.
"""

from __future__ import annotations

from pathlib import Path

import httpx

from .secrets import Pairing, store_pairing
from .settings import KioskSettings, save_settings

DEFAULT_SERVICE_URL = "http://127.0.0.1:8787"  # where `tablepay sync` and the demo listen by default


def normalise_service_url(text: str) -> str | None:
    """The URL as stored, from what was typed ("192.168.1.20:8787" gets http://); None if it cannot be one."""
    text = text.strip().rstrip("/")
    if not text:
        return None
    if "://" not in text:
        text = "http://" + text
    try:
        url = httpx.URL(text)
    except (httpx.InvalidURL, ValueError):
        return None
    if url.scheme not in ("http", "https") or not url.host or url.query or url.fragment:
        return None
    return text


def save_pairing(directory: Path, settings: KioskSettings, service_url: str, token: str, kiosk_id: str) -> str:
    """Store the pairing and the kiosk id; returns where the token went (for the log or the terminal)."""
    where = store_pairing(Pairing(service_url, token), directory)
    settings.kiosk_id = kiosk_id
    save_settings(settings, directory)
    return where
