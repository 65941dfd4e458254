"""A sync service and a sandbox, both real, on 127.0.0.1, wired to each other."""

from __future__ import annotations

import os
import sqlite3
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from sync_service.api.app import create_app
from sync_service.api.auth import issue_kiosk_token
from sync_service.settings import Settings
from tablepay_sandbox.app import create_app as create_sandbox
from tablepay_sandbox.mollie import MollieOptions
from tablepay_sandbox.rkeeper.options import RKeeperOptions
from tablepay_sandbox.rkeeper.seed import client_settings

from .database import PostgresReader
from .live_server import LiveServer, bound_socket
from .providers import (
    DONATION_ACCOUNT,
    DONATION_ORGANIZATION,
    MOLLIE_API_KEY,
    STRIPE_SECRET_KEY,
    ProviderDriver,
    driver,
)
from .waiting import eventually

WEBHOOK_SECRET = "whsec_test_tablepay_0123456789"
SECRET_KEY = STRIPE_SECRET_KEY


def pos_settings(sandbox_url: str, **changes: Any) -> dict[str, Any]:
    """Settings that point the service at the sandbox's R-Keeper simulator (its seeded codes)."""
    values: dict[str, Any] = {
        **client_settings(sandbox_url),
        "rkeeper_timeout_seconds": 5,
        "outbox_backoff_base_seconds": 0.05,
        "outbox_backoff_cap_seconds": 0.5,
    }
    values.update(changes)
    return values


def make_order(order_id: str | None = None, kiosk_id: str = "kiosk-1", **changes: Any) -> dict[str, Any]:
    order = {
        "order_id": order_id or f"ord-{uuid.uuid4().hex[:10]}",
        "kiosk_id": kiosk_id,
        "currency": "EUR",
        "table": "12",
        "waiter": "Ana",
        "lines": [
            {"sku": "PASTA", "name": "Pasta carbonara", "quantity": 2, "unit_amount": 1250},
            {"sku": "WATER", "name": "Sparkling water", "quantity": 1, "unit_amount": 300},
        ],
        "tip_amount": 280,
        "donation_amount": 0,
    }
    order.update(changes)
    return order


class Clock:
    """The service's epoch clock (`running_harness(clock=...)`), moved by a test instead of waiting."""

    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.time() + self.offset


class Harness:
    def __init__(
        self, sandbox: LiveServer, service: LiveServer, settings: Settings, token: str, provider: ProviderDriver
    ) -> None:
        self.sandbox, self.service, self.settings, self.token = sandbox, service, settings, token
        self.provider = provider  # how the tests play the guest and the provider's sandbox
        self.kiosk = httpx.Client(base_url=service.url, timeout=30, headers={"Authorization": f"Bearer {token}"})
        self.stripe_http = httpx.Client(
            base_url=sandbox.url, timeout=30, headers={"Authorization": f"Bearer {SECRET_KEY}"}
        )

    @property
    def app(self) -> Any:
        return self.service.app

    def checkout(self, order: dict[str, Any], **headers: str) -> httpx.Response:
        return self.kiosk.post("/v1/checkouts", json=order, headers=headers)

    def session_id(self, payment: dict[str, Any]) -> str:
        return self.provider.session_id(payment)

    def complete(self, payment: dict[str, Any], outcome: str) -> None:
        """What the guest did on the hosted page: succeeded, failed (a declined card), expired."""
        self.provider.complete(payment, outcome)

    def paid(self, **order: Any) -> dict[str, Any]:
        """A new order (make_order with `order`'s changes) checked out and paid by the guest."""
        response = self.checkout(make_order(**order))
        assert response.status_code == 201, response.text
        payment = response.json()
        self.complete(payment, "succeeded")
        return self.wait_status(payment["payment_id"], "paid")

    def refund(self, payment_id: str, amount: int, key: str | None = None) -> httpx.Response:
        """A manager's refund request, with an Idempotency-Key when `key` is given."""
        headers = {"Idempotency-Key": key} if key else {}
        return self.kiosk.post(
            f"/v1/payments/{payment_id}/refunds",
            json={"amount": amount, "reason": "requested_by_customer"},
            headers=headers,
        )

    def payment(self, payment_id: str) -> dict[str, Any]:
        response = self.kiosk.get(f"/v1/payments/{payment_id}")
        assert response.status_code == 200, response.text
        return dict(response.json())

    def wait_status(self, payment_id: str, status: str, timeout: float = 10) -> dict[str, Any]:
        def reached() -> dict[str, Any]:
            payment = self.payment(payment_id)
            assert payment["status"] == status, payment
            return payment

        return eventually(reached, timeout=timeout, message=f"payment {payment_id} {status}")

    def run_outbox(self) -> int:
        """Deliver every outbox row that is due, on the service's loop, as its worker would; returns how
        many rows were tried. For a harness started with `background=False`: then nothing else delivers,
        and once this returns, whatever is still pending is waiting for its backoff."""
        outbox = self.app.state.outbox
        tried = 0
        while batch := self.service.run(outbox.run_once()):
            tried += batch
        return tried

    def pending_deliveries(self) -> list[dict[str, Any]]:
        """The sandbox's webhooks not yet answered (a held or dropped one is not pending)."""
        return self.provider.pending_deliveries()

    def webhooks_settled(self) -> None:
        """Wait until the sandbox has sent every webhook due and the service answered each: the service
        applies an event before it answers, so after this no webhook sent so far can change anything."""
        eventually(lambda: not self.pending_deliveries(), message="every pending webhook delivered")

    def feed(self, after: int = 0, wait: float = 0) -> list[dict[str, Any]]:
        response = self.kiosk.get("/v1/events", params={"after": after, "wait": wait, "events": "all"})
        assert response.status_code == 200, response.text
        return list(response.json()["events"])

    def pos_state(self, order_id: str) -> dict[str, Any]:
        response = self.kiosk.get(f"/v1/orders/{order_id}/pos")
        assert response.status_code == 200, response.text
        return dict(response.json())

    def command_env(self) -> dict[str, str]:
        """The environment a `tablepay sync ...` process needs to work on this harness's service."""
        if self.provider.name == "mollie":
            provider = {
                "TABLEPAY_PROVIDER": "mollie",
                "MOLLIE_API_KEY": MOLLIE_API_KEY,
                "MOLLIE_API_BASE": self.sandbox.url,
                "MOLLIE_SPLIT_PAYMENTS": "true",
                "TABLEPAY_DONATION_ORGANIZATION": DONATION_ORGANIZATION,
            }
        else:
            provider = {
                "STRIPE_SECRET_KEY": SECRET_KEY,
                "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
                "STRIPE_API_BASE": self.sandbox.url,
                "TABLEPAY_DONATION_ACCOUNT": DONATION_ACCOUNT,
            }
        return {**os.environ, **provider, "TABLEPAY_DATA_DIR": str(self.settings.data_dir)}

    def sandbox_mode(self, mode: str) -> None:
        """deliver, hold or drop the provider's webhooks."""
        self.provider.delivery_mode(mode)

    @contextmanager
    def second_instance(self, *, background: bool = True, **overrides: Any) -> Iterator[LiveServer]:
        """Another instance of the service on this harness's PostgreSQL database and sandbox (chain mode),
        with its own port and data directory; `server.app` is its app. The sandbox's webhooks still go
        to the first instance, and the kiosk's token works on both (the database holds it).
        `overrides`: settings of this instance only (by field name)."""
        assert self.settings.database_url is not None, "instances share a PostgreSQL database, never SQLite"
        sock = bound_socket()
        port = sock.getsockname()[1]
        settings = self.settings.model_copy(
            update={
                "data_dir": self.settings.data_dir.with_name(f"service-{port}"),
                "public_url": f"http://127.0.0.1:{port}",
                **overrides,
            }
        )
        app = create_app(settings, background=background)
        with LiveServer(app, sock=sock) as server:
            server.app = app  # type: ignore[attr-defined]  # LiveServer serves any ASGI app; the tests read this one's state
            yield server

    def db(self) -> Any:
        """A separate read connection: the test sees only committed state (SQLite or PostgreSQL, `?` SQL)."""
        if self.settings.database_url is not None:
            return PostgresReader(self.settings.database_url.get_secret_value())
        return sqlite3.connect(self.settings.database_path)

    def state(self) -> dict[str, list[tuple[Any, ...]]]:
        with self.db() as conn:
            return {
                table: conn.execute(f"SELECT * FROM {table} ORDER BY 1").fetchall()
                for table in ("payments", "integration_events", "feed", "outbox", "donation_transfers")
            }


@contextmanager
def running_harness(
    tmp_path: Path,
    *,
    pos: bool = False,
    background: bool = True,
    clock: Callable[[], float] | None = None,
    provider: str = "stripe",
    mollie_options: MollieOptions | None = None,
    rkeeper_options: RKeeperOptions | None = None,
    database_url: str | None = None,
    **overrides: Any,
) -> Iterator[Harness]:
    """`pos=True` also syncs orders to the sandbox's R-Keeper simulator (override any RKEEPER_* setting).
    `background=False` leaves the service's outbox and reconciler loops off: the test drives them
    (`Harness.run_outbox()`, `reconciler.sweep()`) and can then assert that nothing more happened.
    `clock`: the service's epoch clock for pairing codes (a test moves it rather than waiting).
    `database_url`: the service on that (fresh) PostgreSQL database instead of SQLite.
    `provider`: stripe or mollie, each played by the sandbox (tests/support/providers.py); `mollie_options`
    tunes the Mollie fake (by default its webhook retries are compressed, so a test never waits minutes);
    `rkeeper_options` the R-Keeper simulator's choices (e.g. whether Payment@amount includes the tip)."""
    # Each app must know the other's address before either starts: bind both sockets first.
    sandbox_socket, service_socket = bound_socket(), bound_socket()
    sandbox_port, service_port = sandbox_socket.getsockname()[1], service_socket.getsockname()[1]
    sandbox_app = create_sandbox(
        tmp_path / "sandbox",
        public_url=f"http://127.0.0.1:{sandbox_port}",
        webhook_url=f"http://127.0.0.1:{service_port}/webhooks/stripe",
        webhook_secret=WEBHOOK_SECRET,
        mollie_options=mollie_options or MollieOptions(retry_time_factor=1e-4),
        rkeeper_options=rkeeper_options,
    )
    values: dict[str, Any] = dict(
        stripe_secret_key=SECRET_KEY,
        stripe_webhook_secret=WEBHOOK_SECRET,
        stripe_api_base=f"http://127.0.0.1:{sandbox_port}",
        data_dir=tmp_path / "service",
        public_url=f"http://127.0.0.1:{service_port}",
        donation_account=DONATION_ACCOUNT,
        donation_partner="Red Cross",
        reconcile_interval_seconds=3600,
        stripe_max_retries=0,
    )
    if database_url is not None:
        values["database_url"] = database_url
    provider_driver = driver(provider, f"http://127.0.0.1:{sandbox_port}")
    values.update(provider_driver.settings())
    if pos:
        values.update(pos_settings(f"http://127.0.0.1:{sandbox_port}"))
    values.update(overrides)
    settings = Settings(**values)
    service_app = create_app(settings, background=background, **({"clock": clock} if clock else {}))
    token = issue_kiosk_token(service_app.state.repo, "kiosk-1", manager=True)
    with (
        LiveServer(sandbox_app, sock=sandbox_socket) as sandbox,
        LiveServer(service_app, sock=service_socket) as service,
    ):
        service.app = service_app  # type: ignore[attr-defined]
        harness = Harness(sandbox, service, settings, token, provider_driver)
        try:
            yield harness
        finally:
            harness.kiosk.close()
            harness.stripe_http.close()
            provider_driver.http.close()
