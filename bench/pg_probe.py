"""What bench/engines.py asks PostgreSQL itself: its processes' CPU, settings, the sessions' waits,
the statements and commits per webhook, and psycopg micro-benchmarks of round trips, commits and NOTIFY."""

from __future__ import annotations

import subprocess
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg

from bench.provider_paths import cpu_seconds
from tests.support import postgres


# -- the cluster --------------------------------------------------------------------
def backend_pids(cluster: postgres.Cluster) -> list[int]:
    """The postmaster's children (backends, walwriter, checkpointer...): their CPU is the server's."""
    parent = cluster.pid()
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rpartition(")")[2].split()
        except OSError:
            continue
        if parent is not None and int(fields[1]) == parent:
            found.append(int(stat.parent.name))
    return found


def cluster_cpu(cluster: postgres.Cluster) -> float:
    total = 0.0
    for pid in backend_pids(cluster):
        try:
            total += cpu_seconds(pid)
        except OSError:  # ended meanwhile
            pass
    return total


def set_server(url: str, **settings: str) -> None:
    """ALTER SYSTEM + reload: fsync, full_page_writes and synchronous_commit change without a restart."""
    with psycopg.connect(url, autocommit=True) as conn:
        for name, value in settings.items():
            conn.execute(f"ALTER SYSTEM SET {name} = {value}")
        conn.execute("SELECT pg_reload_conf()")


def disable_notify(database_url: str, database: str) -> None:
    """A no-op pg_notify ahead of pg_catalog's in this database's search_path (see the module's docstring)."""
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(
            "CREATE FUNCTION public.pg_notify(channel text, payload text) RETURNS void LANGUAGE plpgsql "
            "AS $$ BEGIN END $$"
        )
        conn.execute(f'ALTER DATABASE "{database}" SET search_path = public, pg_catalog')


@contextmanager
def listening(database_url: str) -> Iterator[list[int]]:
    """Counts the feed's notifications while the block runs (in a thread with its own connection)."""
    heard = [0]
    stop = threading.Event()
    ready = threading.Event()

    def listen() -> None:
        with psycopg.connect(database_url, autocommit=True) as conn:
            conn.execute("LISTEN tablepay_feed")
            ready.set()
            while not stop.is_set():
                heard[0] += sum(1 for _ in conn.notifies(timeout=0.2))

    thread = threading.Thread(target=listen, daemon=True)
    thread.start()
    ready.wait(10)
    try:
        yield heard
    finally:
        stop.set()
        thread.join(10)


@contextmanager
def sampling_waits(database_url: str, every: float = 0.005) -> Iterator[Counter[str]]:
    """What the instances' sessions are doing, sampled from pg_stat_activity every `every` s while the block runs:
    'running' (on the CPU in the server), a wait event ('Lock:transactionid', 'IO:WALSync', ...) or 'idle' (the
    server waits for the instance: its round trip, its own CPU)."""
    seen: Counter[str] = Counter()
    stop = threading.Event()

    def sample() -> None:
        with psycopg.connect(database_url, autocommit=True) as conn:
            while not stop.wait(every):
                for state, kind, event in conn.execute(
                    "SELECT state, wait_event_type, wait_event FROM pg_stat_activity "
                    "WHERE datname = current_database() AND application_name = 'tablepay-sync'"
                ):
                    if state == "active":
                        seen[f"{kind}:{event}" if kind else "running"] += 1
                    else:
                        seen[str(state)] += 1

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    try:
        yield seen
    finally:
        stop.set()
        thread.join(10)


def statement_counts(database_url: str) -> tuple[int, list[tuple[str, int, float]]]:
    """pg_stat_statements since its last reset, this database only: all calls, and the top ones by total time."""
    with psycopg.connect(database_url, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT query, calls, total_exec_time FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid "
            "WHERE d.datname = current_database() AND query NOT ILIKE '%pg_stat%' ORDER BY total_exec_time DESC"
        ).fetchall()
    return sum(int(r[1]) for r in rows), [(str(q)[:90], int(c), float(t)) for q, c, t in rows[:8]]


def commits(database_url: str) -> int:
    with psycopg.connect(database_url, autocommit=True) as conn:
        row = conn.execute("SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()").fetchone()
    return int(row[0]) if row else 0


def reset_statements(database_url: str) -> None:
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
        conn.execute("SELECT pg_stat_statements_reset()")


# -- micro-benchmarks -------------------------------------------------------------------
def micro(url: str, work: Path, bin_dir: Path) -> dict[str, float]:
    """Round trip, commit with and without NOTIFY (1 and 8 connections), and the disk's fdatasync rate."""
    figures: dict[str, float] = {}
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE TABLE IF NOT EXISTS micro (id bigserial PRIMARY KEY, v text NOT NULL)")
        for _ in range(200):
            conn.execute("SELECT 1")
        started, n = time.perf_counter(), 3000
        for _ in range(n):
            conn.execute("SELECT 1")
        figures["round_trip_us"] = (time.perf_counter() - started) / n * 1e6

    def commits_per_s(threads: int, notify: bool, per_thread: int) -> float:
        def work_one() -> None:
            with psycopg.connect(url, autocommit=True) as conn:
                for _ in range(per_thread):
                    conn.execute("BEGIN")
                    conn.execute("INSERT INTO micro (v) VALUES ('x')")
                    if notify:
                        conn.execute("SELECT pg_notify('micro', 'k')")
                    conn.execute("COMMIT")

        pool = [threading.Thread(target=work_one) for _ in range(threads)]
        started = time.perf_counter()
        for t in pool:
            t.start()
        for t in pool:
            t.join()
        return threads * per_thread / (time.perf_counter() - started)

    for threads in (1, 8):
        for notify in (False, True):
            figures[f"commits_per_s_{threads}conn{'_notify' if notify else ''}"] = commits_per_s(threads, notify, 400)
    fsync = subprocess.run(
        [str(bin_dir / "pg_test_fsync"), "-s", "2", "-f", str(work / "fsync.test")],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    for line in fsync.stdout.splitlines():
        if "fdatasync" in line and "ops/sec" in line and "fdatasync_ops_per_s" not in figures:
            figures["fdatasync_ops_per_s"] = float(line.split()[-4].replace(",", ""))
    return figures
