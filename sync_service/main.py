"""Entry points the `tablepay sync` command calls."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, TypeVar

from .settings import Settings

if TYPE_CHECKING:
    from .services.payment_events import PaymentEvents

T = TypeVar("T")


def freeze_startup_objects() -> None:
    """Move everything alive after start-up out of the cyclic GC's reach.

    The app, its routes, models and the SDKs are hundreds of thousands of
    objects that live for ever; without this every full collection walks
    them all and stalls the event loop for ~50 ms (seen in bench/webhooks.py).
    """
    import gc

    gc.collect()
    gc.freeze()


def port_is_free(host: str, port: int) -> bool:
    """Whether a server could listen there now (as uvicorn binds: a port in TIME_WAIT counts as free)."""
    import socket

    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


def serve(settings: Settings, host: str, port: int) -> None:
    if not port_is_free(host, port):
        raise SystemExit(
            f"tablepay sync: port {port} on {host} is in use (another `tablepay sync` or "
            "`tablepay demo`?). Stop it, or pass --port."
        )
    from .api.app import create_app
    from .logs import configure_logging

    configure_logging()
    app = create_app(settings, public_url=f"http://{host}:{port}")
    freeze_startup_objects()
    import structlog

    structlog.get_logger(__name__).info(
        "sync_service_listening",
        url=f"http://{host}:{port}",
        docs=f"http://{host}:{port}/docs",
        provider=settings.provider,
        payments=settings.payments_target,
        data=settings.storage_target,
    )
    from .server import run

    run(app, settings, host, port)


def add_kiosk(settings: Settings, kiosk_id: str, *, manager: bool = False) -> str:
    """Issue (or replace) the bearer token of a kiosk; only its hash is stored. `manager`: it may refund."""
    from .api.auth import issue_kiosk_token
    from .storage.db import open_storage
    from .storage.repository import Repository

    return issue_kiosk_token(Repository(open_storage(settings)), kiosk_id, manager=manager)


def approve_pairing_code(
    settings: Settings, code: str, kiosk_id: str, *, manager: bool = False, collect_wait: float = 0.0
) -> tuple[Any, bool]:
    """Attach `kiosk_id` to the code a kiosk shows (its next poll collects a new token); then wait up to
    `collect_wait` seconds for that collection. Returns (ApprovalResult, collected)."""
    import time

    from .api.auth import mint_token
    from .services.pairing import Approval, PairingCodes
    from .storage.db import open_storage
    from .storage.pairing_repository import PairingRepository
    from .storage.repository import Repository

    codes = PairingCodes(PairingRepository(Repository(open_storage(settings))), mint=mint_token)
    result = codes.approve(code, kiosk_id, manager=manager)
    if result.outcome is not Approval.APPROVED:
        return result, False
    # The kiosk long-polls and the service checks twice a second: a kiosk on its pairing screen
    # collects within a second. Wait only to tell the operator; the approval stands until expiry.
    deadline = time.monotonic() + collect_wait
    while not (collected := codes.collected(code)) and time.monotonic() < deadline:
        time.sleep(0.2)
    return result, collected


def revoke_kiosk(settings: Settings, kiosk_id: str) -> str | None:
    """Revoke the kiosk's token (401 from its next request on); when it was revoked, None if no such kiosk."""
    from .api.auth import revoke_kiosk_token
    from .storage.db import open_storage
    from .storage.repository import Repository

    return revoke_kiosk_token(Repository(open_storage(settings)), kiosk_id)


def _with_service(settings: Settings, work: Callable[[Any], Awaitable[T]]) -> T:
    """Run `work(app)` against the service's store and provider, beside a running service if there is one."""
    import asyncio

    from .api.app import create_app

    app = create_app(settings, background=False)

    async def run() -> T:
        try:
            return await work(app)
        finally:
            await app.state.provider.aclose()
            if app.state.pos is not None:
                await app.state.pos.client.aclose()

    return asyncio.run(run())


def run_backfill(settings: Settings, since_seconds: int) -> str:
    """Apply the provider's events of the last `since_seconds` that this service never saw."""
    from .services.backfill import backfill

    async def work(app: Any) -> str:
        return str(await backfill(app.state.provider, app.state.payment_events, since_seconds))

    return _with_service(settings, work)


def replay_webhooks(settings: Settings, request_id: int | None = None) -> dict[int, str]:
    """Process again stored webhook requests whose processing failed; request id -> outcome."""

    async def work(app: Any) -> dict[int, str]:
        events: PaymentEvents = app.state.payment_events
        return await events.replay_failed(app.state.provider, request_id)

    return _with_service(settings, work)


def partners_of(settings: Settings) -> Any:
    """The partners' use cases (services/partners.py) on the service's store."""
    from .services.partners import Partners, UrlPolicy
    from .storage.db import open_storage
    from .storage.repository import Repository

    policy = UrlPolicy(allow_http=settings.allow_http_webhooks, allow_private=settings.allow_private_webhooks)
    return Partners(Repository(open_storage(settings)), policy, time_factor=settings.partner_retry_time_factor)


def partner_deliveries(settings: Settings, *, failed: bool, replay: int | None) -> list[dict[str, Any]]:
    """Partners' webhook deliveries (newest first), or the one replayed (empty: no failed delivery of that id).
    A replayed delivery is sent by the running service's worker, within half a second."""
    from .api.app import create_app

    app = create_app(settings, background=False)
    if replay is not None:
        row = app.state.partner_webhooks.replay(replay)
        return [row] if row else []
    return list(app.state.repo.partner_deliveries(failed=failed))
