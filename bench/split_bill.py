"""Twenty guests racing for shares of one bill, round after round.

    .venv/bin/python bench/split_bill.py             # 20 guests, 30 bills (rounds)
    .venv/bin/python bench/split_bill.py --quick     # 20 guests, 5 bills
    .venv/bin/python bench/split_bill.py --guests 40 --rounds 10

A real sandbox and a real `tablepay sync` on Stripe (processes on 127.0.0.1, SQLite). Each round the
kiosk opens a new bill; its guests, released together, each POST one share (their own dishes, an equal
twentieth, an amount, or all that is left); every 201 is then paid at the sandbox and its webhook
delivered. Checked every round, from the guests' own API and from the service's database: what is
held and paid never exceeds the bill, no dish unit is held or paid twice, no share is flagged overpaid,
and a bill whose shares cover it is settled, exactly. Printed: the answers and the latency of share
creation (p50/p99/max, over every POST; a 201 includes opening the Stripe checkout). See bench/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from collections import Counter
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
if __package__ in (None, ""):  # run as a script: make `bench` importable
    sys.path.insert(0, str(ROOT))

from bench.provider_paths import KIOSK, free_port, sandbox, service  # noqa: E402  # after the sys.path line

SECRET = "whsec_bench_split"
LINES = [
    *({"sku": f"DISH{n}", "name": f"Dish {n}", "quantity": 2, "unit_amount": 1190 + 35 * n} for n in range(8)),
    {"sku": "WINE", "name": "Bottle of wine", "quantity": 1, "unit_amount": 3400},
]


def _ask(guest: int, guests: int, lines: list[dict[str, Any]], rng: random.Random, version: int) -> dict[str, Any]:
    """Guest `guest`'s choice: their own dishes (40 %), an equal share (30 %), an amount, or all that is left."""
    share = guest / guests
    if share < 0.4:
        dish = rng.choice(lines)
        return {"mode": "items", "items": [{"sku": dish["sku"], "quantity": 1}], "version": version}
    if share < 0.7:
        return {"mode": "equal", "shares": guests, "pay_shares": 1, "version": version}
    if guest < guests - 1:
        return {"mode": "amount", "amount": rng.randrange(500, 2500), "version": version}
    return {"mode": "remaining", "version": version}


def _check(state: dict[str, Any], where: str) -> None:
    total = sum(line["quantity"] * line["unit_amount"] for line in LINES)
    assert state["total"] == total, (where, state["total"])
    assert state["paid"] + state["held"] <= total, (where, state)
    for line in state["lines"]:
        assert line["paid"] + line["held"] + line["free"] == line["quantity"], (where, line)


async def one_round(
    n: int, service_url: str, token: str, sandbox_url: str, guests: int, rng: random.Random, db: Path
) -> tuple[list[float], Counter[int]]:
    order = {
        "order_id": f"ord-split-{n}",
        "kiosk_id": KIOSK,
        "currency": "EUR",
        "table": str(n % 30 + 1),
        "waiter": "Ana",
        "lines": LINES,
    }
    async with httpx.AsyncClient(
        base_url=service_url, headers={"Authorization": f"Bearer {token}"}, timeout=30
    ) as kiosk:
        opened = await kiosk.post(f"/v1/orders/{order['order_id']}/bill", json=order)
        assert opened.status_code == 201, opened.text
        url = opened.json()["bill_url"]
    phones = [httpx.AsyncClient(timeout=30) for _ in range(guests)]  # one connection per phone
    gate = asyncio.Event()
    latencies: list[float] = []
    codes: Counter[int] = Counter()

    async def guest(i: int) -> dict[str, Any] | None:
        await gate.wait()
        started = time.perf_counter()
        answer = await phones[i].post(f"{url}/shares", json=_ask(i, guests, LINES, rng, 1))
        latencies.append(time.perf_counter() - started)
        codes[answer.status_code] += 1
        assert answer.status_code in (201, 409, 422), answer.text
        return answer.json() if answer.status_code == 201 else None

    try:
        racing = [asyncio.create_task(guest(i)) for i in range(guests)]
        await asyncio.sleep(0.05)
        gate.set()
        shares = [s for s in await asyncio.gather(*racing) if s]
        async with httpx.AsyncClient(timeout=30) as look:
            _check((await look.get(f"{url}/state")).json(), f"round {n} held")
            async with httpx.AsyncClient(base_url=sandbox_url, timeout=30) as stripe:
                for share in shares:
                    session = share["checkout_url"].rstrip("/").rsplit("/", 1)[-1]
                    done = await stripe.post(
                        f"/_sandbox/checkout/sessions/{session}/complete", json={"outcome": "succeeded"}
                    )
                    assert done.status_code == 200, done.text
            deadline = time.monotonic() + 30
            while True:
                state = (await look.get(f"{url}/state")).json()
                if state["held"] == 0 or time.monotonic() > deadline:
                    break
                await asyncio.sleep(0.1)
        _check(state, f"round {n} paid")
        assert state["held"] == 0, f"round {n}: shares still held after paying: {state}"
        assert state["paid"] == sum(s["amount"] for s in shares), (n, state["paid"])
        if state["remaining"] == 0:
            assert state["status"] == "settled", state
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
            flagged = conn.execute(
                "SELECT COUNT(*) FROM payments WHERE order_id = ? AND attention LIKE 'overpaid%'", (order["order_id"],)
            ).fetchone()[0]
            units = conn.execute(
                "SELECT share FROM payments WHERE order_id = ? AND status = 'paid'", (order["order_id"],)
            ).fetchall()
        assert flagged == 0, f"round {n}: {flagged} shares flagged overpaid"
        taken: Counter[str] = Counter()
        for (share_json,) in units:
            for sku, quantity in json.loads(share_json)["units"]:
                taken[sku] += quantity
        assert all(taken[line["sku"]] <= line["quantity"] for line in LINES), (n, taken)
    finally:
        for phone in phones:
            await phone.aclose()
    return latencies, codes


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


async def run(guests: int, rounds: int, seed: int) -> None:
    rng = random.Random(seed)
    with tempfile.TemporaryDirectory(prefix="tablepay-split-") as tmp, ExitStack() as stack:
        work = Path(tmp)
        sandbox_port, service_port = free_port(), free_port()
        box = stack.enter_context(
            sandbox(work, sandbox_port, f"http://127.0.0.1:{service_port}/webhooks/stripe", SECRET)
        )
        server, token = service("stripe", work, service_port, box.url, SECRET)
        live = stack.enter_context(server)
        latencies: list[float] = []
        codes: Counter[int] = Counter()
        started = time.perf_counter()
        for n in range(rounds):
            round_latencies, round_codes = await one_round(
                n, live.url, token, box.url, guests, rng, work / "stripe" / "sync.sqlite"
            )
            latencies += round_latencies
            codes += round_codes
        elapsed = time.perf_counter() - started
    ms = [1000 * v for v in latencies]
    print(f"{guests} guests x {rounds} bills, seed {seed}, {elapsed:.1f} s")
    print("answers: " + ", ".join(f"{code}: {count}" for code, count in sorted(codes.items())))
    print(f"share creation (ms): p50 {statistics.median(ms):.1f}, p99 {percentile(ms, 99):.1f}, max {max(ms):.1f}")
    print("every round: held + paid <= bill, no unit held or paid twice, no overpaid share, settled when covered")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--guests", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--seed", type=int, default=15)
    parser.add_argument("--quick", action="store_true", help="5 rounds")
    args = parser.parse_args()
    asyncio.run(run(args.guests, 5 if args.quick else args.rounds, args.seed))


if __name__ == "__main__":
    main()
