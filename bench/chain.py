"""Chain-mode stress: paid orders through two sync service instances on one PostgreSQL, one SIGKILLed again and again.

    .venv/bin/python bench/chain.py --orders 1000    # the long form
    .venv/bin/python bench/chain.py --orders 40      # about the short form CI runs (tests/stress/test_chain_short.py)

Everything is a real process on 127.0.0.1 except the proxy: a throwaway PostgreSQL (tests/support/postgres.py;
`--database-url` names another server's database instead), the sandbox (Stripe + the R-Keeper simulator, its
webhook retries shortened to 0.2 s doubling up to 2 s) and instances A and B of `python -m tablepay sync` with
`TABLEPAY_DATABASE_URL` set. In front of them a round-robin HTTP proxy (tests/support/faulty_proxy.py, in this
process) that skips an instance refusing connections: the kiosks' checkouts, the guests' return pages and the
sandbox's webhooks all go through it. While workers send orders to the kitchen, open checkouts (with an
Idempotency-Key, retried until answered) and pay them, a killer SIGKILLs instance B every 0.5-2.5 s and starts it
again. Webhooks cut off by a kill are retried by the sandbox, the reconciliation sweep covers the rest, and a
killed instance's outbox leases (TABLEPAY_OUTBOX_LEASE_SECONDS, 5 s here) run out and are taken over by A.

At the end it checks and prints: every order paid exactly once in the database; in every kiosk's feed (read whole,
through the proxy) exactly one `payment.succeeded` per paid payment of its own and nothing of another kiosk's;
every order one POS order with its dishes once and one payment; 0 dead letters; no outbox row left pending.
Exit 0 when all hold.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from itertools import pairwise
from pathlib import Path
from typing import Any

import httpx
import psycopg

if __package__ in (None, ""):  # run as a script: make `bench` and `tests` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.crash import ROOT, Service, free_port, pay_order, pos_counts, stop_process, wait_healthy
from tests.support.faulty_proxy import FaultyProxy
from tests.support.live_server import LiveServer, bound_socket

SECRET = "whsec_chain_test_secret"
KIOSKS = ("kiosk-1", "kiosk-2", "kiosk-3")
LEASE_SECONDS = 5


@contextmanager
def throwaway_database() -> Iterator[str]:
    """A fresh database on a throwaway cluster (the tests' fast settings: this checks correctness, not speed)."""
    from tests.support import postgres

    cluster = postgres.start_cluster()
    try:
        with postgres.fresh_database(cluster.url) as url:
            yield url
    finally:
        postgres.stop_cluster(cluster)


def service_env(database_url: str, sandbox_url: str, public_url: str, data_dir: Path) -> dict[str, str]:
    inherited = {
        k: v for k, v in os.environ.items() if not k.startswith(("STRIPE_", "MOLLIE_", "TABLEPAY_", "RKEEPER_"))
    }
    return {
        **inherited,
        "TABLEPAY_DATABASE_URL": database_url,
        "TABLEPAY_DATA_DIR": str(data_dir),
        "STRIPE_SECRET_KEY": "sk_test_chain",
        "STRIPE_WEBHOOK_SECRET": SECRET,
        "STRIPE_API_BASE": sandbox_url,
        "TABLEPAY_PUBLIC_URL": public_url,
        "TABLEPAY_RECONCILE_INTERVAL": "2",
        "TABLEPAY_RECONCILE_AFTER": "3",
        "TABLEPAY_OUTBOX_BACKOFF_BASE": "0.2",
        "TABLEPAY_OUTBOX_BACKOFF_CAP": "2",
        "TABLEPAY_OUTBOX_MAX_ATTEMPTS": "100",
        "TABLEPAY_OUTBOX_LEASE_SECONDS": str(LEASE_SECONDS),
        "RKEEPER_URL": sandbox_url,
        "RKEEPER_USER": "tablepay",
        "RKEEPER_PASSWORD": "tablepay",
        "RKEEPER_STATION_CODE": "3",
        "RKEEPER_CASHIER_CODE": "5",
        "RKEEPER_CURRENCY_ID": "1030240",
        "RKEEPER_TIP_CHARGE_CODE": "7",
        "RKEEPER_TIMEOUT": "5",
        "PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring",
        "PYTHONUNBUFFERED": "1",
    }


def add_kiosk(env: dict[str, str], kiosk_id: str) -> str:
    added = subprocess.run(
        [sys.executable, "-m", "tablepay", "sync", "add-kiosk", kiosk_id],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return added.stdout.strip().splitlines()[-1]


def whole_feed(proxy_url: str, token: str) -> list[dict[str, Any]]:
    """A kiosk's feed from the start, page by page, as a kiosk reads it (through the proxy, so from either instance)."""
    events: list[dict[str, Any]] = []
    after = 0
    with httpx.Client(base_url=proxy_url, headers={"Authorization": f"Bearer {token}"}, timeout=30) as client:
        while True:
            page = client.get("/v1/events", params={"after": after, "limit": 500})
            page.raise_for_status()
            body = page.json()
            events.extend(body["events"])
            if not body["events"]:
                return events
            after = int(body["next_after"])


def count(database_url: str, sandbox_url: str, proxy_url: str, tokens: dict[str, str]) -> dict[str, Any]:
    with psycopg.connect(database_url) as conn:
        paid = conn.execute(
            "SELECT order_id, kiosk_id, payment_id FROM payments WHERE status = 'paid' ORDER BY order_id"
        ).fetchall()
        kiosk_of: dict[str, str] = {o: k for o, k in conn.execute("SELECT order_id, kiosk_id FROM orders")}
        dead = conn.execute("SELECT count(*) FROM outbox WHERE state = 'dead'").fetchone()
        pending = conn.execute("SELECT count(*) FROM outbox WHERE state = 'pending'").fetchone()
        dead_rows = conn.execute(
            "SELECT topic, dedupe_key, attempts, last_error FROM outbox WHERE state = 'dead' ORDER BY id LIMIT 5"
        ).fetchall()
    paid_per_order = Counter(order_id for order_id, _, _ in paid)
    succeeded, twice, missing, foreign, gaps = 0, 0, 0, 0, 0
    for kiosk_id, token in tokens.items():
        feed = whole_feed(proxy_url, token)
        seqs = [int(e["seq"]) for e in feed]
        gaps += sum(1 for a, b in pairwise(seqs) if b <= a)  # out of order or repeated
        foreign += sum(kiosk_of.get(str(e["order_id"])) != kiosk_id for e in feed)
        per_payment = Counter(e["payment_id"] for e in feed if e["event"] == "payment.succeeded")
        own = {payment_id for _, kiosk, payment_id in paid if kiosk == kiosk_id}
        succeeded += sum(1 for p in own if per_payment[p] == 1)
        twice += sum(1 for c in per_payment.values() if c > 1)
        missing += sum(1 for p in own if per_payment[p] == 0)
        missing += sum(1 for p in per_payment if p not in own)  # succeeded in the feed, not paid in the database
    return {
        "paid_in_service": len(paid_per_order),
        "paid_twice_in_service": sum(1 for c in paid_per_order.values() if c > 1),
        "succeeded_once_in_feeds": succeeded,
        "succeeded_twice_in_feeds": twice,
        "succeeded_missing_or_unpaid": missing,
        "feed_rows_of_another_kiosk": foreign,
        "feed_out_of_order": gaps,
        **pos_counts(sandbox_url),
        "dead_letters": int(dead[0]) if dead else -1,
        "outbox_pending": int(pending[0]) if pending else -1,
        "first_dead_letters": [f"{t} {k} after {a}: {str(e)[:300]}" for t, k, a, e in dead_rows],
    }


def settled(counts: dict[str, Any], orders: int) -> bool:
    return bool(counts["paid_in_service"] == counts["paid_in_pos"] == orders and counts["outbox_pending"] == 0)


def passed(counts: dict[str, Any], orders: int) -> bool:
    exact = ("paid_in_service", "succeeded_once_in_feeds", "orders_in_pos", "paid_in_pos")
    zero = (
        "paid_twice_in_service",
        "succeeded_twice_in_feeds",
        "succeeded_missing_or_unpaid",
        "feed_rows_of_another_kiosk",
        "feed_out_of_order",
        "duplicate_pos_orders",
        "wrong_dishes_in_pos",
        "wrong_payments_in_pos",
        "dead_letters",
        "outbox_pending",
    )
    return all(counts[k] == orders for k in exact) and not any(counts[k] for k in zero)


def run(
    orders: int,
    workers: int,
    kill_every: tuple[float, float],
    settle_timeout: float,
    database_url: str | None = None,
) -> int:
    with ExitStack() as stack:
        url = database_url or stack.enter_context(throwaway_database())
        work = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="tablepay-chain-")))
        # The proxy's socket first: the sandbox and the services are told its address before they start.
        proxy_sock = bound_socket()
        proxy_url = f"http://127.0.0.1:{proxy_sock.getsockname()[1]}"
        sandbox_port = free_port()
        sandbox_url = f"http://127.0.0.1:{sandbox_port}"
        instances = {}
        for name in ("a", "b"):
            (work / name).mkdir()
            instances[name] = Service(
                free_port(), service_env(url, sandbox_url, proxy_url, work / name), work / f"sync-{name}.log"
            )
        a, b = instances["a"], instances["b"]
        tokens = {kiosk: add_kiosk(a.env, kiosk) for kiosk in KIOSKS}
        proxy = FaultyProxy([a.url, b.url])
        server = stack.enter_context(LiveServer(proxy.app, sock=proxy_sock))
        proxy.url = server.url

        (work / "sandbox").mkdir()
        sandbox_env = {
            **os.environ,
            "BENCH_WEBHOOK_SECRET": SECRET,
            "BENCH_WEBHOOK_URL": f"{proxy_url}/webhooks/stripe",
            "BENCH_RETRY_BASE": "0.2",
            "BENCH_RETRY_CAP": "2",
            "BENCH_MAX_ATTEMPTS": "200",
        }
        with (work / "sandbox.log").open("ab") as out:
            sandbox = subprocess.Popen(
                [sys.executable, "-m", "bench.serve", "sandbox", str(sandbox_port), str(work / "sandbox")],
                env=sandbox_env,
                cwd=ROOT,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        stack.callback(stop_process, sandbox)
        stack.callback(b.stop)
        stack.callback(a.stop)
        stop = threading.Event()
        killer_errors: list[str] = []

        def killer() -> None:
            rng = random.Random(14)
            try:
                while not stop.wait(rng.uniform(*kill_every)):
                    b.kill()
                    b.start()
            except Exception as exc:
                killer_errors.append(f"{type(exc).__name__}: {exc}")

        wait_healthy(f"{sandbox_url}/healthz", sandbox)
        a.start()
        b.start()
        chaos = threading.Thread(target=killer, name="chain-killer", daemon=True)
        started = time.monotonic()
        chaos.start()
        try:
            with ThreadPoolExecutor(workers) as pool:
                futures = [
                    pool.submit(pay_order, n, proxy_url, sandbox_url, tokens[kiosk], kiosk_id=kiosk)
                    for n in range(orders)
                    for kiosk in [KIOSKS[n % len(KIOSKS)]]
                ]
                for future in futures:
                    future.result()
        finally:
            stop.set()  # the killer stops before anything below (or the cleanup) runs
            if chaos.is_alive():
                chaos.join()
        if b.proc is None or b.proc.poll() is not None:
            b.start()  # the last restart may have failed: settle with both running
        paid_at = time.monotonic()
        deadline = paid_at + settle_timeout
        while True:
            counts = count(url, sandbox_url, proxy_url, tokens)
            if settled(counts, orders) or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        counts.update(
            orders=orders,
            kills=b.kills,
            proxied={name: proxy.forwarded[i.url] for name, i in instances.items()},
            proxy_skipped=proxy.skipped,
            proxy_502=proxy.failed,
            seconds_paying=round(paid_at - started, 1),
            seconds_settling=round(time.monotonic() - paid_at, 1),
            killer_errors=killer_errors,
        )
    print(json.dumps(counts, indent=2))
    ok = passed(counts, orders) and not killer_errors
    print(
        "PASS: every order paid exactly once in the database, every kiosk's feed and the POS; "
        "nothing dead or pending in the outbox"
        if ok
        else "FAIL"
    )
    return 0 if ok else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--orders", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument("--kill-min", type=float, default=0.5, help="seconds between kills of instance B, at least")
    parser.add_argument("--kill-max", type=float, default=2.5)
    parser.add_argument("--settle-timeout", type=float, default=300)
    parser.add_argument("--database-url", help="an empty PostgreSQL database to use instead of a throwaway cluster")
    args = parser.parse_args()
    return run(args.orders, args.workers, (args.kill_min, args.kill_max), args.settle_timeout, args.database_url)


if __name__ == "__main__":
    sys.exit(main())
