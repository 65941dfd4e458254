"""Smoke-test a built kiosk bundle, as a restaurant's machine would start it, and measure it.

Each run starts the frozen binary with `--smoke-test` in a clean environment (no PYTHONPATH, a fresh
HOME and data dir, offscreen Qt, no keyring service) paired with a sync service that is not there, so
the kiosk comes up "Offline". The first run after a build is reported as the cold start; then the
median of the warm runs. Exit 0 only when every run reached the order screen and exited 0.
The first run's JSON report is kept beside the screenshot (dist/tablepay-kiosk-smoke.json) for
tests/packaging/test_bundle.py. The size is the sum of the sizes of the bundle's files (symlinks
not followed), in MB of 10^6 bytes and in MiB (what `du -sh` calls M), plus the largest parts.
Usage: python scripts/bundle_smoke.py dist/tablepay-kiosk [--runs 3] [--platform xcb]  (xcb: on $DISPLAY)
"""

from __future__ import annotations

import argparse
import json
import os
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


def run_once(binary: Path, screenshot: Path, platform: str = "offscreen") -> tuple[float, dict[str, object]]:
    with tempfile.TemporaryDirectory(prefix="tablepay-smoke-") as tmp:
        home, data = Path(tmp) / "home", Path(tmp) / "kiosk"
        home.mkdir()
        data.mkdir()
        # The kiosk's own fallback for a box without a keyring: the pairing file, mode 0600.
        fd = os.open(data / "kiosk-credentials-PLAINTEXT.json", os.O_WRONLY | os.O_CREAT, 0o600)
        with os.fdopen(fd, "w") as out:
            json.dump({"service_url": f"http://127.0.0.1:{unused_port()}", "token": "smoke-test"}, out)
        env = {
            "PATH": "/usr/bin:/bin",
            "HOME": str(home),
            "LANG": "C.UTF-8",
            "QT_QPA_PLATFORM": platform,
            "XDG_RUNTIME_DIR": str(home),
        }
        if platform == "xcb":
            env["DISPLAY"] = os.environ["DISPLAY"]
        began = time.monotonic()
        proc = subprocess.run(
            [str(binary), "--data-dir", str(data), "--smoke-test", str(screenshot)],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        elapsed = time.monotonic() - began
    lines = [line for line in proc.stdout.splitlines() if line.startswith("{")]
    report = json.loads(lines[-1]) if lines else {}
    if proc.returncode != 0 or not report.get("ok") or not report.get("order_screen"):
        sys.stderr.write(proc.stdout + proc.stderr)
        raise SystemExit(f"bundle smoke test FAILED (exit {proc.returncode}): {report.get('error', 'no report')}")
    return elapsed, report


def files_of(folder: Path) -> list[Path]:
    return [path for path in folder.rglob("*") if path.is_file() and not path.is_symlink()]


def size_of(folder: Path) -> tuple[int, int]:
    """(bytes, files): the sum of the sizes of the regular files under `folder`, symlinks not followed."""
    files = files_of(folder)
    return sum(path.stat().st_size for path in files), len(files)


def largest_parts(folder: Path, count: int = 12) -> list[tuple[str, int]]:
    """The biggest entries of _internal (PySide6 split into Qt's libraries, plugins and the bindings)."""
    internal = folder / "_internal"
    parts: dict[str, int] = {}
    for path in files_of(internal):
        rel = path.relative_to(internal).parts
        key = "/".join(rel[:4] if rel[:3] in (("PySide6", "Qt", "lib"), ("PySide6", "Qt", "plugins")) else rel[:1])
        parts[key] = parts.get(key, 0) + path.stat().st_size
    return sorted(parts.items(), key=lambda item: -item[1])[:count]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("bundle", type=Path)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument(
        "--platform",
        choices=("offscreen", "xcb"),
        default="offscreen",
        help="xcb: a real X display, $DISPLAY (e.g. Xvfb)",
    )
    args = parser.parse_args()
    if args.platform == "xcb" and not os.environ.get("DISPLAY"):
        raise SystemExit("--platform xcb needs DISPLAY (e.g. Xvfb :99 & DISPLAY=:99 ...)")
    binary = args.bundle / args.bundle.name
    if not binary.exists():
        raise SystemExit(f"no binary at {binary}: build it first (bash scripts/build)")
    suffix = "" if args.platform == "offscreen" else f"-{args.platform}"
    screenshot = args.bundle.parent / f"{args.bundle.name}-smoke{suffix}.png"
    timings, reports = [], []
    for _ in range(max(1, args.runs)):
        elapsed, report = run_once(binary, screenshot, args.platform)
        timings.append(elapsed)
        reports.append(report)
    first = reports[0]
    screenshot.with_suffix(".json").write_text(json.dumps(first, indent=1, ensure_ascii=False) + "\n")
    size, files = size_of(args.bundle)
    warm = f", warm median {statistics.median(timings[1:]):.2f} s over {len(timings) - 1}" if len(timings) > 1 else ""
    print(
        f"bundle smoke test passed: order screen shown on {first['qt_platform']}, feed {first['connection']}, "
        f"keyring {first['keyring_backend']}, screenshot {screenshot}, report {screenshot.with_suffix('.json')}"
    )
    print(
        f"bundle size: {size / 1e6:.1f} MB ({size / 2**20:.1f} MiB, {size} bytes; sum of file sizes, {files} files) "
        f"in {args.bundle}"
    )
    print("bundle largest parts: " + ", ".join(f"{name} {part / 1e6:.1f}" for name, part in largest_parts(args.bundle)))
    print(
        f"cold start: {timings[0]:.2f} s from exec to clean exit (order screen after "
        f"{first['order_screen_after_seconds']} s){warm}"
    )


if __name__ == "__main__":
    main()
