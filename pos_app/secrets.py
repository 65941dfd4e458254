"""The kiosk's pairing (service URL + bearer token): keyring first, a 0600 file as the fallback.

On a machine without a usable keyring backend (headless, CI) the pairing goes
to `kiosk-credentials-PLAINTEXT.json` (mode 0600) in the kiosk dir, and the
log says so, loudly, once per start.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path

import keyring
import keyring.errors

from tablepay_files import write_private

log = logging.getLogger(__name__)

SERVICE = "tablepay-kiosk"
FALLBACK_FILE = "kiosk-credentials-PLAINTEXT.json"


@dataclass(frozen=True)
class Pairing:
    service_url: str
    token: str

    def __repr__(self) -> str:  # never print the token
        return f"Pairing(service_url={self.service_url!r}, token='***')"


def _keyring_set(pairing: Pairing) -> bool:
    try:
        keyring.set_password(SERVICE, "service_url", pairing.service_url)
        keyring.set_password(SERVICE, "token", pairing.token)
        # The null backend accepts a set and forgets it: read back to be sure.
        return keyring.get_password(SERVICE, "token") == pairing.token
    except keyring.errors.KeyringError:
        return False


def _keyring_get() -> Pairing | None:
    try:
        url, token = keyring.get_password(SERVICE, "service_url"), keyring.get_password(SERVICE, "token")
    except keyring.errors.KeyringError:
        return None
    return Pairing(url, token) if url and token else None


def store_pairing(pairing: Pairing, directory: Path) -> str:
    """Save the pairing; returns where it went ("keyring (<backend>)" or the fallback file's path)."""
    if _keyring_set(pairing):
        return f"keyring ({type(keyring.get_keyring()).__name__})"
    path = write_private(
        directory / FALLBACK_FILE, json.dumps({"service_url": pairing.service_url, "token": pairing.token})
    )
    log.warning("no usable keyring backend: the kiosk pairing is stored in plain text in %s (mode 0600)", path)
    return str(path)


def load_pairing(directory: Path) -> Pairing | None:
    pairing = _keyring_get()
    if pairing is not None:
        return pairing
    path = directory / FALLBACK_FILE
    if not path.exists():
        return None
    log.warning("no kiosk pairing in the keyring: reading the plain-text fallback %s", path)
    data = json.loads(path.read_text(encoding="utf-8"))
    return Pairing(str(data["service_url"]), str(data["token"]))
