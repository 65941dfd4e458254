"""1,000 partner payments while the receiver fails a random 30 % of deliveries: none lost, none doubled.

The sandbox (Stripe), the sync service and a partner's receiver run on 127.0.0.1, each under uvicorn in a
thread of this process (tests/support/harness.py; the service with its background workers on, as
`tablepay sync` runs it). The receiver verifies every delivery with the `standardwebhooks` package and
answers 500 to a random 30 % until the payments are done, then recovers (always 2xx). The retry schedule
is compressed with TABLEPAY_PARTNER_RETRY_TIME_FACTOR (default 0.001: 5 ms, 0.3 s, 1.8 s, 7.2 s, 18 s...).

Printed: deliveries, lost (an event the receiver never accepted) and doubled (a webhook-id accepted
twice), unverified deliveries, and the delay from an event's creation to its acceptance, overall and for
the events still outstanding when the receiver recovered (measured from the recovery).
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.support.harness import running_harness  # after the sys.path line
from tests.support.live_server import LiveServer, bound_socket  # after the sys.path line
from tests.support.partner_receiver import Receiver  # after the sys.path line

DISHES = [{"sku": "MARG", "name": "Pizza margherita", "quantity": 1, "unit_amount": 950}]


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--payments", type=int, default=1000)
    parser.add_argument("--fail", type=float, default=0.3, help="share of deliveries answered 500 until recovery")
    parser.add_argument("--time-factor", type=float, default=0.001)
    parser.add_argument("--workers", type=int, default=8, help="guests paying at once")
    parser.add_argument("--database-url", help="a fresh PostgreSQL database instead of SQLite")
    parser.add_argument("--seed", type=int, default=16)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    recovered = threading.Event()
    accepted: dict[str, float]
    created: dict[str, float] = {}  # event id -> when its guest paid (the sandbox's answer to the payment)
    paid_at: dict[str, float] = {}

    def answer(n: int) -> tuple[int, dict[str, str]]:
        return (500, {}) if not recovered.is_set() and rng.random() < args.fail else (200, {})

    receiver = Receiver([], answer=answer)
    with (
        tempfile.TemporaryDirectory() as tmp,
        running_harness(
            Path(tmp),
            database_url=args.database_url,
            allow_http_webhooks=True,
            partner_retry_time_factor=args.time_factor,
        ) as h,
    ):
        sock = bound_socket()
        new = h.app.state.partners.add("bench", f"http://127.0.0.1:{sock.getsockname()[1]}/hooks")
        receiver.secrets.append(new.secret)
        client = httpx.Client(base_url=h.service.url, headers={"Authorization": f"Bearer {new.api_key}"}, timeout=60)

        def pay(i: int) -> None:
            order = {
                "external_order_id": f"b-{i}-{uuid.uuid4().hex[:6]}",
                "currency": "EUR",
                "lines": DISHES,
                "pickup": f"guest {i}",
                "return_url": "https://menu.example/thanks",
                "cancel_url": "https://menu.example/cart",
            }
            response = client.post("/v1/partner/orders", json=order)
            assert response.status_code == 201, response.text
            h.complete(response.json(), "succeeded")
            paid_at[order["external_order_id"]] = time.time()

        with LiveServer(receiver, sock=sock):
            started = time.time()
            with ThreadPoolExecutor(args.workers) as pool:
                list(pool.map(pay, range(args.payments)))
            paid_in = time.time() - started

            def count(where: str = "") -> int:
                with h.db() as db:
                    sql = f"SELECT count(*) FROM outbox WHERE topic = 'partner.webhook'{where}"
                    return int(db.execute(sql).fetchone()[0])

            deadline = time.time() + 120
            while count() < args.payments and time.time() < deadline:
                time.sleep(0.2)
            recovery = time.time()
            recovered.set()
            with h.db() as db:
                outstanding = {
                    row[0]
                    for row in db.execute(
                        "SELECT dedupe_key FROM outbox WHERE topic = 'partner.webhook' AND state != 'done'"
                    )
                }
            while time.time() < recovery + 600:
                if count(" AND state = 'done'") >= args.payments:
                    break
                time.sleep(0.2)
            caught_up = time.time() - recovery
            time.sleep(1)  # anything in flight lands
        for delivery in receiver.deliveries:
            body = json.loads(delivery.body)
            created[delivery.headers["webhook-id"]] = paid_at[body["data"]["external_order_id"]]
        with h.db() as db:
            for (event_id,) in db.execute("SELECT dedupe_key FROM outbox WHERE topic = 'partner.webhook'"):
                created.setdefault(event_id, float("nan"))
        client.close()
    ok = [d for d in receiver.deliveries if 200 <= d.status < 300]
    accepted = {}
    for delivery in ok:
        accepted.setdefault(delivery.headers["webhook-id"], delivery.at)
    tries = Counter(d.headers["webhook-id"] for d in receiver.deliveries)
    lost = set(created) - set(accepted)
    doubled = [i for i, n in Counter(d.headers["webhook-id"] for d in ok).items() if n > 1]
    unverified = sum(1 for d in receiver.deliveries if not d.verified_by)
    delays = [accepted[i] - created[i] for i in accepted if i in created]
    first_try: dict[str, float] = {}
    for delivery in receiver.deliveries:
        first_try.setdefault(delivery.headers["webhook-id"], delivery.at)
    retry_cost = [accepted[i] - first_try[i] for i in accepted]
    after = [accepted[i] - recovery for i in outstanding if i in accepted]
    print(f"payments: {args.payments} (paid in {paid_in:.1f} s), events: {len(created)}")
    print(f"deliveries: {len(receiver.deliveries)}")
    print(f"lost: {len(lost)}, doubled: {len(doubled)}, unverified: {unverified}")
    print(f"tries per event: {dict(sorted(Counter(tries.values()).items()))}")
    print(f"delay guest paid -> accepted: p50 {percentile(delays, 50):.2f} s, p99 {percentile(delays, 99):.2f} s")
    print(f"first try -> accepted: p50 {percentile(retry_cost, 50):.2f} s, p99 {percentile(retry_cost, 99):.2f} s")
    print(
        f"after recovery: {len(outstanding)} outstanding, caught up in {caught_up:.1f} s; "
        f"p50 {percentile(after, 50):.2f} s, p99 {percentile(after, 99):.2f} s"
    )
    return 0 if not lost and not doubled and not unverified else 1


if __name__ == "__main__":
    raise SystemExit(main())
