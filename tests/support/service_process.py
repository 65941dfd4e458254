"""The sync service as a real process (`python -m tablepay sync`), for what only a process shows:
its memory, its file-descriptor limit, its connection handling."""

from __future__ import annotations

import os
import resource
import signal
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from .live_server import refused_url
from .processes import healthy, listening_port
from .waiting import eventually

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class ServiceProcess:
    proc: subprocess.Popen[bytes]
    url: str
    port: int
    token: str
    log: Path

    def rss_bytes(self) -> int:
        """VmRSS of the server process, from /proc."""
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
        raise AssertionError("no VmRSS")

    def open_fds(self) -> int:
        return len(os.listdir(f"/proc/{self.proc.pid}/fd"))

    def connect(self) -> socket.socket:
        return socket.create_connection(("127.0.0.1", self.port), timeout=5)


def _limit_open_files(limit: int) -> Callable[[], None]:
    def apply() -> None:
        resource.setrlimit(resource.RLIMIT_NOFILE, (limit, limit))

    return apply


@contextmanager
def service_process(
    tmp_path: Path, *, open_files: int | None = None, kiosk_id: str = "kiosk-1", **env: str
) -> Iterator[ServiceProcess]:
    """A service with a paired kiosk token; Stripe points at a refused port (nothing here calls it).
    `open_files`: the process's soft and hard RLIMIT_NOFILE. The service binds port 0 (a free port
    the OS picks, nobody needs to know it in advance) and the test reads it back from /proc.
    `kiosk_id`: the kiosk paired (on a database another instance shares, pair another kiosk than
    its own: pairing again replaces a kiosk's token)."""
    with refused_url() as stripe_url:
        environ = {
            **os.environ,
            "TABLEPAY_DATA_DIR": str(tmp_path),
            "STRIPE_SECRET_KEY": "sk_test_limits",
            "STRIPE_WEBHOOK_SECRET": "whsec_limits",
            "STRIPE_API_BASE": stripe_url,
            "PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring",
            **env,
        }
        added = subprocess.run(
            [sys.executable, "-m", "tablepay", "sync", "add-kiosk", kiosk_id],
            env=environ,
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        token = added.stdout.strip().splitlines()[-1]
        log = tmp_path / "service.log"
        with log.open("wb") as out:
            proc = subprocess.Popen(
                [sys.executable, "-m", "tablepay", "sync", "--host", "127.0.0.1", "--port", "0"],
                env=environ,
                cwd=ROOT,
                stdout=out,
                stderr=subprocess.STDOUT,
                preexec_fn=_limit_open_files(open_files) if open_files else None,
            )
        try:

            def listening() -> int | None:
                assert proc.poll() is None, log.read_text()
                return listening_port(proc.pid)

            port = eventually(listening, timeout=30, interval=0.1, message="the service listening")
            url = f"http://127.0.0.1:{port}"
            eventually(
                lambda: listening() and healthy(f"{url}/healthz"),
                timeout=30,
                interval=0.1,
                message="the service healthy",
            )
            yield ServiceProcess(proc, url, port, token, log)
        finally:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
