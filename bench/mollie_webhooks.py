"""Webhook intake on the Mollie path next to the Stripe path, measured in the same run.

    .venv/bin/python bench/mollie_webhooks.py            # N=400 per phase, 1 and 16 connections, 3 rounds
    .venv/bin/python bench/mollie_webhooks.py --quick    # N=100, a smoke run
    .venv/bin/python bench/mollie_webhooks.py --help     # --events, --connections, --rounds, ...

One sandbox plays both providers; one service runs on Stripe and one on Mollie, each a real
`tablepay sync` process with its own data dir. Payments are opened through POST /v1/checkouts and
paid at the sandbox while it holds webhooks; then this process sends the webhooks itself: Stripe's
signed events, Mollie's `id=tr_...` (for which the service fetches the payment from the fake before
it answers). See bench/README.md ("Mollie next to Stripe") for what every figure means.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import secrets
import statistics
import sys
import tempfile
import time
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if __package__ in (None, ""):  # run as a script: make `bench` importable
    sys.path.insert(0, str(ROOT))

from bench.loadgen import LoadResult, closed_loop  # noqa: E402  # after the sys.path line above
from bench.provider_paths import (  # noqa: E402  # after the sys.path line above
    Paid,
    Server,
    StripeWebhooks,
    adapter_fetches,
    cpu_seconds,
    delay_mollie,
    free_port,
    hold_webhooks,
    mollie_fetches,
    mollie_webhooks,
    open_and_pay,
    paid_count,
    sandbox,
    service,
    stripe_events,
)

PROVIDERS = ("stripe", "mollie")
RESULTS_DIR = ROOT / "bench" / "results"
FIRST, REPEAT, FETCH = "first delivery", "repeat", "fetch alone"


class Run:
    """The three servers of one run and the payments each service holds, by batch name."""

    def __init__(
        self, args: argparse.Namespace, work: Path, secret: str, servers: dict[str, Server], tokens: dict[str, str]
    ) -> None:
        self.args, self.work, self.secret, self.servers, self.tokens = args, work, secret, servers, tokens
        self.paid: dict[tuple[str, str], list[Paid]] = {}
        self.events: dict[str, str] = {}

    def webhooks(self, provider: str, batch: str) -> list[bytes]:
        """Built just before a phase: Stripe's are signed now."""
        port, paid = self.servers[provider].port, self.paid[provider, batch]
        if provider == "mollie":
            return mollie_webhooks(port, paid)
        return StripeWebhooks(paid, self.events, self.secret).requests(port)

    async def load(
        self, target: Server, requests: list[bytes], connections: int
    ) -> tuple[LoadResult, dict[str, float]]:
        """One closed-loop pass, with the CPU each server process used meanwhile."""
        pids = {name: s.pid for name, s in self.servers.items()}
        before = {name: cpu_seconds(pid) for name, pid in pids.items()}
        result = await closed_loop(target.port, requests, connections=connections, time_limit=self.args.time_limit)
        return result, {name: cpu_seconds(pid) - before[name] for name, pid in pids.items()}

    async def phase(self, provider: str, batch: str, phase: str, connections: int) -> dict[str, Any]:
        if phase == FETCH:
            target, requests = (
                self.servers["sandbox"],
                mollie_fetches(self.servers["sandbox"].port, self.paid["mollie", batch]),
            )
        else:
            target, requests = self.servers[provider], self.webhooks(provider, batch)
        delayed = provider == "mollie" and phase != FETCH and self.args.fetch_delay_ms > 0
        if delayed:  # one GET per webhook (no refunds here), each answered that much later
            await delay_mollie(self.servers["sandbox"].url, self.args.fetch_delay_ms / 1000, len(requests))
        result, cpu = await self.load(target, requests, connections)
        if delayed:
            await delay_mollie(self.servers["sandbox"].url, 0, 0)
        row = _row(provider, phase, connections, result, cpu)
        if phase != FETCH:
            row["paid_after"] = paid_count(self.work / provider, self.paid[provider, batch])
        return row


def _row(provider: str, phase: str, connections: int, result: LoadResult, cpu: dict[str, float]) -> dict[str, Any]:
    done = result.completed or 1
    return {
        "path": provider,
        "phase": phase,
        "connections": connections,
        "requests": result.completed,
        "errors": result.errors,
        "rps": round(result.throughput, 1),
        "p50_ms": round(result.percentile_ms(0.50), 2),
        "p99_ms": round(result.percentile_ms(0.99), 2),
        "max_ms": round(result.percentile_ms(1.0), 2),
        # the service's CPU per request; none for the fetch alone, which the service takes no part in
        "service_us": None if phase == FETCH else round(cpu[provider] / done * 1e6),
        "sandbox_us": round(cpu["sandbox"] / done * 1e6),
        "client_cpu_pct": round(100 * result.client_cpu / result.elapsed) if result.elapsed else None,
        "outcomes": dict(result.outcomes),
        "failures": result.failures[:5],
    }


def batch_names(args: argparse.Namespace) -> list[str]:
    return [f"r{r}-c{c}" for r in range(args.rounds) for c in args.connections]


async def prepare(run: Run) -> None:
    """Open and pay every payment of the run on both paths, webhooks held; then collect Stripe's events."""
    sandbox_url = run.servers["sandbox"].url
    for provider in PROVIDERS:
        await hold_webhooks(provider, sandbox_url)
    sizes = {"warm": run.args.warmup, **dict.fromkeys(batch_names(run.args), run.args.events)}

    async def provider_batches(provider: str, token: str) -> None:
        url = run.servers[provider].url
        for name, count in sizes.items():
            run.paid[provider, name] = await open_and_pay(provider, url, token, sandbox_url, name, count)

    started = time.perf_counter()
    await asyncio.gather(*(provider_batches(p, run.tokens[p]) for p in PROVIDERS))
    run.events = await stripe_events(sandbox_url)
    total = sum(len(v) for v in run.paid.values())
    print(f"  {total} payments opened and paid in {time.perf_counter() - started:.1f} s", flush=True)


async def measure(run: Run) -> list[dict[str, Any]]:
    conns = max(run.args.connections)
    for provider in PROVIDERS:  # warm-up, not counted: each service, and the fake's GET
        await run.phase(provider, "warm", FIRST, conns)
    await run.phase("mollie", "warm", FETCH, conns)
    rows = []
    for number in range(run.args.rounds):
        # Alternate who goes first, so a drifting VM favours neither path over the rounds.
        order = PROVIDERS if number % 2 == 0 else PROVIDERS[::-1]
        for c in run.args.connections:
            batch = f"r{number}-c{c}"
            for phase in (FIRST, REPEAT):
                for provider in order:
                    row = await run.phase(provider, batch, phase, c)
                    rows.append({"round": number + 1, **row})
                    print(
                        f"  round {number + 1}, {c:>2} conn, {provider:<6} {phase:<15}"
                        f"{row['rps']:>9,.0f} events/s  p50 {row['p50_ms']:.2f} ms",
                        flush=True,
                    )
            rows.append({"round": number + 1, **await run.phase("mollie", batch, FETCH, c)})
    return rows


async def split_fetch(run: Run) -> dict[str, float]:
    """After the rounds: the service's adapter fetching the first batch once more, in this process."""
    return await adapter_fetches(run.servers["sandbox"].url, run.paid["mollie", batch_names(run.args)[0]])


# -- figures ------------------------------------------------------------------------
def _median(rows: list[dict[str, Any]], key: str) -> float:
    return float(statistics.median(r[key] for r in rows))


def summarise(rows: list[dict[str, Any]], connections: list[int]) -> list[dict[str, Any]]:
    """Per connections and phase: each path's medians over the rounds, and Mollie / Stripe."""
    summary = []
    for c in connections:
        for phase in (FIRST, REPEAT):
            entry: dict[str, Any] = {"connections": c, "phase": phase}
            for provider in PROVIDERS:
                mine = [r for r in rows if r["path"] == provider and r["phase"] == phase and r["connections"] == c]
                entry[provider] = {k: _median(mine, k) for k in ("rps", "p50_ms", "p99_ms", "service_us", "sandbox_us")}
            s, m = entry["stripe"], entry["mollie"]
            entry["mollie_vs_stripe"] = {
                "rps": round(m["rps"] / s["rps"], 2),
                "p50": round(m["p50_ms"] / s["p50_ms"], 2),
                "p99": round(m["p99_ms"] / s["p99_ms"], 2),
            }
            summary.append(entry)
        fetch = [r for r in rows if r["phase"] == FETCH and r["connections"] == c]
        summary.append(
            {
                "connections": c,
                "phase": FETCH,
                "mollie": {k: _median(fetch, k) for k in ("rps", "p50_ms", "p99_ms", "sandbox_us")},
            }
        )
    return summary


def _fmt(value: float | None, digits: int = 2) -> str:
    if value is None or value != value:  # None or NaN: nothing measured
        return "-"
    return f"{value:,.{digits}f}"


def report(results: dict[str, Any]) -> None:
    p = results["params"]
    print(f"\nTablePay webhook intake, Mollie next to Stripe  {results['started']}")
    print(f"machine: {results['machine']}")
    print(
        f"N={p['events']} webhooks per phase, connections {p['connections']}, {p['rounds']} round(s), "
        f"warm-up {p['warmup']} per path (not counted), Mollie fetches answered {p['fetch_delay_ms']:g} ms late\n"
    )
    header = (
        f"{'round':>5} {'path':<7}{'conns':>5}  {'phase':<15}{'requests':>9}{'events/s':>10}{'p50 ms':>9}"
        f"{'p99 ms':>9}{'max ms':>9}{'errors':>7}{'paid':>6}{'svc us':>8}{'fake us':>9}  outcomes"
    )
    print(header)
    for r in results["rows"]:
        outcomes = " ".join(f"{k}={v}" for k, v in r["outcomes"].items()) or "-"
        print(
            f"{r['round']:>5} {r['path'] if r['phase'] != FETCH else 'fake':<7}{r['connections']:>5}  {r['phase']:<15}"
            f"{r['requests']:>9}{r['rps']:>10,.0f}{_fmt(r['p50_ms']):>9}{_fmt(r['p99_ms']):>9}{_fmt(r['max_ms']):>9}"
            f"{r['errors']:>7}{r.get('paid_after', '-'):>6}{_fmt(r['service_us'], 0):>8}{_fmt(r['sandbox_us'], 0):>9}"
            f"  {outcomes}"
        )
        for failure in r["failures"]:
            print(f"{'':<20}! {failure}")
    print("\nMollie / Stripe (medians over the rounds)")
    print(f"{'conns':>5}  {'phase':<15}{'Stripe ev/s':>12}{'Mollie ev/s':>12}{'ev/s':>7}{'p50':>7}{'p99':>7}")
    for entry in results["summary"]:
        if entry["phase"] == FETCH:
            continue
        s, m, ratio = entry["stripe"], entry["mollie"], entry["mollie_vs_stripe"]
        print(
            f"{entry['connections']:>5}  {entry['phase']:<15}{s['rps']:>12,.0f}{m['rps']:>12,.0f}"
            f"{ratio['rps']:>7.2f}{ratio['p50']:>7.2f}{ratio['p99']:>7.2f}"
        )
    delay = results["params"]["fetch_delay_ms"]
    print("\nThe fetch alone: GET /v2/payments/{id} sent straight to the fake, same ids, same connections, no delay")
    for entry in results["summary"]:
        if entry["phase"] != FETCH:
            continue
        c, fetch = entry["connections"], entry["mollie"]
        first = next(e for e in results["summary"] if e["connections"] == c and e["phase"] == FIRST)["mollie"]
        rest = first["p50_ms"] - fetch["p50_ms"] - delay
        print(
            f"  {c:>2} conn: {fetch['rps']:,.0f} GETs/s, p50 {fetch['p50_ms']:.2f} ms, p99 {fetch['p99_ms']:.2f} ms, "
            f"fake {fetch['sandbox_us']:.0f} us/GET; Mollie webhook p50 {first['p50_ms']:.2f} ms "
            f"= fetch {fetch['p50_ms']:.2f}" + (f" + delay {delay:g}" if delay else "") + f" + the rest {rest:.2f} ms"
        )
    a = results["adapter_fetch"]
    print(
        "\nThe service's Mollie adapter (MollieGateway.read_webhook) run in this process, one call at a time:\n"
        f"  adapter   {a['adapter_ms']:.2f} ms per fetch, {a['adapter_cpu_us']:,.0f} us of client CPU\n"
        f"  plain GET {a['httpx_ms']:.2f} ms per fetch, {a['httpx_cpu_us']:,.0f} us of client CPU (httpx + orjson)"
    )


def machine() -> str:
    import os
    import platform

    return f"nproc={os.cpu_count()}  {platform.platform(terse=True)}  Python {platform.python_version()}"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=400, help="N webhooks per path, phase and round (default 400)")
    parser.add_argument(
        "--connections", type=int, nargs="+", default=[1, 16], help="concurrency levels C (default 1 16)"
    )
    parser.add_argument("--rounds", type=int, default=3, help="measured rounds, each on fresh payments (default 3)")
    parser.add_argument("--warmup", type=int, default=50, help="uncounted first deliveries per path (default 50)")
    parser.add_argument(
        "--fetch-delay-ms",
        type=float,
        default=0.0,
        help="the fake answers each of the Mollie service's fetches this much later: Mollie's round trip "
        "over the Internet (e.g. 100; then lower --events)",
    )
    parser.add_argument("--time-limit", type=float, default=120.0, help="cap in seconds for any one phase")
    parser.add_argument("--quick", action="store_true", help="smoke run: N=100, warm-up 20, 1 round")
    args = parser.parse_args(argv)
    if args.quick:
        args.events, args.warmup, args.rounds = 100, 20, 1
    if min(args.events, args.warmup, args.rounds, *args.connections) < 1:
        parser.error("--events, --warmup, --rounds and --connections must be at least 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    started = datetime.now(UTC)
    secret = "whsec_bench_" + secrets.token_hex(16)
    ports = {name: free_port() for name in ("sandbox", *PROVIDERS)}
    sandbox_url = f"http://127.0.0.1:{ports['sandbox']}"
    with tempfile.TemporaryDirectory(prefix="tablepay-bench-mollie-") as tmp, ExitStack() as stack:
        work = Path(tmp)
        print("starting the sandbox and a service on each provider ...", flush=True)
        stripe_hook = f"http://127.0.0.1:{ports['stripe']}/webhooks/stripe"
        servers = {"sandbox": stack.enter_context(sandbox(work, ports["sandbox"], stripe_hook, secret))}
        tokens = {}
        for provider in PROVIDERS:
            starting, tokens[provider] = service(provider, work, ports[provider], sandbox_url, secret)
            servers[provider] = stack.enter_context(starting)
        run = Run(args, work, secret, servers, tokens)
        asyncio.run(prepare(run))
        print("measuring ...", flush=True)
        rows = asyncio.run(measure(run))
        adapter = asyncio.run(split_fetch(run))
    results: dict[str, Any] = {
        "started": started.isoformat(timespec="seconds"),
        "machine": machine(),
        "params": {
            k: getattr(args, k) for k in ("events", "connections", "rounds", "warmup", "fetch_delay_ms", "quick")
        },
        "rows": rows,
        "summary": summarise(rows, args.connections),
        "adapter_fetch": {k: round(v, 2) for k, v in adapter.items()},
    }
    report(results)
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    out = RESULTS_DIR / f"mollie-webhooks-{started.strftime('%Y%m%dT%H%M%SZ')}.json"
    out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"\nresults: {out.relative_to(ROOT)}")
    return 0  # a measurement, not a test


if __name__ == "__main__":
    sys.exit(main())
