"""`run()`: serve the sandbox with uvicorn (called by `tablepay sandbox`)."""

from __future__ import annotations

from pathlib import Path

import uvicorn

from .app import create_app


def run(host: str, port: int, data_dir: Path, webhook_url: str | None, webhook_secret: str | None) -> None:
    app = create_app(data_dir, public_url=f"http://{host}:{port}", webhook_url=webhook_url,
                     webhook_secret=webhook_secret)
    uvicorn.run(app, host=host, port=port, log_level="info")
