"""Fixtures for the sandbox tests: a real server on 127.0.0.1 and real SDK clients."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import stripe
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from tablepay_sandbox.app import create_app
from tablepay_sandbox.mollie import MollieOptions
from tablepay_sandbox.rkeeper.options import RKeeperOptions
from tablepay_sandbox.runtime import Options
from tests.support.live_server import LiveServer, bound_socket
from tests.support.waiting import eventually

API_KEY = "sk_test_tablepay_sandbox_tests"
FIXTURES = Path(__file__).resolve().parents[2] / "tablepay_sandbox" / "stripe_fixtures.json"

# Short retry timings so retry tests take milliseconds, not minutes.
FAST = Options(
    retry_base=0.05, retry_factor=2.0, retry_cap=0.5, max_attempts=4, delivery_timeout=5.0, delayed_settle_seconds=0.2
)


@dataclass
class Sandbox:
    """A running sandbox plus what tests need to talk to it."""

    server: LiveServer
    data_dir: Path
    webhook_secret: str | None
    http_clients: list[stripe.HTTPXClient] = field(default_factory=list)

    @property
    def url(self) -> str:
        return self.server.url

    def client(self, api_key: str = API_KEY) -> stripe.StripeClient:
        """A sync SDK client like production's, closed when the test ends (no leaked sockets)."""
        http = stripe.HTTPXClient(timeout=10, allow_sync_methods=True)
        self.http_clients.append(http)
        return stripe.StripeClient(api_key, base_addresses={"api": self.url}, max_network_retries=0, http_client=http)

    def control(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        return httpx.request(method, self.url + path, timeout=10, **kwargs)

    def api(self, method: str, path: str, api_key: str = API_KEY, **kwargs: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {api_key}", **kwargs.pop("headers", {})}
        return httpx.request(method, self.url + path, headers=headers, timeout=10, **kwargs)

    def event_types(self, **params: Any) -> list[str]:
        """Every event type so far, oldest first (GET /v1/events lists newest first)."""
        events = self.api("GET", "/v1/events", params={"limit": 100, **params}).json()["data"]
        return [e["type"] for e in reversed(events)]


SandboxFactory = Callable[..., Sandbox]


@pytest.fixture
def start_sandbox(tmp_path: Path) -> Iterator[SandboxFactory]:
    """Start (and restart, on the same port and data dir) sandboxes; all are stopped at the end."""
    servers: list[LiveServer] = []
    started: list[Sandbox] = []
    first = bound_socket()  # the app needs its own URL before it is built
    port = first.getsockname()[1]

    def start(
        *,
        webhook_url: str | None = None,
        webhook_secret: str | None = None,
        options: Options = FAST,
        data_dir: Path | None = None,
        rkeeper_options: RKeeperOptions | None = None,
        mollie_options: MollieOptions | None = None,
    ) -> Sandbox:
        data = data_dir or tmp_path / "sandbox-data"
        app = create_app(
            data,
            public_url=f"http://127.0.0.1:{port}",
            webhook_url=webhook_url,
            webhook_secret=webhook_secret,
            options=options,
            rkeeper_options=rkeeper_options,
            mollie_options=mollie_options,
        )
        # The first start serves on the socket bound above; a restart binds the same port again.
        server = LiveServer(app, sock=first).start() if not servers else LiveServer(app, port=port).start()
        servers.append(server)
        started.append(Sandbox(server, data, app.state.runtime.webhook_secret))
        return started[-1]

    yield start
    for box in started:
        for http in box.http_clients:
            http.close()
    for server in servers:
        server.stop()
    first.close()  # when no sandbox was started


@pytest.fixture
def sandbox(start_sandbox: SandboxFactory) -> Sandbox:
    return start_sandbox()


@pytest.fixture
def client(sandbox: Sandbox) -> stripe.StripeClient:
    return sandbox.client()


@dataclass
class Receiver:
    """A webhook receiver: records each request; answers with the codes queued in `responses`."""

    server: LiveServer
    received: list[tuple[bytes, str]] = field(default_factory=list)
    responses: list[int] = field(default_factory=list)
    status_for: Callable[[dict[str, Any]], int] | None = None  # overrides `responses` when set
    lock: threading.Lock = field(default_factory=threading.Lock)  # the server's thread appends

    @property
    def url(self) -> str:
        return self.server.url + "/webhooks/stripe"

    def wait_for(self, predicate: Callable[[list[dict[str, Any]]], bool], timeout: float = 10) -> list[dict[str, Any]]:
        """Wait until the parsed events received so far satisfy `predicate`; returns them."""

        def met() -> tuple[list[dict[str, Any]]] | None:
            events = self.events()
            return (events,) if predicate(events) else None  # a tuple: truthy even when no event is awaited

        return eventually(
            met,
            timeout=timeout,
            interval=0.02,
            message=lambda: f"the webhooks awaited (received {[e['type'] for e in self.events()]})",
        )[0]

    def events(self) -> list[dict[str, Any]]:
        with self.lock:
            return [json.loads(body) for body, _ in self.received]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    holder: list[Receiver] = []

    async def hook(request: Request) -> Response:
        rec = holder[0]
        body = await request.body()
        with rec.lock:
            if rec.status_for is not None:
                status = rec.status_for(json.loads(body))
            else:
                status = rec.responses.pop(0) if rec.responses else 200
            rec.received.append((body, request.headers.get("stripe-signature", "")))
        return Response(status_code=status)

    server = LiveServer(Starlette(routes=[Route("/webhooks/stripe", hook, methods=["POST"])])).start()
    holder.append(Receiver(server))
    yield holder[0]
    server.stop()


@pytest.fixture
def fixtures() -> dict[str, dict[str, Any]]:
    data: dict[str, dict[str, Any]] = json.loads(FIXTURES.read_text("utf-8"))["resources"]
    return data


def session_params(**overrides: Any) -> dict[str, Any]:
    params: dict[str, Any] = {
        "mode": "payment",
        "line_items": [
            {
                "price_data": {"currency": "eur", "unit_amount": 1250, "product_data": {"name": "Risotto"}},
                "quantity": 2,
            },
            {
                "price_data": {"currency": "eur", "unit_amount": 450, "product_data": {"name": "Espresso"}},
                "quantity": 1,
            },
        ],
        "client_reference_id": "order-42",
        "metadata": {"order_id": "order-42", "table": "7"},
        "payment_intent_data": {"metadata": {"order_id": "order-42"}},
        "success_url": "http://127.0.0.1:9/done?session_id={CHECKOUT_SESSION_ID}",
        "cancel_url": "http://127.0.0.1:9/cancelled",
    }
    params.update(overrides)
    return params


@dataclass
class Hooks:
    """A webhook receiver: records (path, body, content type); answers with the queued codes, then 200."""

    server: LiveServer
    received: list[tuple[str, bytes, str]] = field(default_factory=list)
    responses: list[int] = field(default_factory=list)
    delay: float = 0.0  # answer this late (the receiver is slow, the test does not wait for it)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        return self.server.url + "/webhooks/mollie"

    def calls(self, path: str = "/webhooks/mollie") -> list[bytes]:
        with self.lock:
            return [body for p, body, _ in self.received if p == path]

    def wait_for(self, count: int, timeout: float = 10) -> list[bytes]:
        return eventually(
            lambda: len(self.calls()) >= count and self.calls(),
            timeout=timeout,
            interval=0.01,
            message=lambda: f"{count} webhook calls (got {self.calls()})",
        )


@pytest.fixture
def hooks() -> Iterator[Hooks]:
    """The Mollie webhook receiver (`POST /webhooks/mollie`; a redirect points at `/webhooks/elsewhere`)."""
    holder: list[Hooks] = []

    async def hook(request: Request) -> Response:
        rec = holder[0]
        body = await request.body()
        with rec.lock:
            rec.received.append((request.url.path, body, request.headers.get("content-type", "")))
            status = rec.responses.pop(0) if rec.responses else 200
        if rec.delay:
            await asyncio.sleep(rec.delay)
        if status in (301, 302, 307):
            return RedirectResponse("/webhooks/elsewhere", status_code=status)
        return Response(status_code=status)

    app = Starlette(routes=[Route("/webhooks/{name}", hook, methods=["POST", "GET"])])
    server = LiveServer(app).start()
    holder.append(Hooks(server))
    yield holder[0]
    server.stop()
