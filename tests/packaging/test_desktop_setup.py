"""A bare Debian/Ubuntu desktop: scripts/setup waits out a held apt lock and installs what Qt's xcb
plugin links to, and the kiosk then starts in a real X window (Xvfb), not only offscreen (issue 12)."""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO

import pytest

from tests.support.live_server import refused_url
from tests.support.processes import read_until

ROOT = Path(__file__).resolve().parents[2]
DPKG_LOCK = Path("/var/lib/dpkg/lock-frontend")
needs_apt_as_root = pytest.mark.skipif(
    os.geteuid() != 0 or not shutil.which("apt-get") or not DPKG_LOCK.parent.is_dir(),
    reason="takes the real dpkg lock: runs as root on Debian/Ubuntu (CI)",
)


def apt_get(*args: str, wait: int = 60) -> subprocess.Popen[str]:
    env = {**os.environ, "TABLEPAY_APT_LOCK_POLL": "1", "TABLEPAY_APT_LOCK_WAIT": str(wait)}
    return subprocess.Popen(
        ["bash", "-c", '. scripts/apt.sh; apt_get "$@"', "apt_get", *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.fixture
def dpkg_held() -> Iterator[TextIO]:
    """Another program (an automatic update) holding dpkg's lock, as apt itself takes it (fcntl)."""
    with DPKG_LOCK.open("a") as lock:
        fcntl.lockf(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        yield lock


@needs_apt_as_root
def test_setup_waits_for_a_held_dpkg_lock_and_says_so(dpkg_held: TextIO) -> None:
    installing = apt_get("install", "-y", "-q", "--no-install-recommends", "hostname")
    # The other program takes its time: setup says it waits, and is still waiting, not failed.
    said = read_until(installing, "apt/dpkg is busy", stream=installing.stderr)
    assert installing.poll() is None
    fcntl.lockf(dpkg_held, fcntl.LOCK_UN)
    _, rest = installing.communicate(timeout=120)
    errors = "".join(said) + rest
    assert installing.returncode == 0, errors
    assert "apt/dpkg is busy" in errors and "waiting" in errors


@needs_apt_as_root
def test_a_lock_held_past_the_bound_ends_the_wait_with_a_message(dpkg_held: TextIO) -> None:
    installing = apt_get("install", "-y", "-q", "hostname", wait=2)
    _, errors = installing.communicate(timeout=60)
    assert installing.returncode != 0
    assert "still locked by another program" in errors


def _xcb_libraries_missing() -> list[str]:
    import PySide6

    qt = Path(PySide6.__file__).parent / "Qt"
    missing = set()
    for plugin in [qt / "plugins/platforms/libqxcb.so", *sorted((qt / "plugins/xcbglintegrations").glob("*.so"))]:
        out = subprocess.run(["ldd", str(plugin)], capture_output=True, text=True, check=True).stdout
        missing |= {line.split()[0] for line in out.splitlines() if "not found" in line}
    return sorted(lib for lib in missing if not lib.startswith("libQt6"))


@pytest.mark.skipif(
    os.geteuid() != 0 and os.environ.get("CI") != "true",
    reason="scripts/setup installs system libraries only as root (CI)",
)
def test_setup_left_no_system_library_of_the_xcb_plugin_missing() -> None:
    assert _xcb_libraries_missing() == []


def test_the_kiosk_opens_its_window_on_an_x_display(tmp_path: Path, x_display: str) -> None:
    env = {
        **os.environ,
        "DISPLAY": x_display,
        "QT_QPA_PLATFORM": "xcb",
        "PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring",
    }
    with refused_url() as nobody:  # the kiosk starts offline
        (tmp_path / "kiosk-credentials-PLAINTEXT.json").write_text(json.dumps({"service_url": nobody, "token": "t"}))
        proc = subprocess.run(
            [
                sys.executable,
                "-m",
                "tablepay",
                "kiosk",
                "--data-dir",
                str(tmp_path),
                "--smoke-test",
                str(tmp_path / "shot.png"),
            ],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=90,
            stdin=subprocess.DEVNULL,
        )
    assert proc.returncode == 0, proc.stderr[-2000:]
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    assert report["ok"] and report["qt_platform"] == "xcb" and report["order_screen"]
