"""The app factory: composes settings, storage, provider and use cases into one ASGI app."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from tablepay_domain.order import KitchenMode, Limits

from .. import __doc__ as service_doc
from ..pos.config import PosConfig, connection_from
from ..pos.rkeeper_client import RKeeperClient
from ..providers.base import PaymentProvider
from ..providers.mollie_gateway import MollieGateway
from ..providers.stripe_gateway import StripeGateway
from ..services.bills import BillService
from ..services.checkout import CheckoutError, CheckoutService
from ..services.donations import DonationReversals, DonationTransfers
from ..services.feed import Feed, FeedNotifier
from ..services.outbox import Handler, OutboxWorker, WorkSignal
from ..services.pairing import PairingCodes
from ..services.partner_events import PartnerEvents
from ..services.partner_orders import MenuPrices, PartnerOrders, file_menu, prices_of
from ..services.partner_webhooks import PartnerWebhookWorker
from ..services.partners import Partners, UrlPolicy
from ..services.payment_events import DONATION_REVERSAL_TOPIC, DONATION_TOPIC, PaymentEvents
from ..services.pos_delivery import PosDelivery
from ..services.pos_menu import menu_from_pos
from ..services.pos_orders import PACKAGE_TOPIC, PAYMENT_TOPIC, TOPICS, PosOrders
from ..services.reconcile import Reconciler
from ..services.refunds import RefundService
from ..settings import Settings
from ..storage.checkpoint import BackgroundCheckpointer
from ..storage.db import open_storage
from ..storage.pairing_repository import PairingRepository
from ..storage.pos_repository import PosRepository
from ..storage.postgres import PostgresDatabase, listen_for_feed
from ..storage.refund_repository import RefundRepository
from ..storage.repository import Repository
from . import (
    bill_routes,
    kiosk_routes,
    mollie_webhook,
    page_headers,
    pages,
    pairing_routes,
    partner_routes,
    pos_routes,
    webhook_routes,
)
from .auth import mint_token
from .body_limit import BodyLimit
from .feed_fast_path import FeedFastPath
from .source_budget import SourceBudget


def _error(http_status: int, code: str, message: str, **details: Any) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message, **details}}, status_code=http_status)


# pydantic's own words where they would puzzle a reader. A lone surrogate (JSON "\ud800") is
# refused while the body is parsed, before schemas.PrintableText sees it.
_CLEARER = {"string_unicode": "must not contain a lone surrogate (not valid Unicode): use printable text only"}


def _validation_message(exc: RequestValidationError) -> str:
    parts = []
    for error in exc.errors():
        where = ".".join(str(part) for part in error.get("loc", ()) if part != "body")
        message = _CLEARER.get(str(error.get("type")), error.get("msg"))
        parts.append(f"{where}: {message}" if where else str(message))
    return "; ".join(parts)


@dataclass(frozen=True)
class Pos:
    """The POS sync's parts, present when RKEEPER_URL is set."""

    orders: PosOrders
    client: RKeeperClient
    config: PosConfig
    handlers: dict[str, Handler]  # the outbox topics it delivers


def _build_pos(settings: Settings, repo: Repository, notifier: FeedNotifier, work: WorkSignal) -> Pos | None:
    if not settings.pos_enabled:
        return None
    pos_repo = PosRepository(repo)
    orders = PosOrders(repo, pos_repo, notifier, work, kitchen=KitchenMode(settings.kitchen))
    client = RKeeperClient(connection_from(settings))
    config = PosConfig.from_settings(settings)
    delivery = PosDelivery(repo, pos_repo, orders, client, config)
    return Pos(
        orders, client, config, {PACKAGE_TOPIC: delivery.deliver_package, PAYMENT_TOPIC: delivery.deliver_payment}
    )


def _menu_prices(pos: Pos | None, settings: Settings) -> MenuPrices:
    """Partner orders' prices: the POS's menu when a POS is configured, else resources/menu.json."""
    if pos is None:
        return file_menu()

    async def from_pos(currency: str) -> dict[str, tuple[str, int]]:
        return prices_of(await menu_from_pos(pos.client, pos.config, currency))

    return from_pos


def build_provider(settings: Settings, public_url: str) -> PaymentProvider:
    """The provider TABLEPAY_PROVIDER names, with its own settings."""
    if settings.provider == "mollie":
        return MollieGateway(
            settings.mollie_key,
            webhook_url=f"{public_url}{mollie_webhook.PATH}",
            api_base=settings.mollie_api_base,
            timeout=settings.mollie_timeout_seconds,
            max_retries=settings.mollie_max_retries,
        )
    return StripeGateway(
        settings.stripe_key,
        settings.webhook_secrets,
        api_base=settings.stripe_api_base,
        timeout=settings.stripe_timeout_seconds,
        max_retries=settings.stripe_max_retries,
    )


def create_app(
    settings: Settings,
    *,
    provider: PaymentProvider | None = None,
    public_url: str = "http://127.0.0.1:8787",
    background: bool = True,
    clock: Callable[[], float] = time.time,
) -> FastAPI:
    """Build the sync service. `background=False` leaves the outbox and reconciler loops off (tests drive them);
    `clock` (epoch seconds) is what pairing codes expire by (tests move it instead of waiting ten minutes)."""
    db = open_storage(settings)
    repo = Repository(db)
    provider = provider or build_provider(settings, settings.public_url or public_url)
    notifier = FeedNotifier()
    # Each part gets what it needs when it is built: the signal first, so producers and the worker share it.
    work = WorkSignal()
    pos = _build_pos(settings, repo, notifier, work)
    pos_orders = pos.orders if pos else None
    partner_work = WorkSignal()
    payment_events = PaymentEvents(
        repo,
        notifier,
        provider=provider,
        donation_account=settings.donation_destination,
        donation_partner=settings.donation_partner,
        work=work,
        pos=pos_orders,
        partners=PartnerEvents(repo, partner_work),
    )
    checkouts = CheckoutService(
        repo,
        provider,
        payment_events,
        notifier,
        limits=Limits(max_total=settings.max_total),
        public_url=settings.public_url or public_url,
        ttl_seconds=settings.checkout_ttl_seconds,
        donations_enabled=settings.donation_destination is not None,
        donation_label=f"Donation to {settings.donation_partner}",
        pos=pos_orders,
        kitchen=KitchenMode(settings.kitchen),
    )
    bills = BillService(
        repo,
        checkouts,
        payment_events,
        notifier,
        provider,
        public_url=settings.public_url or public_url,
        hold_seconds=settings.share_hold_seconds,
        max_total=settings.max_total,
        donation_partner=settings.donation_partner,
    )
    outbox = OutboxWorker(
        repo,
        {
            DONATION_TOPIC: DonationTransfers(repo, provider),
            DONATION_REVERSAL_TOPIC: DonationReversals(repo, provider),
            **(pos.handlers if pos else {}),
        },
        max_attempts=settings.outbox_max_attempts,
        work=work,
        observers=dict.fromkeys(TOPICS, pos.orders) if pos else {},
        backoff_base=settings.outbox_backoff_base_seconds,
        backoff_cap=settings.outbox_backoff_cap_seconds,
        lease_seconds=settings.outbox_lease_seconds,
    )
    policy = UrlPolicy(allow_http=settings.allow_http_webhooks, allow_private=settings.allow_private_webhooks)
    partners = Partners(repo, policy, time_factor=settings.partner_retry_time_factor)
    partner_webhooks = PartnerWebhookWorker(
        repo,
        partners,
        policy,
        work=partner_work,
        timeout=settings.partner_webhook_timeout_seconds,
        concurrency=settings.partner_webhook_concurrency,
        time_factor=settings.partner_retry_time_factor,
        keep_days=settings.partner_deliveries_days,
    )
    reconciler = Reconciler(
        repo,
        checkouts,
        payment_events,
        after_seconds=settings.reconcile_after_seconds,
        interval_seconds=settings.reconcile_interval_seconds,
        keep_requests_days=settings.webhook_requests_days,
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # A lapsed hold is looked at within a tenth of the hold (at most 5 s): its checkout stopped soon after.
        hold_every = max(0.2, min(5.0, settings.share_hold_seconds / 10))
        jobs = (outbox.run, partner_webhooks.run, reconciler.run, lambda: bills.run(hold_every)) if background else ()
        tasks = [asyncio.create_task(job()) for job in jobs]
        if isinstance(db, PostgresDatabase):  # another instance's commits wake this one's long polls
            tasks.append(asyncio.create_task(listen_for_feed(db.url, notifier.notify, notifier.notify_all)))
        # SQLite's WAL is checkpointed off the loop; PostgreSQL checkpoints itself.
        checkpointer = None if isinstance(db, PostgresDatabase) else BackgroundCheckpointer(settings.database_path)
        if checkpointer is not None:
            checkpointer.start()
        try:
            yield
        finally:
            if checkpointer is not None:
                checkpointer.stop()
            for task in tasks:
                task.cancel()
            for task in tasks:
                with suppress(asyncio.CancelledError):
                    await task
            await provider.aclose()
            await partner_webhooks.aclose()
            if pos is not None:
                await pos.client.aclose()
            if isinstance(db, PostgresDatabase):
                db.close()

    app = FastAPI(title="TablePay sync service", version="0.1.0", description=service_doc or "", lifespan=lifespan)
    app.state.settings = settings
    app.state.repo = repo
    app.state.provider = provider
    app.state.payment_events = payment_events
    app.state.checkouts = checkouts
    app.state.bills = bills
    app.state.bill_state_budget = bill_routes.state_budget()
    app.state.bill_share_budget = bill_routes.share_budget()
    app.state.feed = Feed(repo, notifier)
    app.state.outbox = outbox
    app.state.reconciler = reconciler
    app.state.partners = partners
    app.state.partner_webhooks = partner_webhooks
    app.state.partner_orders = PartnerOrders(repo, checkouts, _menu_prices(pos, settings))
    app.state.pos = pos
    app.state.refunds = RefundService(repo, RefundRepository(repo), provider)
    app.state.rejected_budget = SourceBudget()
    app.state.pairing = PairingCodes(PairingRepository(repo), mint=mint_token, clock=clock)
    app.state.pairing_create_budget = pairing_routes.create_budget()
    app.state.pairing_poll_budget = pairing_routes.poll_budget()

    @app.exception_handler(CheckoutError)
    async def _checkout_error(request: Request, exc: CheckoutError) -> JSONResponse:
        return _error(exc.status_code, exc.code, exc.message, **exc.details)

    @app.exception_handler(HTTPException)
    async def _http_error(request: Request, exc: HTTPException) -> JSONResponse:
        code = {401: "unauthorized", 403: "forbidden", 404: "not_found", 429: "rate_limited"}.get(
            exc.status_code, "error"
        )
        response = _error(exc.status_code, code, str(exc.detail))
        response.headers.update(exc.headers or {})
        return response

    @app.exception_handler(RequestValidationError)
    async def _invalid_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        return _error(422, "invalid_request", _validation_message(exc))

    @app.get("/healthz", tags=["ops"])
    async def healthz() -> dict[str, str]:
        repo.conn.execute("SELECT 1").fetchone()
        return {"status": "ok"}

    # The webhook route first: it is the hot path, matched before any other; the fast path
    # middleware serves it without routing or dependency injection.
    app.include_router(webhook_routes.router)
    if isinstance(provider, MollieGateway):  # served (and documented) only where Mollie is the provider
        app.include_router(mollie_webhook.router)
    app.add_middleware(page_headers.HtmlHeaders)  # added first, so it sits inside the webhook fast path
    app.add_middleware(FeedFastPath, repo=repo, notifier=notifier)
    app.add_middleware(
        webhook_routes.WebhookFastPath, provider=provider, events=payment_events, budget=app.state.rejected_budget
    )
    app.include_router(kiosk_routes.router)
    app.include_router(pos_routes.router)
    app.include_router(pairing_routes.router)
    app.include_router(pages.router)
    app.include_router(bill_routes.kiosk_router)
    app.include_router(bill_routes.guest_router)
    app.include_router(partner_routes.router)
    app.include_router(partner_routes.manager_router)
    # Added last, so it runs first: a body over its limit is refused before routing or authentication.
    # A webhook may be read a little past its own limit, so an oversize forgery can be recognised.
    app.add_middleware(
        BodyLimit, default=settings.max_body_bytes, limits={webhook_routes.PATH: webhook_routes.READ_LIMIT_BYTES}
    )
    return app
