"""`tablepay demo`: the sandbox and the sync service on loopback, wired together, offline.

The sandbox plays the payment provider: Stripe by default, Mollie with --provider mollie
(its fake at /v2 and its hosted checkout page; PROVIDERS). By default the Qt kiosk runs
against them (its settings PIN is DEMO_PIN); each checkout URL is also printed, because
the demo listens on 127.0.0.1 and a phone cannot reach it. With --terminal (or on a
machine without a display) the terminal plays the kiosk: it sends a sample order, shows
the checkout QR code and URL, and prints every event of the feed, so the newcomer sees a
payment turn PAID only when the service says so.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
import secrets
import shlex
import signal
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import httpx
import segno
import uvicorn
from pydantic import SecretStr

from sync_service.api.app import create_app
from sync_service.api.auth import issue_kiosk_token
from sync_service.logs import configure_logging
from sync_service.main import port_is_free
from sync_service.settings import Settings
from tablepay_domain.money import Money
from tablepay_files import open_private, private_dir, write_private
from tablepay_sandbox.app import create_app as create_sandbox
from tablepay_sandbox.rkeeper.seed import client_settings

DEMO_KEY = "sk_test_tablepay_demo"
DEMO_MOLLIE_KEY = "test_tablepayDemoMollieSandbox0000"  # a test key: the sandbox takes any test_ key
DEMO_ORGANIZATION = "org_1RedCross"  # the Mollie fake's default connected organisation (MollieOptions)
POS_GRACE_SECONDS = 10  # --once waits this long after PAID for the POS booking
DEMO_PIN = "1234"  # the demo kiosk's settings and manager PIN (long-press the logo; Manager); printed at start
SAMPLE_ORDER = {
    "currency": "EUR",
    "table": "7",
    "waiter": "Demo",
    "lines": [
        {"sku": "MARG", "name": "Pizza margherita", "quantity": 2, "unit_amount": 950},
        {"sku": "LEMO", "name": "Lemonade", "quantity": 2, "unit_amount": 350},
    ],
    "tip_amount": 260,
    "donation_amount": 100,
}


@dataclass(frozen=True)
class DemoProvider:
    """The provider the sandbox plays: where its demo keeps its data, what the demo calls it, and
    what the guest presses on its hosted checkout page to pay."""

    folder: str  # inside the data dir
    sandbox: str  # for the start-up line
    pay: str


PROVIDERS = {
    "stripe": DemoProvider(folder="demo", sandbox="Stripe sandbox", pay="press Pay"),
    # A folder of its own: the service's store keeps each payment's provider, and a Stripe session
    # must not be looked up at Mollie (nor a kiosk's Stripe history shown against a Mollie service).
    # Mollie's test-mode page has no card form: the guest picks the outcome.
    "mollie": DemoProvider(
        folder="demo-mollie", sandbox="Mollie sandbox", pay="press Paid (or Failed, Canceled, Expired)"
    ),
}


def _provider_settings(provider: str, sandbox_url: str, data_dir: Path) -> dict[str, Any]:
    """The service's payment settings for the provider the sandbox plays (the rest is shared)."""
    if provider == "mollie":
        # Mollie signs nothing and calls each payment's own webhookUrl: no secret, no endpoint to register.
        return {
            "provider": "mollie",
            "mollie_api_key": SecretStr(DEMO_MOLLIE_KEY),
            "mollie_api_base": sandbox_url,
            "stripe_secret_key": None,
            "stripe_webhook_secret": None,
            "mollie_split_payments": True,  # the donation is routed to the partner's organisation
            "donation_organization": DEMO_ORGANIZATION,
        }
    return {
        "stripe_secret_key": SecretStr(DEMO_KEY),
        "stripe_webhook_secret": SecretStr(_webhook_secret(data_dir)),
        "stripe_api_base": sandbox_url,
        "donation_account": "acct_demo_redcross",
    }


def _webhook_secret(data_dir: Path) -> str:
    """One secret per demo data dir, kept so a restarted demo still verifies its webhooks."""
    path = data_dir / "demo-webhook-secret"
    if not path.exists():
        write_private(path, f"whsec_demo_{secrets.token_hex(16)}")
    return path.read_text().strip()


def _revealed(secret: SecretStr | None) -> str | None:
    return secret.get_secret_value() if secret else None


def _write_env_file(data_dir: Path, settings: Settings) -> Path:
    """The demo service's settings as `KEY=value` lines, so other commands can talk to it:
    `set -a; . demo.env; set +a; tablepay sync add-kiosk bar-1` (or `check-config`, `backfill`)."""
    values = {
        "TABLEPAY_PROVIDER": settings.provider,
        "STRIPE_SECRET_KEY": _revealed(settings.stripe_secret_key),
        "STRIPE_WEBHOOK_SECRET": _revealed(settings.stripe_webhook_secret),
        "STRIPE_API_BASE": settings.stripe_api_base,
        "MOLLIE_API_KEY": _revealed(settings.mollie_api_key),
        "MOLLIE_API_BASE": settings.mollie_api_base,
        "MOLLIE_SPLIT_PAYMENTS": "true" if settings.mollie_split_payments else None,
        "TABLEPAY_DONATION_ORGANIZATION": settings.donation_organization,
        "TABLEPAY_DATA_DIR": str(settings.data_dir),
        "TABLEPAY_PUBLIC_URL": settings.public_url,
        "TABLEPAY_DONATION_ACCOUNT": settings.donation_account,
        "TABLEPAY_DONATION_PARTNER": settings.donation_partner,
        "RKEEPER_URL": settings.rkeeper_url,
        "RKEEPER_USER": settings.rkeeper_user,
        "RKEEPER_PASSWORD": _revealed(settings.rkeeper_password),
        "RKEEPER_STATION_CODE": settings.rkeeper_station_code,
        "RKEEPER_CASHIER_CODE": settings.rkeeper_cashier_code,
        "RKEEPER_WAITER_CODE": settings.rkeeper_waiter_code,
        "RKEEPER_CURRENCY_ID": settings.rkeeper_currency_id,
        "RKEEPER_TIP_CHARGE_CODE": settings.rkeeper_tip_charge_code,
        "RKEEPER_TIP_DISH_CODE": settings.rkeeper_tip_dish_code,
        "RKEEPER_TABLES": settings.rkeeper_tables,
    }
    # Sandbox-only secrets (sk_test_ for the local sandbox, a generated webhook secret): fine on disk, mode 600.
    return write_private(
        data_dir / "demo.env", "".join(f"{key}={shlex.quote(value)}\n" for key, value in values.items() if value)
    )


def _lock_data_dir(data_dir: Path) -> IO[str]:
    """One demo per data dir: a second one would replace the first one's kiosk token."""
    handle = os.fdopen(open_private(private_dir(data_dir) / "demo.lock"), "w")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        handle.close()
        raise SystemExit(
            f"demo: another demo is running with the data dir {data_dir}. Stop it, or give this one "
            "its own: --data-dir DIR (and --sandbox-port / --sync-port)."
        ) from None
    return handle


class _EmbeddedServer(uvicorn.Server):
    """A uvicorn server that leaves Ctrl+C to the demo, which stops everything at once.

    uvicorn's own handler would only stop the servers, leaving the kiosk
    waiting on a long poll to a service that is gone.
    """

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def _server(app: Any, host: str, port: int) -> uvicorn.Server:
    # A kiosk's long poll must not hold the shutdown for its full 30 s.
    # log_config=None: uvicorn's records go through the demo's logging (sync_service.logs), not its own.
    return _EmbeddedServer(
        uvicorn.Config(
            app,
            host=host,
            port=port,
            log_level="warning",
            access_log=False,
            log_config=None,
            timeout_graceful_shutdown=2,
        )
    )


def _stop_on_signals(stop: asyncio.Event) -> None:
    """Ctrl+C or `kill` ends the demo cleanly, on asyncio's loop and on qasync's alike.

    signal.signal rather than loop.add_signal_handler (which qasync lacks);
    it also undoes the SIG_IGN a script's background job starts with.
    """
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: loop.call_soon_threadsafe(stop.set))


def _ports_free(host: str, ports: list[int]) -> None:
    for port in ports:
        if not port_is_free(host, port):
            raise SystemExit(
                f"demo: port {port} on {host} is in use (another `tablepay demo`, sandbox or "
                "sync service?). Stop it, or pass --sandbox-port / --sync-port."
            )


async def _events(client: httpx.AsyncClient, params: dict[str, int]) -> dict[str, Any]:
    response = await client.get("/v1/events", params=params)
    if response.status_code != 200:
        raise SystemExit(
            f"demo: the sync service refused this demo's kiosk ({response.status_code}: {response.text[:200]})"
        )
    return dict(response.json())


async def _terminal_kiosk(service_url: str, token: str, *, once: bool, pay: str) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=service_url, headers=headers, timeout=httpx.Timeout(10, read=40)) as client:
        cursor = 0
        while page := (await _events(client, {"after": cursor, "limit": 500}))["events"]:
            cursor = page[-1]["seq"]  # earlier demo runs' events are history, not news
        order = {**SAMPLE_ORDER, "order_id": f"demo-{uuid.uuid4().hex[:8]}", "kiosk_id": "demo-kiosk"}
        response = await client.post("/v1/checkouts", json=order, headers={"Idempotency-Key": str(order["order_id"])})
        response.raise_for_status()
        payment = response.json()
        amount = Money(payment["amount_total"], payment["currency"])
        print(f"\nTable {order['table']}: {amount} (tip and donation included). Guest, scan or open, then {pay}:\n")
        segno.make(payment["checkout_url"], error="m").terminal(compact=True)  # prints to stdout
        print(f"\n  {payment['checkout_url']}\n\nWaiting for the sync service to report the payment ...")
        paid, booked, paid_since = False, False, 0.0
        while True:
            # With --once: end when the POS has booked it too, or a few seconds after PAID at the latest.
            if once and paid and (booked or time.monotonic() - paid_since > POS_GRACE_SECONDS):
                return
            page = await _events(client, {"after": cursor, "wait": 2 if paid else 30})
            for event in page["events"]:
                state = event.get("pos_status") or event["status"]
                print(f"  feed #{event['seq']}: {event['event']} ({state}) order {event['order_id']}")
                if event["payment_id"] == payment["payment_id"] and event["status"] == "paid":
                    print(f"\n  PAID: {amount} for table {order['table']}.\n")
                    paid, paid_since = True, time.monotonic()
                if event["order_id"] == order["order_id"] and event["event"] == "pos.paid":
                    print("  The restaurant's POS (R-Keeper simulator) has the order paid and closed.\n")
                    booked = True
            cursor = page["next_after"]


async def _qt_kiosk(data_dir: Path, service_url: str, token: str, *, pay: str) -> None:
    """The real kiosk, paired with this demo's service; returns when its window closes."""
    from PySide6.QtWidgets import QApplication

    from pos_app.app import build_kiosk, settle
    from pos_app.pin import hash_pin
    from pos_app.secrets import Pairing
    from pos_app.settings import KioskSettings

    kiosk = build_kiosk(
        data_dir / "kiosk",
        KioskSettings(
            kiosk_id="demo-kiosk",
            waiter="Demo",
            donation_partner="Red Cross (demo)",
            settings_pin_hash=hash_pin(DEMO_PIN),
            manager_pin_hash=hash_pin(DEMO_PIN),
        ),
        Pairing(service_url, token),
    )
    checkout_vm = kiosk.checkout_vm

    def print_checkout_url(state: str) -> None:
        attempt = getattr(checkout_vm, "attempt", None)
        if state == "waiting" and attempt is not None and attempt.checkout_url:
            print(f"  checkout for {attempt.payment_id}: open {attempt.checkout_url} and {pay}", flush=True)

    checkout_vm.stateChanged.connect(print_checkout_url)
    closed = asyncio.get_running_loop().create_future()
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    app.setQuitOnLastWindowClosed(False)  # the demo stops its servers first, then the loop ends
    app.lastWindowClosed.connect(lambda: settle(closed))
    kiosk.window.show()
    kiosk.start()
    print(
        f"Kiosk window open: pick a table, add dishes, Checkout, then open the printed URL and {pay}.\n"
        f"Settings: hold the TablePay logo for 2 s, PIN {DEMO_PIN}. "
        f"Manager mode (history, totals, refunds): the Manager button, the same PIN {DEMO_PIN}.",
        flush=True,
    )
    try:
        await closed
    finally:
        kiosk.window.close()
        await kiosk.aclose()


async def run_demo(
    data_dir: Path,
    *,
    host: str = "127.0.0.1",
    sandbox_port: int = 12111,
    sync_port: int = 8787,
    once: bool = False,
    kiosk: bool = False,
    provider: str = "stripe",
) -> None:
    """Terminal kiosk by default here; with kiosk=True (on a qasync loop) the Qt kiosk instead.
    `provider`: the one the sandbox plays for the service, stripe or mollie (PROVIDERS)."""
    played = PROVIDERS[provider]
    configure_logging("WARNING")
    lock = _lock_data_dir(data_dir)  # noqa: F841 - held until the demo ends (released with the process)
    _ports_free(host, [sandbox_port, sync_port])
    sandbox_url, service_url = f"http://{host}:{sandbox_port}", f"http://{host}:{sync_port}"
    settings = Settings(
        **_provider_settings(provider, sandbox_url, data_dir),
        data_dir=data_dir / "sync",
        public_url=service_url,
        donation_partner="Red Cross (demo)",
        reconcile_interval_seconds=10,
        reconcile_after_seconds=20,
        outbox_backoff_cap_seconds=30,
        **client_settings(sandbox_url),
    )
    secret = _revealed(settings.stripe_webhook_secret)  # None with Mollie
    sandbox = create_sandbox(
        data_dir / "sandbox",
        public_url=sandbox_url,
        webhook_url=f"{service_url}/webhooks/stripe" if secret else None,
        webhook_secret=secret,
    )
    service = create_app(settings, public_url=service_url)
    token = issue_kiosk_token(service.state.repo, "demo-kiosk", manager=True)
    env_file = _write_env_file(data_dir, settings)
    servers = [_server(sandbox, host, sandbox_port), _server(service, host, sync_port)]
    tasks = [asyncio.create_task(server.serve()) for server in servers]
    while not all(server.started for server in servers):
        if any(task.done() for task in tasks):
            raise SystemExit("demo: a server could not start (is the port already in use?)")
        await asyncio.sleep(0.05)
    print(
        f"TablePay demo (offline): {played.sandbox} {sandbox_url}, sync service {service_url} "
        f"(API docs {service_url}/docs). Data in {data_dir}. Ctrl+C stops.\n"
        f"Other commands reach this demo's service with its settings: set -a; . {env_file}; set +a"
    )
    stop = asyncio.Event()
    _stop_on_signals(stop)
    front = asyncio.create_task(
        _qt_kiosk(data_dir, service_url, token, pay=played.pay)
        if kiosk
        else _terminal_kiosk(service_url, token, once=once, pay=played.pay)
    )
    stopper = asyncio.create_task(stop.wait())
    try:
        await asyncio.wait({front, stopper}, return_when=asyncio.FIRST_COMPLETED)
        if front.done():
            front.result()  # a kiosk that failed says why
        else:
            print("\ndemo stopped", flush=True)
    finally:
        for task in (front, stopper):
            task.cancel()
        await asyncio.gather(front, stopper, return_exceptions=True)
        for server in servers:
            server.should_exit = True
        await asyncio.gather(*tasks, return_exceptions=True)
