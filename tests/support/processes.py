"""The `tablepay` command as real processes: started, waited for, stopped like a person would."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]


def stop(proc: subprocess.Popen[str]) -> None:
    """Ctrl+C, as a person would; kill only if that does not end it."""
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    if proc.stdout:
        proc.stdout.close()


def tablepay(args: list[str], env: dict[str, str], *, umask: int = -1) -> subprocess.CompletedProcess[str]:
    """Run one `tablepay ...` command to its end (umask -1: the caller's)."""
    return subprocess.run([sys.executable, "-m", "tablepay", *args], env=env, cwd=ROOT, text=True,
                          capture_output=True, timeout=60, umask=umask)


@contextmanager
def process(args: list[str], env: dict[str, str], health_url: str, *,
            umask: int = -1) -> Iterator[subprocess.Popen[str]]:
    """A `tablepay ...` server, yielded once `health_url` answers 200; stopped with Ctrl+C at the end."""
    proc = subprocess.Popen([sys.executable, "-m", "tablepay", *args], env=env, cwd=ROOT, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, umask=umask)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(health_url, timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert proc.poll() is None, proc.stdout.read() if proc.stdout else ""
            assert time.monotonic() < deadline, f"{args} did not become healthy"
            time.sleep(0.1)
        yield proc
    finally:
        stop(proc)
