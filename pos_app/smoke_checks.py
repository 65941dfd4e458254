"""What `--smoke-test` checks besides the order screen: that every part the bundle (build.spec) cut down
still holds what the kiosk uses.

Each check returns plain JSON values for the smoke report; tests/packaging/test_bundle.py compares the
frozen bundle's report with the same checks run from a checkout.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
from pathlib import Path

from tablepay_domain.money import MINOR_UNITS, Money

from .money_format import format_money
from .settings import LOCALES

SAMPLE_AMOUNT = 1_234_567  # minor units: a thousands separator and every decimal show
SAMPLE_CURRENCIES = ("EUR", "GBP", "USD", "CHF", "JPY", "HUF", "KWD")  # shown in clear in the report
# Qt's platform plugins the kiosk runs on: a real X display, headless (tests, this smoke test), Wayland.
PLATFORMS = ("xcb", "offscreen", "wayland")
# Packages build.spec leaves out (the sync service's, the sandbox's, the test tools'): none may import.
NOT_IN_BUNDLE = (
    "pytest",
    "_pytest",
    "hypothesis",
    "pytestqt",
    "playwright",
    "sync_service",
    "tablepay_sandbox",
    "stripe",
    "fastapi",
    "starlette",
    "uvicorn",
    "pydantic_settings",
    "mypy",
    "rich",
    "pygments",
    "PIL",
)


def money_in_every_locale() -> dict[str, object]:
    """Every currency of MINOR_UNITS formatted in every offered locale, as the kiosk shows amounts.

    The bundle carries Babel's data for the offered locales (and their parents) only. A cut too deep
    raises here (a missing parent file, an unknown locale); a currency name or symbol lost on the way
    changes the digest, which the bundle test compares with the same call from a checkout.
    """
    shown = {
        locale: {code: format_money(Money(SAMPLE_AMOUNT, code), locale) for code in sorted(MINOR_UNITS)}
        for locale in LOCALES
    }
    digest = hashlib.sha256(json.dumps(shown, sort_keys=True, ensure_ascii=False).encode()).hexdigest()
    return {
        "locales": list(LOCALES),
        "currencies": len(MINOR_UNITS),
        "digest": digest,
        "samples": {locale: [shown[locale][code] for code in SAMPLE_CURRENCIES] for locale in LOCALES},
    }


def qt_plugins() -> dict[str, object]:
    """The Qt plugins present, by kind, and whether each platform plugin of PLATFORMS loads.

    Loading a plugin's library resolves everything it links to without opening a display, so a
    missing xcb or Wayland library shows here even when the test runs offscreen.
    """
    from PySide6.QtCore import QCoreApplication, QPluginLoader

    present: dict[str, list[str]] = {}
    files: dict[str, Path] = {}
    app_dir = Path(QCoreApplication.applicationDirPath())
    for folder in QCoreApplication.libraryPaths():
        if Path(folder) == app_dir:  # Qt also looks beside the executable: no plugins there
            continue
        for path in sorted(Path(folder).glob("*/*.so")):
            name = path.stem.removeprefix("lib")
            present.setdefault(path.parent.name, []).append(name)
            files.setdefault(f"{path.parent.name}/{name}", path)
    loads: dict[str, object] = {}
    for platform in PLATFORMS:
        plugin = files.get(f"platforms/q{platform}")
        if plugin is None:
            loads[platform] = "missing"
            continue
        loader = QPluginLoader(str(plugin))  # never unloaded: the plugin may be the one in use
        loads[platform] = True if loader.load() else loader.errorString()
    return {
        "qt_plugins": {kind: sorted(names) for kind, names in sorted(present.items())},
        "qt_platform_plugins_load": loads,
    }


def keyring_desktop_backend() -> object:
    """True when keyring's SecretService backend (a desktop's keyring) could work: secretstorage, jeepney
    and cryptography import. On a headless box the chosen backend is the fail one, which proves less."""
    try:
        import secretstorage  # noqa: F401 - imported to prove it is there
    except Exception as exc:  # noqa: BLE001 - the report says what is missing
        return f"{type(exc).__name__}: {exc}"
    return True


def excluded_but_importable() -> list[str]:
    """The NOT_IN_BUNDLE packages this process can import: [] in the bundle."""
    return [name for name in NOT_IN_BUNDLE if importlib.util.find_spec(name) is not None]


def qr_code(url: str = "https://pay.example/c/smoke-test") -> dict[str, object]:
    """The checkout's QR widget (segno's matrix, painted by Qt) with a checkout-sized URL."""
    from .views.widgets import QrCode

    widget = QrCode()
    widget.set_data(url)
    widget.resize(300, 300)
    image = widget.grab().toImage()
    dark = sum(1 for y in range(0, 300, 3) for x in range(0, 300, 3) if image.pixelColor(x, y).lightness() < 64)
    return {"modules": len(widget._matrix), "dark_share": round(dark / 10_000, 2)}


def report() -> dict[str, object]:
    """Every check above, for the smoke report (needs a QApplication)."""
    return {
        "money": money_in_every_locale(),
        **qt_plugins(),
        "keyring_secretstorage": keyring_desktop_backend(),
        "excluded_but_importable": excluded_but_importable(),
        "qr": qr_code(),
    }
