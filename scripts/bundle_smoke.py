"""Smoke-test a built kiosk bundle, as a restaurant's machine would start it, and measure it.

Each run starts the frozen binary with `--smoke-test` in a clean environment (no PYTHONPATH, a fresh
HOME and data dir, offscreen Qt, no keyring service) paired with a sync service that is not there, so
the kiosk comes up "Offline". The first run after a build is reported as the cold start; then the
median of the warm runs. Exit 0 only when every run reached the order screen and exited 0.
Usage: python scripts/bundle_smoke.py dist/tablepay-kiosk [--runs 3]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def unused_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def run_once(binary: Path, screenshot: Path) -> tuple[float, dict[str, object]]:
    with tempfile.TemporaryDirectory(prefix="tablepay-smoke-") as tmp:
        home, data = Path(tmp) / "home", Path(tmp) / "kiosk"
        home.mkdir()
        data.mkdir()
        # The kiosk's own fallback for a box without a keyring: the pairing file, mode 0600.
        fd = os.open(data / "kiosk-credentials-PLAINTEXT.json", os.O_WRONLY | os.O_CREAT, 0o600)
        with os.fdopen(fd, "w") as out:
            json.dump({"service_url": f"http://127.0.0.1:{unused_port()}", "token": "smoke-test"}, out)
        env = {"PATH": "/usr/bin:/bin", "HOME": str(home), "LANG": "C.UTF-8", "QT_QPA_PLATFORM": "offscreen",
               "XDG_RUNTIME_DIR": str(home)}
        began = time.monotonic()
        proc = subprocess.run([str(binary), "--data-dir", str(data), "--smoke-test", str(screenshot)], env=env,
                              capture_output=True, text=True, timeout=120)
        elapsed = time.monotonic() - began
    lines = [line for line in proc.stdout.splitlines() if line.startswith("{")]
    report = json.loads(lines[-1]) if lines else {}
    if proc.returncode != 0 or not report.get("ok") or not report.get("order_screen"):
        sys.stderr.write(proc.stdout + proc.stderr)
        raise SystemExit(f"bundle smoke test FAILED (exit {proc.returncode}): {report.get('error', 'no report')}")
    return elapsed, report


def size_of(folder: Path) -> tuple[str, int]:
    files = sum(1 for path in folder.rglob("*") if path.is_file())
    du = shutil.which("du")
    if du:
        return subprocess.run([du, "-sh", str(folder)], capture_output=True, text=True).stdout.split()[0], files
    total = sum(path.stat().st_size for path in folder.rglob("*") if path.is_file())
    return f"{total / 2**20:.0f}M", files


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("bundle", type=Path)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    binary = args.bundle / args.bundle.name
    if not binary.exists():
        raise SystemExit(f"no binary at {binary}: build it first (bash scripts/build)")
    screenshot = args.bundle.parent / f"{args.bundle.name}-smoke.png"
    timings, reports = [], []
    for _ in range(max(1, args.runs)):
        elapsed, report = run_once(binary, screenshot)
        timings.append(elapsed)
        reports.append(report)
    first = reports[0]
    size, files = size_of(args.bundle)
    warm = f", warm median {statistics.median(timings[1:]):.2f} s over {len(timings) - 1}" if len(timings) > 1 else ""
    print(f"bundle smoke test passed: order screen shown offscreen, feed {first['connection']}, keyring "
          f"{first['keyring_backend']}, screenshot {screenshot}")
    print(f"bundle size: {size} ({files} files) in {args.bundle}")
    print(f"cold start: {timings[0]:.2f} s from exec to clean exit (order screen after "
          f"{first['order_screen_after_seconds']} s){warm}")


if __name__ == "__main__":
    main()
