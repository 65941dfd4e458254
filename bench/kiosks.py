"""Many kiosks long-polling one sync service while a burst of webhooks arrives.

    .venv/bin/python bench/kiosks.py                          # 50 kiosks, 5,000 webhooks (the long form)
    .venv/bin/python bench/kiosks.py --kiosks 10 --webhooks 300   # the short form (tests/stress)

Each kiosk owns an equal share of the open payments and long-polls
`/v1/events` on its own keep-alive connection; the webhooks (one
`checkout.session.completed` per payment, signed, ~5 kB as Stripe sends
them) go out over 16 keep-alive connections as fast as the service answers.
Checks: every kiosk receives exactly its own `payment.succeeded` events, none
lost, none twice, in increasing `seq`; reports push latency (webhook sent ->
event in its kiosk's hands) p50/p99/max and the webhook throughput.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if __package__ in (None, ""):
    sys.path.insert(0, str(ROOT))

from bench.loadgen import HOST, read_response, request  # noqa: E402
from bench.seed import SignedRequests, batch, seed_service  # noqa: E402
from bench.webhooks import running_server  # noqa: E402

SECRET = "whsec_bench_kiosks"
POLL_WAIT = 20


def _poll(port: int, token: str, after: int) -> bytes:
    return (
        f"GET /v1/events?after={after}&wait={POLL_WAIT}&limit=500 HTTP/1.1\r\nHost: {HOST}:{port}\r\n"
        f"Authorization: Bearer {token}\r\n\r\n"
    ).encode()


async def kiosk(
    port: int,
    token: str,
    expected: int,
    received: list[tuple[float, dict[str, Any]]],
    ready: asyncio.Event,
    deadline: float,
) -> None:
    reader, writer = await asyncio.open_connection(HOST, port)
    try:
        writer.write(_poll(port, token, 0).replace(f"wait={POLL_WAIT}".encode(), b"wait=0"))
        cursor = int(json.loads((await read_response(reader)).body)["next_after"])
        ready.set()
        while sum(1 for _, e in received if e["event"] == "payment.succeeded") < expected:
            if time.perf_counter() > deadline:
                return
            writer.write(_poll(port, token, cursor))
            response = await asyncio.wait_for(read_response(reader), POLL_WAIT + 30)
            now = time.perf_counter()
            page = json.loads(response.body)
            received.extend((now, event) for event in page["events"])
            cursor = int(page["next_after"])
    finally:
        writer.close()


async def burst(
    port: int, requests: list[bytes], payment_ids: list[str], sent_at: dict[str, float], connections: int
) -> tuple[int, float]:
    queue = list(zip(requests, payment_ids, strict=True))
    failures = 0

    async def sender() -> None:
        nonlocal failures
        reader, writer = await asyncio.open_connection(HOST, port)
        try:
            while queue:
                data, payment_id = queue.pop()
                sent_at[payment_id] = time.perf_counter()
                if (await request(reader, writer, data)).status != 200:
                    failures += 1
        finally:
            writer.close()

    started = time.perf_counter()
    await asyncio.gather(*(sender() for _ in range(connections)))
    return failures, time.perf_counter() - started


async def measure(
    port: int,
    tokens: dict[str, str],
    payments: dict[str, list[Any]],
    signed: list[bytes],
    payment_ids: list[str],
    connections: int,
    time_limit: float,
) -> dict[str, Any]:
    deadline = time.perf_counter() + time_limit
    received: dict[str, list[tuple[float, dict[str, Any]]]] = defaultdict(list)
    readies = {k: asyncio.Event() for k in tokens}
    pollers = [
        asyncio.create_task(kiosk(port, tokens[k], len(payments[k]), received[k], readies[k], deadline)) for k in tokens
    ]
    await asyncio.gather(*(r.wait() for r in readies.values()))
    await asyncio.sleep(0.3)  # every poll parked on the server
    sent_at: dict[str, float] = {}
    failures, seconds = await burst(port, signed, payment_ids, sent_at, connections)
    await asyncio.wait(pollers, timeout=max(1.0, deadline - time.perf_counter()))
    for task in pollers:
        task.cancel()
    await asyncio.gather(*pollers, return_exceptions=True)

    latencies, lost, doubled, out_of_order, foreign = [], 0, 0, 0, 0
    for kiosk_id, own in payments.items():
        events = received[kiosk_id]
        seqs = [e["seq"] for _, e in events]
        out_of_order += sum(1 for a, b in itertools.pairwise(seqs) if b <= a)
        succeeded = [(t, e) for t, e in events if e["event"] == "payment.succeeded"]
        ids = [e["payment_id"] for _, e in succeeded]
        mine = {p.payment_id for p in own}
        foreign += sum(1 for i in ids if i not in mine)
        doubled += len(ids) - len(set(ids))
        lost += len(mine - set(ids))
        latencies += [t - sent_at[e["payment_id"]] for t, e in succeeded if e["payment_id"] in sent_at]
    latencies.sort()

    def pct(q: float) -> float:
        return round(latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000, 2) if latencies else -1

    return {
        "kiosks": len(tokens),
        "webhooks": len(signed),
        "webhook_failures": failures,
        "webhooks_per_second": round(len(signed) / seconds, 1),
        "events_received": len(latencies),
        "lost": lost,
        "received_twice": doubled,
        "out_of_order": out_of_order,
        "other_kiosks_events": foreign,
        "push_p50_ms": pct(0.50),
        "push_p99_ms": pct(0.99),
        "push_max_ms": pct(1.0),
    }


def run(kiosk_count: int, webhooks: int, connections: int = 16, time_limit: float = 180) -> dict[str, Any]:
    kiosk_ids = [f"kiosk-{i:02d}" for i in range(kiosk_count)]
    per_kiosk = webhooks // kiosk_count
    payments = {k: batch(f"{k}", per_kiosk, k) for k in kiosk_ids}
    everyone = [p for k in kiosk_ids for p in payments[k]]
    with tempfile.TemporaryDirectory(prefix="tablepay-kiosks-") as tmp:
        data = Path(tmp)
        tokens = seed_service(data / "sync.sqlite", list(payments.values()), kiosk_ids)
        requests = SignedRequests(everyone, SECRET)
        with running_server("ours", data, SECRET, data / "server.log") as server:
            signed = requests.sign(server.port)
            return asyncio.run(
                measure(
                    server.port, tokens, payments, signed, [p.payment_id for p in everyone], connections, time_limit
                )
            )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--kiosks", type=int, default=50)
    parser.add_argument("--webhooks", type=int, default=5000)
    parser.add_argument("--connections", type=int, default=16)
    args = parser.parse_args()
    result = run(args.kiosks, args.webhooks, args.connections)
    print(json.dumps(result, indent=2))
    ok = not any(
        result[k] for k in ("lost", "received_twice", "out_of_order", "other_kiosks_events", "webhook_failures")
    )
    print("PASS: no event lost or doubled, every kiosk's events in order" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
