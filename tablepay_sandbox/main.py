"""`run()`: serve the sandbox with uvicorn (called by `tablepay sandbox`)."""

from __future__ import annotations

import os
from pathlib import Path

import uvicorn

from .app import create_app
from .rkeeper.options import DEFAULT_PASSWORD, DEFAULT_USER


def run(host: str, port: int, data_dir: Path, webhook_url: str | None, webhook_secret: str | None) -> None:
    # The R-Keeper simulator's Basic-auth login; the defaults are for the local sandbox only.
    app = create_app(
        data_dir,
        public_url=f"http://{host}:{port}",
        webhook_url=webhook_url,
        webhook_secret=webhook_secret,
        rkeeper_user=os.environ.get("RKEEPER_USER") or DEFAULT_USER,
        rkeeper_password=os.environ.get("RKEEPER_PASSWORD") or DEFAULT_PASSWORD,
    )
    uvicorn.run(app, host=host, port=port, log_level="info")
