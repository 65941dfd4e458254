"""The two webhook paths of `bench/mollie_webhooks.py`: one sandbox, a service on Stripe, a service on Mollie.

Every server is a real process on 127.0.0.1: the sandbox through `bench.serve sandbox` (the same app as
`tablepay sandbox`, without its access log) and each service through `python -m tablepay sync`, as
deployed, each with its own data dir. Payments are made the way a kiosk makes them (POST /v1/checkouts
with a kiosk token) and paid at the sandbox while it holds webhooks, so the benchmark is the only
sender of webhooks: Stripe's signed events (taken from the sandbox's event log) and Mollie's
`id=tr_...` form bodies.
"""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from bench.loadgen import HOST
from bench.seed import http_request, signature_header

ROOT = Path(__file__).resolve().parent.parent
STRIPE_KEY = "sk_test_bench"
MOLLIE_KEY = "test_benchMollieSandboxKey00000000"
MOLLIE_PATH = "/webhooks/mollie"
KIOSK = "kiosk-bench"
STARTUP_SECONDS = 60.0
CREATE_CONCURRENCY = 8  # checkouts opened at once while preparing (not measured)


@dataclass(frozen=True)
class Server:
    name: str
    port: int
    pid: int

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process so far, from /proc (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def _wait_healthy(name: str, url: str, proc: subprocess.Popen[bytes], log: Path) -> None:
    """Poll /healthz until it answers 200: the one wait in the benchmark that is not a measurement."""
    deadline = time.monotonic() + STARTUP_SECONDS
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"{name} exited with {proc.returncode}; see {log}")
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"{name} did not answer /healthz in {STARTUP_SECONDS:.0f} s; see {log}")
        time.sleep(0.05)


@contextmanager
def process(name: str, command: list[str], env: dict[str, str], port: int, log: Path) -> Iterator[Server]:
    with log.open("ab") as out:
        proc = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        _wait_healthy(name, f"http://{HOST}:{port}", proc, log)
        yield Server(name, port, proc.pid)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


def sandbox(work: Path, port: int, stripe_webhook_url: str, secret: str) -> AbstractContextManager[Server]:
    env = {**os.environ, "BENCH_WEBHOOK_SECRET": secret, "BENCH_WEBHOOK_URL": stripe_webhook_url}
    (work / "sandbox").mkdir()
    command = [sys.executable, "-m", "bench.serve", "sandbox", str(port), str(work / "sandbox")]
    return process("sandbox", command, env, port, work / "sandbox.log")


def service_env(provider: str, data_dir: Path, sandbox_url: str, secret: str) -> dict[str, str]:
    """What `tablepay sync` reads; the reconciler is kept idle so that only our webhooks move a payment."""
    inherited = {k: v for k, v in os.environ.items() if not k.startswith(("STRIPE_", "MOLLIE_", "TABLEPAY_"))}
    env = {
        **inherited,
        "TABLEPAY_DATA_DIR": str(data_dir),
        "TABLEPAY_RECONCILE_INTERVAL": "3600",
        "PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring",
    }
    if provider == "mollie":
        return {**env, "TABLEPAY_PROVIDER": "mollie", "MOLLIE_API_KEY": MOLLIE_KEY, "MOLLIE_API_BASE": sandbox_url}
    return {**env, "STRIPE_SECRET_KEY": STRIPE_KEY, "STRIPE_WEBHOOK_SECRET": secret, "STRIPE_API_BASE": sandbox_url}


def service(
    provider: str, work: Path, port: int, sandbox_url: str, secret: str
) -> tuple[AbstractContextManager[Server], str]:
    """The service on `provider` (not yet started) and a kiosk token for it, issued in its own database."""
    from sync_service.api.auth import issue_kiosk_token
    from sync_service.storage.db import open_database
    from sync_service.storage.repository import Repository

    data_dir = work / provider
    data_dir.mkdir()
    db = open_database(data_dir / "sync.sqlite")
    token = issue_kiosk_token(Repository(db), KIOSK)
    db.conn.close()
    command = [sys.executable, "-m", "tablepay", "sync", "--host", HOST, "--port", str(port)]
    env = service_env(provider, data_dir, sandbox_url, secret)
    return process(provider, command, env, port, work / f"{provider}.log"), token


# -- payments ---------------------------------------------------------------------
@dataclass(frozen=True)
class Paid:
    payment_id: str
    session_id: str  # cs_... at Stripe, tr_... at Mollie


def _order(order_id: str, n: int) -> dict[str, Any]:
    return {
        "order_id": order_id,
        "kiosk_id": KIOSK,
        "currency": "EUR",
        "table": str(1 + n % 20),
        "waiter": "Ana",
        "lines": [
            {"sku": "PASTA", "name": "Pasta carbonara", "quantity": 2, "unit_amount": 1250 + n % 50},
            {"sku": "WATER", "name": "Sparkling water", "quantity": 1, "unit_amount": 300},
        ],
        "tip_amount": 280,
        "donation_amount": 0,
    }


async def _ok(response: httpx.Response) -> Any:
    if response.status_code not in (200, 201):
        raise RuntimeError(f"{response.request.method} {response.request.url}: {response.status_code} {response.text}")
    return response.json()


async def hold_webhooks(provider: str, sandbox_url: str) -> None:
    path = "/_sandbox/mollie/delivery" if provider == "mollie" else "/_sandbox/delivery"
    async with httpx.AsyncClient(base_url=sandbox_url) as client:
        await _ok(await client.post(path, json={"mode": "hold"}))


async def delay_mollie(sandbox_url: str, seconds: float, count: int) -> None:
    """The fake answers its next `count` API calls `seconds` late (after applying them, without blocking
    its loop): Mollie's Internet round trip, on loopback. `count` 0 disarms it."""
    async with httpx.AsyncClient(base_url=sandbox_url) as client:
        if count:
            await _ok(await client.post("/_sandbox/mollie/faults", json={"delay_seconds": seconds, "count": count}))
        else:
            await _ok(await client.delete("/_sandbox/mollie/faults"))


async def open_and_pay(
    provider: str, service_url: str, token: str, sandbox_url: str, prefix: str, count: int
) -> list[Paid]:
    """`count` checkouts through the service, each then paid at the sandbox (webhooks held)."""
    gate = asyncio.Semaphore(CREATE_CONCURRENCY)
    auth = {"Authorization": f"Bearer {token}"}
    async with (
        httpx.AsyncClient(base_url=service_url, headers=auth, timeout=30) as kiosk,
        httpx.AsyncClient(base_url=sandbox_url, timeout=30) as guest,
    ):

        async def one(n: int) -> Paid:
            async with gate:
                payment = await _ok(await kiosk.post("/v1/checkouts", json=_order(f"ord-{prefix}-{n}", n)))
                session = str(payment["checkout_url"]).split("?")[0].rstrip("/").rsplit("/", 1)[-1]
                if provider == "mollie":
                    await _ok(await guest.post(f"/_sandbox/mollie/payments/{session}/status", json={"status": "paid"}))
                else:
                    await _ok(
                        await guest.post(
                            f"/_sandbox/checkout/sessions/{session}/complete", json={"outcome": "succeeded"}
                        )
                    )
                return Paid(str(payment["payment_id"]), session)

        return list(await asyncio.gather(*(one(n) for n in range(count))))


async def stripe_events(sandbox_url: str) -> dict[str, str]:
    """Every `checkout.session.completed` the sandbox holds, by session id, as Stripe sends it (indent 2)."""
    found: dict[str, str] = {}
    params: dict[str, Any] = {"type": "checkout.session.completed", "limit": 100}
    async with httpx.AsyncClient(
        base_url=sandbox_url, timeout=30, headers={"Authorization": f"Bearer {STRIPE_KEY}"}
    ) as client:
        while True:
            page = await _ok(await client.get("/v1/events", params=params))
            for event in page["data"]:
                found[event["data"]["object"]["id"]] = json.dumps(event, indent=2)
            if not page["has_more"] or not page["data"]:
                return found
            params["starting_after"] = page["data"][-1]["id"]


# -- requests ---------------------------------------------------------------------
class StripeWebhooks:
    """The payments' signed events; `requests()` signs them afresh (Stripe's 300 s tolerance)."""

    def __init__(self, paid: list[Paid], events: dict[str, str], secret: str) -> None:
        self.bodies = [events[p.session_id] for p in paid]
        self._secret = secret

    def requests(self, port: int) -> list[bytes]:
        now = int(time.time())
        return [http_request(port, b, signature_header(b, self._secret, now)) for b in self.bodies]


def mollie_webhooks(port: int, paid: list[Paid]) -> list[bytes]:
    """Mollie's call: an unsigned form body with nothing but the payment id."""
    requests = []
    for p in paid:
        body = f"id={p.session_id}".encode()
        head = (
            f"POST {MOLLIE_PATH} HTTP/1.1\r\nHost: {HOST}:{port}\r\nUser-Agent: Mollie.nl HTTP client/1.0\r\n"
            f"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {len(body)}\r\n\r\n"
        )
        requests.append(head.encode() + body)
    return requests


def mollie_fetches(port: int, paid: list[Paid]) -> list[bytes]:
    """The GET the service makes for each webhook, sent straight to the fake: the fetch alone."""
    return [
        (
            f"GET /v2/payments/{p.session_id} HTTP/1.1\r\nHost: {HOST}:{port}\r\n"
            f"Authorization: Bearer {MOLLIE_KEY}\r\nAccept: application/json\r\n\r\n"
        ).encode()
        for p in paid
    ]


def paid_count(data_dir: Path, paid: list[Paid]) -> int:
    """How many of `paid` the service holds as paid: what the webhooks applied (read-only, committed state)."""
    conn = sqlite3.connect(f"file:{data_dir / 'sync.sqlite'}?mode=ro", uri=True)
    try:
        ids = [p.payment_id for p in paid]
        marks = ",".join("?" * len(ids))
        query = f"SELECT count(*) FROM payments WHERE status = 'paid' AND payment_id IN ({marks})"
        return int(conn.execute(query, ids).fetchone()[0])
    finally:
        conn.close()


async def adapter_fetches(sandbox_url: str, paid: list[Paid], warmup: int = 20) -> dict[str, float]:
    """The service's own Mollie adapter reading each webhook (`MollieGateway.read_webhook`: the SDK's GET,
    its model, our observation), here in this process one at a time: wall time and this process's CPU per
    call, next to a plain httpx GET + orjson of the same payment. Splits the fetch's cost into the
    client's and the fake's without touching the service."""
    import orjson

    from sync_service.providers.mollie_gateway import MollieGateway

    gateway = MollieGateway(MOLLIE_KEY, webhook_url=f"http://{HOST}:1{MOLLIE_PATH}", api_base=sandbox_url)
    auth = {"Authorization": f"Bearer {MOLLIE_KEY}"}
    figures: dict[str, float] = {}
    try:
        async with httpx.AsyncClient(base_url=sandbox_url, headers=auth) as plain:

            async def via_adapter(p: Paid) -> None:
                await gateway.read_webhook(f"id={p.session_id}".encode(), {})

            async def via_httpx(p: Paid) -> None:
                orjson.loads((await plain.get(f"/v2/payments/{p.session_id}")).content)

            for name, call in (("adapter", via_adapter), ("httpx", via_httpx)):
                for p in paid[:warmup]:
                    await call(p)
                wall, cpu = time.perf_counter(), time.process_time()
                for p in paid:
                    await call(p)
                figures[f"{name}_ms"] = (time.perf_counter() - wall) / len(paid) * 1000
                figures[f"{name}_cpu_us"] = (time.process_time() - cpu) / len(paid) * 1e6
    finally:
        await gateway.aclose()
    return figures
