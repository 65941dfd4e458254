"""Entry points the `tablepay sync` command calls."""

from __future__ import annotations

from .settings import Settings


def freeze_startup_objects() -> None:
    """Move everything alive after start-up out of the cyclic GC's reach.

    The app, its routes, models and the SDKs are hundreds of thousands of
    objects that live for ever; without this every full collection walks
    them all and stalls the event loop for ~50 ms (seen in bench/webhooks.py).
    """
    import gc

    gc.collect()
    gc.freeze()


def serve(settings: Settings, host: str, port: int) -> None:
    import uvicorn

    from .api.app import create_app
    from .logs import configure_logging

    configure_logging()
    app = create_app(settings, public_url=f"http://{host}:{port}")
    freeze_startup_objects()
    import structlog

    structlog.get_logger(__name__).info(
        "sync_service_listening", url=f"http://{host}:{port}", docs=f"http://{host}:{port}/docs",
        stripe="sandbox " + settings.stripe_api_base if settings.stripe_api_base else "api.stripe.com",
        data=str(settings.database_path))
    uvicorn.run(app, host=host, port=port, log_level="warning", access_log=False)


def add_kiosk(settings: Settings, kiosk_id: str, *, manager: bool = False) -> str:
    """Issue (or replace) the bearer token of a kiosk; only its hash is stored. `manager`: it may refund."""
    from .api.auth import issue_kiosk_token
    from .storage.db import open_database
    from .storage.repository import Repository

    return issue_kiosk_token(Repository(open_database(settings.database_path)), kiosk_id, manager=manager)
