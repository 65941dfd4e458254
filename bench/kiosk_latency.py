"""Kiosk latency: cold start to first interactive frame, and webhook arrival -> PAID row in the kiosk's SQLite.

    .venv/bin/python -m bench.kiosk_latency --payments 100

Cold start runs `python -c` in a fresh process (imports, QApplication, store, window, first paint).
The PAID latency uses a real sandbox + sync service (tests/support/harness): for each payment the
sandbox completes the session, the sync service stamps the webhook's arrival (its log is not needed:
we take the time just before the sandbox call, an upper bound), and the kiosk's feed worker applies
`payment.succeeded`; we poll the kiosk's SQLite for the paid row.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("PYTHON_KEYRING_BACKEND", "keyring.backends.null.Keyring")
ROOT = Path(__file__).resolve().parents[1]

COLD = r"""
import time, sys, os; t0 = time.perf_counter()
from pathlib import Path
from PySide6.QtWidgets import QApplication
from PySide6.QtCore import QTimer
app = QApplication(sys.argv)
from pos_app.app import build_kiosk
from pos_app.secrets import Pairing
from pos_app.settings import KioskSettings
k = build_kiosk(Path(sys.argv[1]), KioskSettings(), Pairing("http://127.0.0.1:9", "t"))
k.window.show(); k.window.grab()  # the first frame is painted
app.processEvents()
print(f"{(time.perf_counter() - t0) * 1000:.1f}")
"""


def cold_start(runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        with tempfile.TemporaryDirectory() as tmp:
            start = time.perf_counter()
            out = subprocess.run(
                [sys.executable, "-c", COLD, tmp],
                cwd=ROOT,
                capture_output=True,
                text=True,
                check=True,
                env={**os.environ, "PYTHONPATH": str(ROOT)},
            )
            wall = (time.perf_counter() - start) * 1000
            times.append(wall)
            _ = float(out.stdout.strip().splitlines()[-1])
    return times


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def paid_latency(payments: int) -> list[float]:
    import qasync  # noqa: F401

    from pos_app.app import build_kiosk
    from pos_app.secrets import Pairing
    from pos_app.settings import KioskSettings
    from tests.support.harness import make_order, running_harness

    latencies: list[float] = []
    with tempfile.TemporaryDirectory() as tmp, running_harness(Path(tmp)) as harness:
        kiosk = build_kiosk(
            Path(tmp) / "kiosk", KioskSettings(feed_wait_seconds=25), Pairing(harness.service.url, harness.token)
        )
        kiosk.start()
        db = sqlite3.connect(Path(tmp) / "kiosk" / "kiosk.sqlite")
        for n in range(payments):
            order = kiosk.store.create_order(f"bench-{n}", "1", "EUR")
            kiosk.store.add_line(order.order_id, "MARG", "Pizza", 950)
            body = make_order(
                order.order_id,
                lines=[{"sku": "MARG", "name": "Pizza", "quantity": 1, "unit_amount": 950}],
                tip_amount=0,
            )
            payment = (await asyncio.to_thread(harness.checkout, body)).json()
            kiosk.store.record_attempt(payment)
            # "webhook arrival": the sandbox sends it synchronously during /complete
            start = time.perf_counter()
            await asyncio.to_thread(harness.complete, payment, "succeeded")
            while db.execute("SELECT status FROM orders WHERE order_id = ?", [order.order_id]).fetchone()[0] != "paid":
                await asyncio.sleep(0.001)
            latencies.append((time.perf_counter() - start) * 1000)
        db.close()
        await kiosk.aclose()
    return latencies


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--payments", type=int, default=100)
    parser.add_argument("--cold-runs", type=int, default=5)
    args = parser.parse_args()
    from sync_service.logs import configure_logging

    configure_logging("WARNING")  # the service's per-webhook lines would bury the figures
    cold = cold_start(args.cold_runs)
    print(
        f"cold start to first frame (process wall, {len(cold)} runs): p50 {statistics.median(cold):.0f} ms, "
        f"max {max(cold):.0f} ms"
    )
    import qasync
    from PySide6.QtWidgets import QApplication

    _app = QApplication.instance() or QApplication(sys.argv)
    latencies = qasync.run(paid_latency(args.payments))
    print(
        f"sandbox complete -> webhook -> feed -> PAID row in kiosk SQLite ({len(latencies)} payments): "
        f"p50 {pct(latencies, 0.5):.1f} ms, p99 {pct(latencies, 0.99):.1f} ms, max {max(latencies):.1f} ms"
    )


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    main()
