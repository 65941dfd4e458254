"""Can Qt open a window here? Asked in a child process, because Qt aborts the process that fails.

On a desktop with a missing system library, Qt's xcb plugin fails with a misleading message
("xcb-cursor0 ... is needed" while another library is the one missing) and calls abort(): nothing
in-process can catch it. The demo asks a throwaway child first and, when it cannot, says why in one
line and lets the terminal play the kiosk instead of dying.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

PROBE = "from PySide6.QtWidgets import QApplication; QApplication([]); print('qt-ok')"
PROBE_SECONDS = 20


def _missing_xcb_libraries() -> list[str]:
    """System libraries Qt's xcb plugin links to that this machine lacks (read off ldd)."""
    try:
        import PySide6

        plugin = Path(PySide6.__file__).parent / "Qt" / "plugins" / "platforms" / "libqxcb.so"
        out = subprocess.run(["ldd", str(plugin)], capture_output=True, text=True, timeout=10).stdout
    except (ImportError, OSError, subprocess.SubprocessError):
        return []
    return sorted(
        {
            line.split()[0]
            for line in out.splitlines()
            if "not found" in line and not line.split()[0].startswith("libQt6")
        }
    )


def why_qt_cannot_start() -> str | None:
    """None when a QApplication starts here; else one line saying why (and what to do)."""
    try:
        probe = subprocess.run(
            [sys.executable, "-c", PROBE],
            capture_output=True,
            text=True,
            timeout=PROBE_SECONDS,
            env=os.environ.copy(),
            stdin=subprocess.DEVNULL,
        )
    except subprocess.TimeoutExpired:
        return f"Qt did not start within {PROBE_SECONDS} s"
    if probe.returncode == 0 and "qt-ok" in probe.stdout:
        return None
    platform = os.environ.get("QT_QPA_PLATFORM", "xcb" if os.environ.get("DISPLAY") else "")
    missing = _missing_xcb_libraries() if platform in ("", "xcb") else []
    if missing:
        return (
            f"Qt's xcb plugin needs {', '.join(missing)}, which this machine lacks "
            "(run `bash scripts/setup` as root to install them)"
        )
    said = [line.strip() for line in probe.stderr.splitlines() if line.strip()]
    lines = [line for line in said if "display" in line.lower() or "plugin" in line.lower()] or said
    return lines[0] if lines else f"Qt exited with status {probe.returncode}"
