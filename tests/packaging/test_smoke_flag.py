"""`tablepay kiosk --smoke-test` from the source tree: what the bundle runs, minus the freezing."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.support.live_server import refused_url

ROOT = Path(__file__).resolve().parents[2]


def smoke(data: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring"}
    return subprocess.run(
        [sys.executable, "-m", "tablepay", "kiosk", "--data-dir", str(data), *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )


def test_smoke_test_shows_the_order_screen_offline_and_exits_0(tmp_path):
    with refused_url() as nobody:  # the kiosk starts offline
        (tmp_path / "kiosk-credentials-PLAINTEXT.json").write_text(json.dumps({"service_url": nobody, "token": "t"}))
        proc = smoke(tmp_path, "--smoke-test", str(tmp_path / "shot.png"))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    assert report["ok"] and report["order_screen"] and report["lines"] == 1
    assert report["connection"] == "offline" and report["qt_platform"] == "offscreen"
    assert report["screenshot_colours"] >= 8 and (tmp_path / "shot.png").stat().st_size > 10_000


def test_smoke_test_without_a_pairing_shows_the_pairing_screen_and_exits_0(tmp_path):
    proc = smoke(tmp_path, "--smoke-test", str(tmp_path / "shot.png"))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    assert report["ok"] and report["pairing_screen"] and not report["order_screen"]
    assert report["pairing_state"] == "address" and report["service_url"] is None  # asks where the service is
    assert report["screenshot_colours"] >= 8 and (tmp_path / "shot.png").stat().st_size > 10_000
