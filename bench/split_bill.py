"""Twenty guests racing for shares of one bill, round after round.

    .venv/bin/python bench/split_bill.py             # 20 guests, 30 bills (rounds)
    .venv/bin/python bench/split_bill.py --quick     # 20 guests, 5 bills
    .venv/bin/python bench/split_bill.py --guests 40 --rounds 10
    .venv/bin/python bench/split_bill.py --chain     # two instances on one PostgreSQL, the phones split between them

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
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
if __package__ in (None, ""):  # run as a script: make `bench` importable
    sys.path.insert(0, str(ROOT))

from bench.chain import add_kiosk, throwaway_database  # noqa: E402  # after the sys.path line
from bench.provider_paths import (  # noqa: E402  # after the sys.path line
    KIOSK,
    STRIPE_KEY,
    Server,
    free_port,
    process,
    sandbox,
    service,
    service_env,
)

SECRET = "whsec_bench_split"
LINES: list[dict[str, Any]] = [
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


Rows = Callable[[str, str], list[tuple[Any, ...]]]  # (SQL with one ? for the order id, order id) -> rows


def sqlite_rows(db: Path) -> Rows:
    def rows(sql: str, order_id: str) -> list[tuple[Any, ...]]:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
            return list(conn.execute(sql, (order_id,)).fetchall())

    return rows


def postgres_rows(url: str) -> Rows:
    def rows(sql: str, order_id: str) -> list[tuple[Any, ...]]:
        import psycopg

        with psycopg.connect(url, connect_timeout=10) as conn:
            return list(conn.execute(sql.replace("?", "%s"), (order_id,)).fetchall())

    return rows


async def one_round(
    n: int, services: list[str], token: str, sandbox_url: str, guests: int, rng: random.Random, rows: Rows
) -> tuple[list[float], Counter[int]]:
    order: dict[str, Any] = {
        "order_id": f"ord-split-{n}",
        "kiosk_id": KIOSK,
        "currency": "EUR",
        "table": str(n % 30 + 1),
        "waiter": "Ana",
        "lines": LINES,
    }
    async with httpx.AsyncClient(
        base_url=services[0], headers={"Authorization": f"Bearer {token}"}, timeout=30
    ) as kiosk:
        opened = await kiosk.post(f"/v1/orders/{order['order_id']}/bill", json=order)
        assert opened.status_code == 201, opened.text
        token_path = f"/bill/{opened.json()['token']}"
    # Phone i reaches instance i mod len(services) (one, or two behind a load balancer).
    urls = [services[i % len(services)] + token_path for i in range(guests)]
    url = urls[0]
    phones = [httpx.AsyncClient(timeout=30) for _ in range(guests)]  # one connection per phone
    gate = asyncio.Event()
    latencies: list[float] = []
    codes: Counter[int] = Counter()

    async def guest(i: int) -> dict[str, Any] | None:
        await gate.wait()
        started = time.perf_counter()
        answer = await phones[i].post(f"{urls[i]}/shares", json=_ask(i, guests, LINES, rng, 1))
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
        [(flagged,)] = rows(
            "SELECT COUNT(*) FROM payments WHERE order_id = ? AND substr(attention, 1, 8) = 'overpaid'",
            order["order_id"],
        )
        units = rows("SELECT share FROM payments WHERE order_id = ? AND status = 'paid'", order["order_id"])
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


def chain_instances(stack: ExitStack, work: Path, ports: list[int], sandbox_url: str) -> tuple[list[Server], str, Rows]:
    """Two `tablepay sync` instances on one throwaway PostgreSQL database, and a kiosk token for both."""
    url = stack.enter_context(throwaway_database())
    servers = []
    token = ""
    for n, port in enumerate(ports):
        data_dir = work / f"instance-{n}"
        data_dir.mkdir()
        env = {
            **service_env("stripe", data_dir, sandbox_url, SECRET),
            "STRIPE_SECRET_KEY": STRIPE_KEY,
            "TABLEPAY_DATABASE_URL": url,
            "TABLEPAY_PUBLIC_URL": f"http://127.0.0.1:{ports[0]}",
        }
        command = [sys.executable, "-m", "tablepay", "sync", "--host", "127.0.0.1", "--port", str(port)]
        servers.append(stack.enter_context(process(f"instance-{n}", command, env, port, work / f"instance-{n}.log")))
        if n == 0:
            token = add_kiosk(env, KIOSK)
    return servers, token, postgres_rows(url)


async def run(guests: int, rounds: int, seed: int, chain: bool) -> None:
    rng = random.Random(seed)
    with tempfile.TemporaryDirectory(prefix="tablepay-split-") as tmp, ExitStack() as stack:
        work = Path(tmp)
        sandbox_port, ports = free_port(), [free_port(), free_port()]
        box = stack.enter_context(sandbox(work, sandbox_port, f"http://127.0.0.1:{ports[0]}/webhooks/stripe", SECRET))
        if chain:
            servers, token, rows = chain_instances(stack, work, ports, box.url)
        else:
            server, token = service("stripe", work, ports[0], box.url, SECRET)
            servers, rows = [stack.enter_context(server)], sqlite_rows(work / "stripe" / "sync.sqlite")
        latencies: list[float] = []
        codes: Counter[int] = Counter()
        started = time.perf_counter()
        for n in range(rounds):
            round_latencies, round_codes = await one_round(
                n, [s.url for s in servers], token, box.url, guests, rng, rows
            )
            latencies += round_latencies
            codes += round_codes
        elapsed = time.perf_counter() - started
    ms = [1000 * v for v in latencies]
    engine = "two instances on PostgreSQL" if chain else "one instance on SQLite"
    print(f"{guests} guests x {rounds} bills, {engine}, seed {seed}, {elapsed:.1f} s")
    print("answers: " + ", ".join(f"{code}: {count}" for code, count in sorted(codes.items())))
    print(f"share creation (ms): p50 {statistics.median(ms):.1f}, p99 {percentile(ms, 99):.1f}, max {max(ms):.1f}")
    print("every round: held + paid <= bill, no unit held or paid twice, no overpaid share, settled when covered")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--guests", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--seed", type=int, default=15)
    parser.add_argument("--quick", action="store_true", help="5 rounds")
    parser.add_argument("--chain", action="store_true", help="two instances on one PostgreSQL database")
    args = parser.parse_args()
    asyncio.run(run(args.guests, 5 if args.quick else args.rounds, args.seed, args.chain))


if __name__ == "__main__":
    main()
