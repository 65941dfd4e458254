"""The `tablepay` command as real processes: started, waited for, stopped like a person would."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

import httpx

from .waiting import eventually

ROOT = Path(__file__).resolve().parents[2]


def unused_port() -> int:
    """A port that was free a moment ago: the one documented guess left in the tests.

    For commands that must be told their port before they start and build URLs from it:
    `tablepay sandbox --port` (its hosted pages' address), `tablepay demo --sandbox-port/--sync-port`
    (each server is told the other's address), and a `tablepay sync` the sandbox sends webhooks to.
    The port is bound, closed and handed on, so another process could take it meanwhile; the
    command then refuses to start ("port ... is in use", it checks), a loud failure, never a wrong
    server. Servers in the test process bind their own socket instead (LiveServer), and a
    `tablepay sync` nobody must know in advance is given port 0 (`listening_port` reads it back).
    """
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def listening_port(pid: int) -> int | None:
    """The TCP port process `pid` listens on, from /proc (its socket inodes, then the kernel's LISTEN
    rows), or None while it listens on none. So a server given `--port 0` needs to print nothing."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:  # closed meanwhile
            continue
        if target.startswith("socket:["):
            inodes.add(target[len("socket:[") : -1])
    for line in Path(f"/proc/{pid}/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if fields[3] == "0A" and fields[9] in inodes:  # 0A: TCP_LISTEN
            return int(fields[1].rsplit(":", 1)[1], 16)
    return None


def read_until(
    proc: subprocess.Popen[str], marker: str, timeout: float = 60, *, stream: IO[str] | None = None
) -> list[str]:
    """`proc`'s output lines (`stream`: another of its pipes) up to and including the first with `marker`."""
    pipe = stream or proc.stdout
    assert pipe is not None
    seen: list[str] = []

    def found() -> bool:
        line = pipe.readline()  # blocks until a line (or the end) comes
        seen.append(line)
        if not line and proc.poll() is not None:  # not worth waiting for: say so at once
            raise RuntimeError(f"exited ({proc.returncode}) before {marker!r}: {''.join(seen)}")
        return marker in line

    eventually(found, timeout=timeout, interval=0, message=lambda: f"{marker!r} in {''.join(seen)!r}")
    return seen


def healthy(url: str) -> bool:
    """Whether `url` answers 200 now (False while nothing listens there)."""
    try:
        return httpx.get(url, timeout=1).status_code == 200
    except httpx.TransportError:
        return False


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
    return subprocess.run(
        [sys.executable, "-m", "tablepay", *args],
        env=env,
        cwd=ROOT,
        text=True,
        capture_output=True,
        timeout=60,
        umask=umask,
    )


@contextmanager
def process(
    args: list[str], env: dict[str, str], health_url: str, *, umask: int = -1
) -> Iterator[subprocess.Popen[str]]:
    """A `tablepay ...` server, yielded once `health_url` answers 200; stopped with Ctrl+C at the end."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "tablepay", *args],
        env=env,
        cwd=ROOT,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        umask=umask,
    )
    try:

        def up() -> bool:
            assert proc.poll() is None, proc.stdout.read() if proc.stdout else ""
            return healthy(health_url)

        eventually(up, timeout=30, interval=0.1, message=f"{args} healthy")
        yield proc
    finally:
        stop(proc)
