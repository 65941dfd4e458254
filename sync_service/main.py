"""Entry points the `tablepay sync` command calls."""

from __future__ import annotations

from .settings import Settings


def serve(settings: Settings, host: str, port: int) -> None:
    import uvicorn

    from .api.app import create_app
    from .logs import configure_logging

    configure_logging()
    app = create_app(settings, public_url=f"http://{host}:{port}")
    uvicorn.run(app, host=host, port=port, log_level="warning", access_log=False)


def add_kiosk(settings: Settings, kiosk_id: str) -> str:
    """Issue (or replace) the bearer token of a kiosk; only its hash is stored."""
    from .api.auth import issue_kiosk_token
    from .storage.db import open_database
    from .storage.repository import Repository

    return issue_kiosk_token(Repository(open_database(settings.database_path)), kiosk_id)
