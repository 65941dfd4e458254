"""The settings PIN, stored only as a salted scrypt hash ("scrypt$n$r$p$salt$hash", base64 parts).

Never the PIN itself: `tablepay kiosk set-settings-pin` writes the hash to the settings file,
and the kiosk's PIN pad checks a typed PIN against it in constant time.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os

N, R, P = 2**14, 8, 1  # about 50 ms per check on the kiosk's 2 cores; 16 MiB of memory
MIN_DIGITS, MAX_DIGITS = 4, 8


def valid_pin(pin: str) -> bool:
    """Digits only (the pad has no letters), 4 to 8 of them."""
    return pin.isascii() and pin.isdigit() and MIN_DIGITS <= len(pin) <= MAX_DIGITS


def _derive(pin: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(pin.encode(), salt=salt, n=n, r=r, p=p, maxmem=64 * 1024 * 1024, dklen=32)


def hash_pin(pin: str) -> str:
    if not valid_pin(pin):
        raise ValueError(f"the settings PIN must be {MIN_DIGITS} to {MAX_DIGITS} digits")
    salt = os.urandom(16)
    digest = _derive(pin, salt, N, R, P)
    encode = lambda raw: base64.b64encode(raw).decode("ascii")
    return f"scrypt${N}${R}${P}${encode(salt)}${encode(digest)}"


def verify_pin(pin: str, stored: str) -> bool:
    """True when `pin` matches `stored` (from hash_pin); False for anything malformed."""
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = base64.b64decode(digest)
        actual = _derive(pin, base64.b64decode(salt), int(n), int(r), int(p))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(actual, expected)
