"""The two storage engines side by side: webhook first delivery on SQLite, PostgreSQL with one instance and with two.

    .venv/bin/python bench/engines.py                 # N=2000, 3 rounds, the variants: about 4 minutes on 2 cores
    .venv/bin/python bench/engines.py --quick         # N=300, 1 round, no variants: a smoke run
    .venv/bin/python bench/engines.py --help

Every service is a real `python -m tablepay sync` process on 127.0.0.1 (SQLite under its data dir, or
`TABLEPAY_DATABASE_URL` on one throwaway PostgreSQL cluster with **durable settings**: fsync, synchronous_commit and
full_page_writes on, as a production server runs; pg_stat_statements loaded). Each round seeds fresh storage with
open payments through the service's own Repository, warms the instances up, then sends N signed
`checkout.session.completed` webhooks (~5 kB, bench/seed.py) over 16 keep-alive connections, closed loop
(bench/loadgen.py). With two instances the requests alternate between them (request i to instance i mod 2, 8
connections each), as a round-robin balancer would; their answers are counted together. Rounds rotate which engine
goes first, so the VM's drift favours none.

Then, on PostgreSQL with one instance (one round each, shown next to the durable one):
* synchronous_commit off, then fsync (and full_page_writes) off: what waiting for the WAL flush costs;
* the feed's NOTIFY disabled (one and two instances): the service calls `pg_notify(...)` unqualified, so a no-op
  `public.pg_notify(text, text)` with `search_path = public, pg_catalog` on that database takes its place, and a
  LISTEN here counts that no notification went out. No product code changes;
* statements and transactions per webhook (pg_stat_statements, pg_stat_database) and the server's CPU;
* a psycopg micro-benchmark: one round trip (`SELECT 1`), and one commit of a tiny insert with and without a
  `pg_notify`, one connection and eight threads; and `pg_test_fsync`'s fdatasync rate on this disk.

Finally the cross-instance feed push: a kiosk long-polls instance B while webhooks, one every 10 ms, land on
instance A; per event, the time from A's answer to the webhook (its COMMIT done) to B's answer to the poll, next to
the same on one instance. Prints tables; writes bench/results/engines-<UTC>.json. Always exits 0: it measures.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make `bench` and `tests` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.feedpush import measure_push
from bench.loadgen import HOST, LoadResult, closed_loop
from bench.pg_probe import (
    cluster_cpu,
    commits,
    disable_notify,
    listening,
    micro,
    reset_statements,
    sampling_waits,
    set_server,
    statement_counts,
)
from bench.provider_paths import Server, cpu_seconds, free_port, process
from bench.seed import SeededPayment, SignedRequests, batch, seed_postgres, seed_service
from tests.support import postgres

ROOT = Path(__file__).resolve().parent.parent
RESULTS_DIR = ROOT / "bench" / "results"
SECRET = "whsec_engines_bench"
KIOSK, PUSH_KIOSK = "kiosk-load", "kiosk-push"
CONNECTIONS = 16
# Durable: no fsync/synchronous_commit here, so the defaults (on) hold and ALTER SYSTEM can toggle them per variant.
DURABLE_SETTINGS = (
    "-c listen_addresses=127.0.0.1",
    "-c max_connections=200",
    "-c shared_preload_libraries=pg_stat_statements",
    "-c pg_stat_statements.track=all",
)


@dataclass
class Phase:
    name: str
    events_per_s: float
    p50_ms: float
    p99_ms: float
    applied: int
    errors: int
    service_cpu_us: float  # all instances' CPU per webhook
    postgres_cpu_us: float  # the cluster's backends' CPU per webhook (0 on SQLite)
    statements_per_webhook: float = 0.0
    transactions_per_webhook: float = 0.0
    notifications: int = -1  # NOTIFYs heard by a LISTEN during the phase (-1: not listened)
    client_cpu: float = 0.0  # the load generator's CPU / wall time
    waits: dict[str, float] | None = None  # share of sampled instance sessions per state (see sampling_waits)


# -- the services --------------------------------------------------------------------
def service_env(data_dir: Path, database_url: str | None) -> dict[str, str]:
    inherited = {
        k: v for k, v in os.environ.items() if not k.startswith(("STRIPE_", "MOLLIE_", "TABLEPAY_", "RKEEPER_"))
    }
    env = {
        **inherited,
        "TABLEPAY_DATA_DIR": str(data_dir),
        "STRIPE_SECRET_KEY": "sk_test_engines",
        "STRIPE_WEBHOOK_SECRET": SECRET,
        "STRIPE_API_BASE": "http://127.0.0.1:1",  # nothing here calls Stripe: the reconciler is kept idle
        "TABLEPAY_RECONCILE_INTERVAL": "3600",
        "PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring",
    }
    return {**env, "TABLEPAY_DATABASE_URL": database_url} if database_url else env


@contextmanager
def instances(work: Path, name: str, count: int, database_url: str | None) -> Iterator[list[Server]]:
    with ExitStack() as stack:
        servers = []
        for i in range(count):
            port = free_port()
            command = [sys.executable, "-m", "tablepay", "sync", "--host", HOST, "--port", str(port)]
            env = service_env(work, database_url)
            servers.append(stack.enter_context(process(f"{name}-{i}", command, env, port, work / f"{name}-{i}.log")))
        yield servers


@dataclass
class Storage:
    name: str
    database_url: str | None  # None: SQLite in `work`
    work: Path


@contextmanager
def fresh_storage(name: str, base: Path, cluster: postgres.Cluster | None) -> Iterator[Storage]:
    work = Path(tempfile.mkdtemp(prefix=f"{name}-", dir=base))
    if cluster is None:
        yield Storage(name, None, work)
        return
    with postgres.fresh_database(cluster.url) as url:
        yield Storage(name, url, work)


def seed(storage: Storage, batches: list[list[SeededPayment]]) -> dict[str, str]:
    kiosks = [KIOSK, PUSH_KIOSK]
    if storage.database_url:
        return seed_postgres(storage.database_url, batches, kiosks)
    return seed_service(storage.work / "sync.sqlite", batches, kiosks)


async def send_split(servers: list[Server], signed: SignedRequests, connections: int) -> LoadResult:
    """Request i to server i mod len(servers), connections shared out evenly; one result for them all."""
    n = len(servers)
    started = time.perf_counter()
    parts = await asyncio.gather(
        *(
            closed_loop(
                server.port,
                signed.sign(server.port)[i::n],
                connections=connections // n,
                time_limit=300,
            )
            for i, server in enumerate(servers)
        )
    )
    merged = LoadResult(planned=sum(p.planned for p in parts))
    for part in parts:
        merged.latencies += part.latencies
        merged.statuses.update(part.statuses)
        merged.outcomes.update(part.outcomes)
        merged.failures += part.failures
    merged.elapsed = time.perf_counter() - started
    return merged


def first_delivery(
    label: str,
    storage: Storage,
    cluster: postgres.Cluster | None,
    count: int,
    events: int,
    warmup: int,
    *,
    notify_off: bool = False,
) -> tuple[Phase, list[tuple[str, int, float]]]:
    warm, measured = batch(f"warm{label}", warmup, KIOSK), batch(f"bench{label}", events, KIOSK)
    seed(storage, [warm, measured])
    url = storage.database_url
    if url and notify_off:
        disable_notify(url, url.rsplit("/", 1)[1])
    top: list[tuple[str, int, float]] = []
    with instances(storage.work, label, count, url) as servers:
        asyncio.run(send_split(servers, SignedRequests(warm, SECRET), CONNECTIONS))
        signed = SignedRequests(measured, SECRET)
        if url:
            reset_statements(url)
            xacts = commits(url)
        cpu = sum(cpu_seconds(s.pid) for s in servers)
        pg_cpu = cluster_cpu(cluster) if cluster else 0.0
        with ExitStack() as stack:
            heard = stack.enter_context(listening(url)) if url else [-1]
            waits = stack.enter_context(sampling_waits(url)) if url else Counter()
            cpu_started = time.process_time()
            result = asyncio.run(send_split(servers, signed, CONNECTIONS))
            result.client_cpu = time.process_time() - cpu_started
        cpu = sum(cpu_seconds(s.pid) for s in servers) - cpu
        pg_cpu = (cluster_cpu(cluster) - pg_cpu) if cluster else 0.0
        statements, transactions = 0.0, 0.0
        if url:
            calls, top = statement_counts(url)
            statements = calls / events
            transactions = (commits(url) - xacts) / events
    if result.failures:
        print(f"  ! {label}: {result.failures[:3]}")
    phase = Phase(
        name=label,
        events_per_s=result.throughput,
        p50_ms=result.percentile_ms(0.50),
        p99_ms=result.percentile_ms(0.99),
        applied=result.outcomes.get("applied", 0),
        errors=result.errors,
        service_cpu_us=cpu / events * 1e6,
        postgres_cpu_us=pg_cpu / events * 1e6,
        statements_per_webhook=statements,
        transactions_per_webhook=transactions,
        notifications=heard[0],
        client_cpu=result.client_cpu / result.elapsed if result.elapsed else 0.0,
        waits={k: round(v / max(1, sum(waits.values())), 3) for k, v in waits.most_common(6)} if url else None,
    )
    return phase, top


def push(storage: Storage, count: int, cross: bool, events: int, interval: float) -> dict[str, float]:
    payments = batch(f"push{int(cross)}", events, PUSH_KIOSK)
    tokens = seed(storage, [payments])
    with instances(storage.work, "push", count, storage.database_url) as servers:
        a, b = servers[0], servers[-1]
        webhooks = SignedRequests(payments, SECRET).sign(a.port)
        result, _ = asyncio.run(
            measure_push(
                a.port,
                tokens[PUSH_KIOSK],
                webhooks,
                [p.payment_id for p in payments],
                after=0,
                interval=interval,
                time_limit=60,
                poll_port=b.port if cross else None,
            )
        )
    return {
        "received": len(result.latencies),
        "sent": result.sent,
        "p50_ms": result.percentile_ms(0.5, from_answer=True),
        "p99_ms": result.percentile_ms(0.99, from_answer=True),
        "max_ms": result.percentile_ms(1.0, from_answer=True),
        "from_write_p50_ms": result.percentile_ms(0.5),
        "from_write_p99_ms": result.percentile_ms(0.99),
        "webhook_p50_ms": result.percentile_ms(0.5, webhook=True),
        "errors": float(len(result.poll_errors)),
    }


# -- the run ------------------------------------------------------------------------------
def print_phases(title: str, phases: list[Phase]) -> None:
    print(f"\n{title}")
    print(
        f"{'run':<24} {'events/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'applied':>8} {'err':>4} "
        f"{'svc us':>7} {'pg us':>7} {'stmts':>6} {'xacts':>6} {'notifies':>8}"
    )
    for p in phases:
        print(
            f"{p.name:<24} {p.events_per_s:>9,.0f} {p.p50_ms:>8.2f} {p.p99_ms:>8.2f} {p.applied:>8} {p.errors:>4} "
            f"{p.service_cpu_us:>7.0f} {p.postgres_cpu_us:>7.0f} {p.statements_per_webhook:>6.2f} "
            f"{p.transactions_per_webhook:>6.3f} {p.notifications:>8}"
        )
        if p.waits:
            print(
                f"{'':<24} client CPU {p.client_cpu:.0%}; sessions: "
                + ", ".join(f"{k} {v:.0%}" for k, v in p.waits.items())
            )


def run(events: int, warmup: int, rounds: int, variants: bool, push_events: int) -> dict[str, Any]:
    bin_dir = postgres.find_binaries()
    if bin_dir is None:
        raise SystemExit(postgres.NOT_INSTALLED)
    report: dict[str, Any] = {"events": events, "rounds": rounds, "connections": CONNECTIONS}
    with ExitStack() as stack:
        base = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="tablepay-engines-")))
        cluster = postgres.start_cluster(settings=DURABLE_SETTINGS)  # its own directory under the system's /tmp
        stack.callback(postgres.stop_cluster, cluster)
        configs: list[tuple[str, int, postgres.Cluster | None]] = [
            ("sqlite", 1, None),
            ("postgres-1", 1, cluster),
            ("postgres-2", 2, cluster),
        ]
        by_config: dict[str, list[Phase]] = {name: [] for name, _, _ in configs}
        tops: dict[str, list[tuple[str, int, float]]] = {}
        for r in range(rounds):
            for name, count, on in configs[r % 3 :] + configs[: r % 3]:
                with fresh_storage(name, base, on) as storage:
                    phase, top = first_delivery(f"{name}", storage, on, count, events, warmup)
                phase.name = f"{name} (round {r + 1})"
                by_config[name].append(phase)
                tops.setdefault(name, top)
                print_phases(f"round {r + 1}: {name}", [phase])
        medians = {name: statistics.median(p.events_per_s for p in ps) for name, ps in by_config.items()}
        p99s = {name: statistics.median(p.p99_ms for p in ps) for name, ps in by_config.items()}
        report["rounds_detail"] = {name: [asdict(p) for p in ps] for name, ps in by_config.items()}
        report["median_events_per_s"], report["median_p99_ms"] = medians, p99s
        report["top_statements"] = tops
        extra: list[Phase] = []
        if variants:
            for label, count, settings, notify_off in (
                ("pg-1 sync_commit off", 1, {"synchronous_commit": "off"}, False),
                ("pg-1 fsync off", 1, {"synchronous_commit": "on", "fsync": "off", "full_page_writes": "off"}, False),
                ("pg-1 no NOTIFY", 1, {"fsync": "on", "full_page_writes": "on"}, True),
                ("pg-2 no NOTIFY", 2, {}, True),
                ("pg-2 sync_commit off", 2, {"synchronous_commit": "off"}, False),
            ):
                if settings:
                    set_server(cluster.url, **settings)
                with fresh_storage("variant", base, cluster) as storage:
                    phase, _ = first_delivery("v", storage, cluster, count, events, warmup, notify_off=notify_off)
                phase.name = label
                extra.append(phase)
                print_phases(label, [phase])
            set_server(cluster.url, synchronous_commit="on", fsync="on", full_page_writes="on")
        report["variants"] = [asdict(p) for p in extra]
        pushes: dict[str, dict[str, float]] = {}
        for label, count, on, cross in (
            ("sqlite, same instance", 1, None, False),
            ("postgres, same instance", 1, cluster, False),
            ("postgres, A -> B", 2, cluster, True),
        ):
            with fresh_storage("push", base, on) as storage:
                pushes[label] = push(storage, count, cross, push_events, 0.010)
        report["push"] = pushes
        with postgres.fresh_database(cluster.url) as url:
            report["micro"] = micro(url, base, bin_dir)

    print("\nfirst delivery, medians of the rounds (events/s, p99 ms) and ratios to SQLite")
    for name in medians:
        print(
            f"  {name:<12} {medians[name]:>8,.0f}/s  p99 {p99s[name]:7.2f} ms  "
            f"x{medians[name] / medians['sqlite']:.2f} throughput, x{p99s[name] / p99s['sqlite']:.2f} p99"
        )
    print(f"  postgres-2 / postgres-1: x{medians['postgres-2'] / medians['postgres-1']:.2f}")
    print("\nfeed push: from the webhook's answer to the poll's answer")
    for label, figures in pushes.items():
        print(
            f"  {label:<26} p50 {figures['p50_ms']:6.2f}  p99 {figures['p99_ms']:6.2f}  max {figures['max_ms']:6.2f} ms"
            f"  ({figures['received']:.0f}/{figures['sent']:.0f} received; from the write p99"
            f" {figures['from_write_p99_ms']:.2f} ms)"
        )
    print("\nmicro-benchmarks (psycopg, durable):", json.dumps(report["micro"], indent=2))
    print("\ntop statements, postgres-1, by total time:")
    for query, calls, total in tops.get("postgres-1", []):
        print(f"  {calls:>7} calls {total:9.1f} ms  {query}")
    return report


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--warmup", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--push-events", type=int, default=300)
    parser.add_argument("--no-variants", action="store_true")
    parser.add_argument("--quick", action="store_true", help="N=300, 1 round, no variants, 100 push events")
    args = parser.parse_args()
    if args.quick:
        args.events, args.warmup, args.rounds, args.no_variants, args.push_events = 300, 50, 1, True, 100
    report = run(args.events, args.warmup, args.rounds, not args.no_variants, args.push_events)
    RESULTS_DIR.mkdir(exist_ok=True)
    out = RESULTS_DIR / f"engines-{datetime.now(UTC):%Y%m%dT%H%M%SZ}.json"
    out.write_text(json.dumps(report, indent=2))
    print(f"\nwritten to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
