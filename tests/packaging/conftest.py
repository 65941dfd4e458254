"""Fixtures shared by the packaging tests: a real X display for the kiosk's xcb platform plugin."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator

import pytest


@pytest.fixture
def x_display() -> Iterator[str]:
    """An Xvfb display (":N"), stopped afterwards; skipped where Xvfb is not installed."""
    if not shutil.which("Xvfb"):
        pytest.skip("no Xvfb (scripts/setup --browser installs it as root)")
    # -displayfd: Xvfb takes the first free display itself and writes its number once it listens,
    # so no number is guessed and nothing is polled.
    read_end, write_end = os.pipe()
    server = subprocess.Popen(
        ["Xvfb", "-displayfd", str(write_end), "-screen", "0", "1280x800x24", "-nolisten", "tcp"],
        pass_fds=[write_end],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    os.close(write_end)
    with os.fdopen(read_end) as numbers:
        number = numbers.readline().strip()  # empty: Xvfb ended without a display
    assert number and server.poll() is None, "Xvfb did not start"
    display = f":{number}"
    try:
        yield display
    finally:
        server.terminate()
        server.wait(timeout=10)
