"""The yardsticks ours is measured against, on the same FastAPI/Starlette stack.

* minimal: what any correct Stripe webhook handler must do at least - read the
  body, verify the signature, parse the JSON, record the event id and move the
  payment in one WAL transaction - and nothing else.
* trivial: a route that answers at once; the ceiling of the server stack.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import stripe
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

TOLERANCE_SECONDS = 300


def minimal_app(database_path: Path, secret: str) -> FastAPI:
    conn = sqlite3.connect(database_path, check_same_thread=False)
    # The same pragmas as sync_service/storage/db.py, so durability costs the same.
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("PRAGMA busy_timeout=5000")
    conn.isolation_level = None
    app = FastAPI()

    @app.post("/webhooks/stripe")
    async def stripe_webhook(request: Request) -> JSONResponse:
        payload = (await request.body()).decode("utf-8")
        try:
            stripe.WebhookSignature.verify_header(
                payload, request.headers.get("stripe-signature", ""), secret, TOLERANCE_SECONDS
            )
        except stripe.SignatureVerificationError:
            return JSONResponse({"error": "bad signature"}, 400)
        event = json.loads(payload)
        conn.execute("BEGIN IMMEDIATE")
        try:
            conn.execute(
                "INSERT OR IGNORE INTO events (id, type, payload) VALUES (?, ?, ?)",
                (event["id"], event["type"], payload),
            )
            conn.execute("UPDATE payments SET status = 'paid' WHERE session_id = ?", (event["data"]["object"]["id"],))
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
        return JSONResponse({"received": True})

    return app


def trivial_app() -> FastAPI:
    app = FastAPI()

    @app.post("/webhooks/stripe")
    async def stripe_webhook() -> JSONResponse:
        return JSONResponse({"ok": True})

    return app
