"""`create_app`: the sandbox as one ASGI app (Starlette).

The lifespan opens SQLite, registers the startup webhook endpoint and starts
the delivery worker on the server's own loop, so `create_app` itself does no
I/O and an app can be built in one thread and served in another.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from . import api_checkout, api_events, api_payments, checkout_page, control
from .errors import StripeError
from .idempotency import StripeEnvelope
from .mollie import api as mollie_api
from .mollie import checkout as mollie_checkout
from .mollie import control as mollie_control
from .mollie import errors as mollie_errors
from .mollie.envelope import MollieEnvelope
from .mollie.options import MollieOptions
from .mollie.runtime import Mollie
from .mollie.webhooks import WebhookWorker
from .rkeeper.options import DEFAULT_PASSWORD, DEFAULT_USER, RKeeperOptions
from .rkeeper.routes import Simulator, make_routes
from .runtime import Options, Runtime
from .sandbox import Sandbox
from .store import Obj, Store
from .webhooks import DeliveryWorker

# A child of uvicorn's logger, so `tablepay sandbox` prints our lines next to uvicorn's own.
log = logging.getLogger("uvicorn.error.tablepay_sandbox")

DB_NAME = "sandbox.sqlite"
STARTUP_MARK = "tablepay_sandbox_startup"


def _register_startup_endpoint(rt: Runtime) -> None:
    """Idempotent across restarts: reuse the endpoint with the same url (and secret, if given)."""
    if not rt.webhook_url:
        return
    store = rt.sandbox.store
    found: Obj | None = None
    for endpoint in store.all_of("webhook_endpoint"):
        secret = store.private(endpoint["id"]).get("secret")
        same_secret = secret == rt.webhook_secret if rt.webhook_secret_given else STARTUP_MARK in endpoint["metadata"]
        if endpoint["url"] == rt.webhook_url and same_secret:
            found = {**endpoint, "secret": secret}
            break
    if found is None:
        found = api_events.create_endpoint(
            rt,
            rt.webhook_url,
            ["*"],
            secret=rt.webhook_secret,
            description="Registered by `tablepay sandbox --webhook-url`",
            metadata={STARTUP_MARK: "true"},
        )
    rt.webhook_secret = found["secret"]
    # Printed in full only when generated: a sandbox test secret that signs nothing but local
    # test events, and the operator needs it for the service's configuration.
    shown = "(as given)" if rt.webhook_secret_given else found["secret"]
    log.info("webhook endpoint %s -> %s, signing secret %s", found["id"], rt.webhook_url, shown)


async def _stripe_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StripeError)
    return JSONResponse(exc.body(), exc.status)


async def _server_error(request: Request, exc: Exception) -> Response:
    return JSONResponse({"error": {"type": "api_error", "message": f"Sandbox error: {exc}"}}, 500)


async def _unrecognized(request: Request) -> Response:
    return JSONResponse(
        {
            "error": {
                "type": "invalid_request_error",
                "message": f"Unrecognized request URL ({request.method}: {request.url.path}). "
                "Please see https://stripe.com/docs or we can help at https://support.stripe.com/.",
            }
        },
        404,
    )


def create_app(
    data_dir: Path,
    *,
    public_url: str,
    webhook_url: str | None = None,
    webhook_secret: str | None = None,
    options: Options | None = None,
    rkeeper_user: str = DEFAULT_USER,
    rkeeper_password: str = DEFAULT_PASSWORD,
    rkeeper_options: RKeeperOptions | None = None,
    mollie_options: MollieOptions | None = None,
) -> Starlette:
    """Build the sandbox. `options` tunes retries and timers (tests shorten them).

    Besides Stripe it serves an R-Keeper 7 XML-interface simulator at
    `POST /rk7api/v0/xmlinterface.xml` (Basic auth `rkeeper_user`/`rkeeper_password`;
    `rkeeper_options` for the behaviour no source confirms), and Mollie's Payments API v2 under
    `/v2/...` beside Stripe (`mollie_options` for its knobs). See docs/sandbox.md.
    """
    rt = Runtime(
        data_dir=Path(data_dir),
        public_url=public_url.rstrip("/"),
        options=options or Options(),
        webhook_url=webhook_url,
        webhook_secret=webhook_secret,
        webhook_secret_given=webhook_secret is not None,
    )
    rkeeper = Simulator(Path(data_dir), rkeeper_user, rkeeper_password, rkeeper_options or RKeeperOptions())
    mollie = Mollie(Path(data_dir), rt.public_url, mollie_options or MollieOptions())

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        store = Store(rt.data_dir / DB_NAME)
        rt.start(Sandbox(store, rt.public_url))
        rkeeper.start()
        _register_startup_endpoint(rt)
        worker = DeliveryWorker(rt)
        app.state.worker = worker
        worker.start()
        mollie.start()
        mollie_worker = WebhookWorker(mollie)
        app.state.mollie_worker = mollie_worker
        mollie_worker.start()
        try:
            yield
        finally:
            await mollie_worker.stop()
            await worker.stop()
            store.close()
            rkeeper.stop()
            mollie.stop()

    routes = [
        *api_checkout.routes,
        *api_payments.routes,
        *api_events.routes,
        *checkout_page.routes,
        *control.routes,
        *make_routes(rkeeper),
        *mollie_api.routes,
        *mollie_checkout.routes,
        *mollie_control.routes,
        Route("/v1/{path:path}", _unrecognized, methods=["GET", "POST", "DELETE"]),
    ]
    app = Starlette(
        routes=routes,
        lifespan=lifespan,
        middleware=[Middleware(StripeEnvelope, runtime=rt), Middleware(MollieEnvelope, mollie=mollie)],
        exception_handlers={
            StripeError: _stripe_error,
            mollie_errors.MollieError: mollie_errors.handle,
            Exception: _server_error,
        },
    )
    app.state.runtime = rt
    app.state.rkeeper = rkeeper
    app.state.mollie = mollie
    return app
