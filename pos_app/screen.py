"""Keep the screen on in kiosk mode, as far as the platform lets an application do it.

Qt has no portable "keep awake" API, so this asks the platform directly:
- Linux desktop sessions (GNOME, KDE, XFCE...): `org.freedesktop.ScreenSaver.Inhibit` over the D-Bus
  session bus (QtDBus); the inhibition lasts while the kiosk runs.
- Windows: `SetThreadExecutionState(ES_CONTINUOUS | ES_DISPLAY_REQUIRED | ES_SYSTEM_REQUIRED)`.
- Anything else (a bare X server, a Wayland kiosk compositor, macOS): nothing an app can call
  reliably, so this says so in the log; configure the OS (docs/kiosk.md: `xset s off -dpms`, ...).
"""

from __future__ import annotations

import logging
import sys
from dataclasses import dataclass

log = logging.getLogger(__name__)


@dataclass
class KeepAwake:
    active: bool
    how: str
    cookie: int | None = None

    def release(self) -> None:
        if not self.active:
            return
        if self.how == "dbus" and self.cookie is not None:
            from PySide6.QtDBus import QDBusConnection, QDBusInterface

            QDBusInterface(
                "org.freedesktop.ScreenSaver",
                "/org/freedesktop/ScreenSaver",
                "org.freedesktop.ScreenSaver",
                QDBusConnection.sessionBus(),
            ).call("UnInhibit", self.cookie)
        elif self.how == "windows":
            import ctypes

            ctypes.windll.kernel32.SetThreadExecutionState(0x80000000)  # type: ignore[attr-defined]  # Windows only
        self.active = False


def keep_screen_on(reason: str = "TablePay kiosk mode") -> KeepAwake:
    if sys.platform == "win32":
        import ctypes

        flags = 0x80000000 | 0x00000002 | 0x00000001  # ES_CONTINUOUS | ES_DISPLAY_REQUIRED | ES_SYSTEM_REQUIRED
        ok = bool(ctypes.windll.kernel32.SetThreadExecutionState(flags))  # type: ignore[attr-defined]  # Windows only
        return _report(KeepAwake(ok, "windows"))
    try:
        from PySide6.QtDBus import QDBusConnection, QDBusInterface, QDBusMessage
    except ImportError:
        return _report(KeepAwake(False, "no QtDBus"))
    bus = QDBusConnection.sessionBus()
    if not bus.isConnected():
        return _report(KeepAwake(False, "no D-Bus session bus"))
    screensaver = QDBusInterface(
        "org.freedesktop.ScreenSaver", "/org/freedesktop/ScreenSaver", "org.freedesktop.ScreenSaver", bus
    )
    if not screensaver.isValid():
        return _report(KeepAwake(False, "no org.freedesktop.ScreenSaver on the session bus"))
    reply = screensaver.call("Inhibit", "tablepay-kiosk", reason)
    if reply.type() != QDBusMessage.MessageType.ReplyMessage or not reply.arguments():
        return _report(KeepAwake(False, f"ScreenSaver.Inhibit failed: {reply.errorMessage()}"))
    return _report(KeepAwake(True, "dbus", int(reply.arguments()[0])))


def _report(result: KeepAwake) -> KeepAwake:
    if result.active:
        log.info("screen kept on while the kiosk runs (%s)", result.how)
    else:
        log.warning(
            "cannot keep the screen on from the app (%s): turn screen blanking off in the OS "
            "(see docs/kiosk.md, e.g. `xset s off -dpms`)",
            result.how,
        )
    return result
