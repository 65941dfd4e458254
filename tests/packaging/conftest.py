"""Fixtures shared by the packaging tests: a real X display for the kiosk's xcb platform plugin."""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.live_server import free_port


@pytest.fixture
def x_display() -> Iterator[str]:
    """An Xvfb display (":N"), stopped afterwards; skipped where Xvfb is not installed."""
    if not shutil.which("Xvfb"):
        pytest.skip("no Xvfb (scripts/setup --browser installs it as root)")
    display = f":{free_port() % 5000 + 100}"
    server = subprocess.Popen(["Xvfb", display, "-screen", "0", "1280x800x24", "-nolisten", "tcp"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    socket = Path(f"/tmp/.X11-unix/X{display[1:]}")
    deadline = time.monotonic() + 10
    while not socket.exists():
        assert server.poll() is None and time.monotonic() < deadline, "Xvfb did not start"
        time.sleep(0.05)
    try:
        yield display
    finally:
        server.terminate()
        server.wait(timeout=10)
