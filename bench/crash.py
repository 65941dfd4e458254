"""Crash test: paid orders while the sync service is killed with SIGKILL at random moments.

    .venv/bin/python bench/crash.py                  # 1,000 orders (the long form)
    .venv/bin/python bench/crash.py --orders 60      # the short form CI runs (tests/stress)

The sandbox (Stripe + the R-Keeper simulator) and the sync service run as
real processes on 127.0.0.1. Workers send orders to the kitchen, open a
checkout for each (with an Idempotency-Key, retried until it answers) and pay
it on the sandbox, while a killer SIGKILLs the service every 0.5-2.5 s and
restarts it on the same port and data. Webhooks that hit a dead service are
retried by the sandbox; the reconciliation sweep covers the rest; the outbox
finishes the POS. At the end it checks, and prints: every order paid exactly
once in the service, one `payment.succeeded` per order in the feed, and in
the POS one order per TablePay order with its dishes once and one payment.
Exit 0 when all hold.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
SECRET = "whsec_crash_test_secret"
LINES = [
    {"sku": "MARG", "name": "Pizza margherita", "quantity": 2, "unit_amount": 950},
    {"sku": "TIRA", "name": "Tiramisu", "quantity": 1, "unit_amount": 690},
]


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Service:
    """The sync service as a process that can be killed and started again on the same port."""

    def __init__(self, port: int, env: dict[str, str], log: Path) -> None:
        self.port, self.env, self.log = port, env, log
        self.url = f"http://127.0.0.1:{port}"
        self.proc: subprocess.Popen[bytes] | None = None
        self.kills = 0

    def start(self) -> None:
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "tablepay", "sync", "--port", str(self.port)],
                env=self.env,
                cwd=ROOT,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        wait_healthy(f"{self.url}/healthz", self.proc)

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()
        self.kills += 1

    def stop(self) -> None:
        if self.proc:
            stop_process(self.proc)


def stop_process(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM, and SIGKILL if it has not gone in 15 s (a sandbox busy retrying webhooks may linger)."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


def wait_healthy(url: str, proc: subprocess.Popen[bytes], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        if proc.poll() is not None:
            raise RuntimeError(f"{proc.args} exited with {proc.returncode}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"{url} did not answer")
        time.sleep(0.05)


def retrying(call: Any, *, timeout: float = 120) -> httpx.Response:
    """Call until the service answers (it may be dead or restarting); bounded, with backoff."""
    deadline, delay = time.monotonic() + timeout, 0.05
    while True:
        try:
            response = call()
            if response.status_code < 500:
                return response
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError("the service did not come back")
        time.sleep(delay)
        delay = min(delay * 2, 1.0)


def pay_order(n: int, service_url: str, sandbox_url: str, token: str, *, kiosk_id: str = "kiosk-1") -> str:
    """Order `n` sent to the kitchen (every other one), checked out and paid at the sandbox; returns its id."""
    order = {
        "order_id": f"crash-{n:05d}",
        "kiosk_id": kiosk_id,
        "currency": "EUR",
        "table": str(1 + n % 12),
        "waiter": "Ana",
        "lines": LINES,
        "tip_amount": 200,
        "donation_amount": 0,
    }
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(timeout=10, headers=headers) as client:
        if n % 2:  # half of them go to the kitchen before checkout, the rest with it
            retrying(lambda: client.post(f"{service_url}/v1/orders", json=order))
        response = retrying(
            lambda: client.post(
                f"{service_url}/v1/checkouts", json=order, headers={"Idempotency-Key": order["order_id"]}
            )
        )
        assert response.status_code == 201, response.text
        session = response.json()["checkout_url"].rstrip("/").rsplit("/", 1)[-1]
        done = httpx.post(
            f"{sandbox_url}/_sandbox/checkout/sessions/{session}/complete", json={"outcome": "succeeded"}, timeout=30
        )
        assert done.status_code == 200, done.text
    return str(order["order_id"])


def settle(service: Service, sandbox_url: str, data_dir: Path, orders: int, timeout: float) -> dict[str, Any]:
    """Wait until every order is paid in the service and in the POS, then count."""
    deadline = time.monotonic() + timeout
    while True:
        counts = count(service, sandbox_url, data_dir)
        if (counts["paid_in_service"] == orders and counts["paid_in_pos"] == orders) or time.monotonic() > deadline:
            return counts
        time.sleep(0.5)


def count(service: Service, sandbox_url: str, data_dir: Path) -> dict[str, Any]:
    with sqlite3.connect(f"file:{data_dir / 'sync.sqlite'}?mode=ro", uri=True) as conn:
        paid = conn.execute(
            "SELECT order_id, count(*) FROM payments WHERE status = 'paid' GROUP BY order_id"
        ).fetchall()
        succeeded = conn.execute(
            "SELECT order_id, count(*) FROM feed WHERE event = 'payment.succeeded' GROUP BY order_id"
        ).fetchall()
        dead = conn.execute("SELECT count(*) FROM outbox WHERE state = 'dead'").fetchone()[0]
    return {
        "paid_in_service": len(paid),
        "paid_twice_in_service": sum(1 for _, c in paid if c > 1),
        "succeeded_in_feed": len(succeeded),
        "succeeded_twice_in_feed": sum(1 for _, c in succeeded if c > 1),
        **pos_counts(sandbox_url),
        "dead_letters": dead,
    }


def pos_counts(sandbox_url: str) -> dict[str, int]:
    """The R-Keeper simulator's orders: one per TablePay order, each with its dishes once and one payment."""
    pos_orders = httpx.get(f"{sandbox_url}/_sandbox/rkeeper/orders", timeout=30).json()
    by_order: Counter[str] = Counter()
    dish_errors, payment_errors = 0, 0
    for order in pos_orders:
        by_order[order["props"].get("tablepay_order_id", "?")] += 1
        quantities: Counter[str] = Counter()
        for session in order["sessions"]:
            for dish in session["dishes"]:
                quantities[dish["code"]] += int(dish["quantity"])
        if dict(quantities) != {"MARG": 2000, "TIRA": 1000}:
            dish_errors += 1
        if order["paid"] and len(order["payments"]) != 1:
            payment_errors += 1
    return {
        "orders_in_pos": len(pos_orders),
        "duplicate_pos_orders": sum(1 for c in by_order.values() if c > 1),
        "paid_in_pos": sum(1 for o in pos_orders if o["paid"]),
        "wrong_dishes_in_pos": dish_errors,
        "wrong_payments_in_pos": payment_errors,
    }


def run(orders: int, workers: int, kill_every: tuple[float, float], settle_timeout: float) -> int:
    with tempfile.TemporaryDirectory(prefix="tablepay-crash-") as tmp:
        data = Path(tmp)
        sandbox_port, sync_port = free_port(), free_port()
        sandbox_url, sync_url = f"http://127.0.0.1:{sandbox_port}", f"http://127.0.0.1:{sync_port}"
        env = {
            **os.environ,
            "TABLEPAY_DATA_DIR": str(data),
            "STRIPE_SECRET_KEY": "sk_test_crash",
            "STRIPE_WEBHOOK_SECRET": SECRET,
            "STRIPE_API_BASE": sandbox_url,
            "TABLEPAY_PUBLIC_URL": sync_url,
            "TABLEPAY_RECONCILE_INTERVAL": "2",
            "TABLEPAY_RECONCILE_AFTER": "3",
            "TABLEPAY_OUTBOX_BACKOFF_BASE": "0.2",
            "TABLEPAY_OUTBOX_BACKOFF_CAP": "2",
            "TABLEPAY_OUTBOX_MAX_ATTEMPTS": "100",
            "RKEEPER_URL": sandbox_url,
            "RKEEPER_USER": "tablepay",
            "RKEEPER_PASSWORD": "tablepay",
            "RKEEPER_STATION_CODE": "3",
            "RKEEPER_CASHIER_CODE": "5",
            "RKEEPER_CURRENCY_ID": "1030240",
            "RKEEPER_TIP_CHARGE_CODE": "7",
            "RKEEPER_TIMEOUT": "5",
            "PYTHONUNBUFFERED": "1",
        }
        token = (
            subprocess.run(
                [sys.executable, "-m", "tablepay", "sync", "add-kiosk", "kiosk-1"],
                env=env,
                cwd=ROOT,
                capture_output=True,
                text=True,
                check=True,
            )
            .stdout.strip()
            .splitlines()[-1]
        )
        with (data / "sandbox.log").open("ab") as out:
            sandbox = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "tablepay",
                    "sandbox",
                    "--port",
                    str(sandbox_port),
                    "--webhook-url",
                    f"{sync_url}/webhooks/stripe",
                    "--webhook-secret",
                    SECRET,
                ],
                env=env,
                cwd=ROOT,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        service = Service(sync_port, env, data / "sync.log")
        stop = threading.Event()
        killer_errors: list[str] = []

        def killer() -> None:
            rng = random.Random(7)
            try:
                while not stop.wait(rng.uniform(*kill_every)):
                    service.kill()
                    service.start()
            except Exception as exc:
                killer_errors.append(f"{type(exc).__name__}: {exc}")

        chaos = threading.Thread(target=killer, name="crash-killer", daemon=True)
        try:
            wait_healthy(f"{sandbox_url}/healthz", sandbox)
            service.start()
            started = time.monotonic()
            chaos.start()
            try:
                with ThreadPoolExecutor(workers) as pool:
                    for future in [pool.submit(pay_order, n, service.url, sandbox_url, token) for n in range(orders)]:
                        future.result()
            finally:
                stop.set()  # the killer stops before anything below (or the cleanup) runs
                if chaos.is_alive():
                    chaos.join()
            if killer_errors or service.proc is None or service.proc.poll() is not None:
                service.start()  # the last restart may have failed: settle with a running service
            paid_at = time.monotonic()
            counts = settle(service, sandbox_url, data, orders, settle_timeout)
            counts.update(
                orders=orders,
                kills=service.kills,
                seconds_paying=round(paid_at - started, 1),
                seconds_settling=round(time.monotonic() - paid_at, 1),
                killer_errors=killer_errors,
            )
        finally:
            service.stop()
            stop_process(sandbox)
        print(json.dumps(counts, indent=2))
        ok = counts["paid_in_service"] == counts["succeeded_in_feed"] == counts["orders_in_pos"] == counts[
            "paid_in_pos"
        ] == orders and not any(
            counts[k]
            for k in (
                "paid_twice_in_service",
                "succeeded_twice_in_feed",
                "duplicate_pos_orders",
                "wrong_dishes_in_pos",
                "wrong_payments_in_pos",
                "dead_letters",
            )
        )
        print("PASS: every order paid exactly once in the service, the feed and the POS" if ok else "FAIL")
        return 0 if ok else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--orders", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument("--kill-min", type=float, default=0.5, help="seconds between kills, at least")
    parser.add_argument("--kill-max", type=float, default=2.5)
    parser.add_argument("--settle-timeout", type=float, default=300)
    args = parser.parse_args()
    return run(args.orders, args.workers, (args.kill_min, args.kill_max), args.settle_timeout)


if __name__ == "__main__":
    sys.exit(main())
