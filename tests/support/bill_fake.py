"""A fake of the bill API for the bill page's browser tests: the page from `render_bill_page`, beside a
state to show, the POSTs received and the answers to give in turn, served on 127.0.0.1 by the test."""

from __future__ import annotations

import asyncio
import copy
import threading
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from sync_service.api.bill_page import render_bill_page

STATE: dict[str, Any] = {
    "status": "open",
    "version": 2,
    "currency": "EUR",
    "total": 9600,
    "paid": 4210,
    "held": 1200,
    "remaining": 4190,
    "guests_paying": 1,
    "split_ways": None,
    "equal_shares_left": None,
    "minimum": 50,
    "lines": [
        {"sku": "PIZ", "name": "Pizza Margherita", "quantity": 3, "unit_amount": 1200, "paid": 1, "held": 1, "free": 1},
        {"sku": "SEA", "name": "Grilled sea bass with lemon, capers and parsley potatoes", "quantity": 1,
         "unit_amount": 2300, "paid": 1, "held": 0, "free": 0},
        {"sku": "SPR", "name": "Spritz", "quantity": 4, "unit_amount": 650, "paid": 0, "held": 0, "free": 4},
        {"sku": "TIR", "name": "Tiramisu", "quantity": 2, "unit_amount": 650, "paid": 0, "held": 0, "free": 2},
    ],
    "tip_presets": [10, 15, 20],
    "donations": True,
    "donation_partner": "Kinderhilfe Nord",
    "paid_shares": [{"amount": 4210, "tip_amount": 400, "paid_at": "2026-12-01T12:00:00Z"}],
}  # fmt: skip


class FakeBill:
    """The bill API as the page meets it. `gate` cleared: a POST waits for it (a slow service)."""

    def __init__(self) -> None:
        self.state: dict[str, Any] | None = copy.deepcopy(STATE)
        self.receipt: dict[str, Any] | None = None
        self.posts: list[dict[str, Any]] = []
        self.answers: list[tuple[int, dict[str, Any]]] = []
        self.tokens: list[str] = []
        self.gate = threading.Event()
        self.gate.set()
        self.url = ""  # where it serves, once it does

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.get("/bill/{token}")
        async def page(token: str, request: Request) -> HTMLResponse:
            return render_bill_page(token, request.headers.get("accept-language"))

        @app.get("/bill/{token}/state")
        async def state(token: str, share: str = "") -> Response:
            self.tokens.append(token)
            if self.state is None:
                return JSONResponse({"error": {"code": "not_found", "message": "No such bill."}}, 404)
            return JSONResponse({**self.state, **({"receipt": self.receipt} if share and self.receipt else {})})

        @app.post("/bill/{token}/shares")
        async def shares(token: str, request: Request) -> Response:
            self.posts.append(await request.json())
            await asyncio.to_thread(self.gate.wait, 30)
            status, body = self.answers.pop(0)
            return JSONResponse(body, status)

        @app.get("/checkout/{share_id}")
        async def checkout(share_id: str) -> HTMLResponse:
            return HTMLResponse("<!doctype html><title>Checkout</title><p>The provider's checkout")

        return app


def created(fake: FakeBill, share_id: str) -> tuple[int, dict[str, Any]]:
    return 201, {"share_id": share_id, "checkout_url": f"{fake.url}/checkout/{share_id}",
                 "amount": 0, "tip_amount": 0, "donation_amount": 0, "amount_total": 0, "expires_at": 0}  # fmt: skip


# What is wrong on the phone's screen: sideways scrolling, targets under 48 px, controls without a name.
PHONE_PROBLEMS = """() => {
  const problems = [];
  if (document.documentElement.scrollWidth > innerWidth) problems.push("scrolls sideways");
  for (const node of document.querySelectorAll("button, input, summary")) {
    if (node.getClientRects().length === 0) continue;
    const box = (node.closest("label") || node).getBoundingClientRect();
    const name = (node.getAttribute("aria-label") || [...(node.labels || [])].map((l) => l.textContent).join("")
                  || node.textContent).trim();
    if (box.height < 48 || box.width < 48) problems.push("small: " + (node.id || name));
    if (!name) problems.push("no name: " + node.outerHTML.slice(0, 60));
  }
  return problems;
}"""


def snap(page: Any, path: Path, at: str | None = None) -> None:
    """The phone's screen as the guest sees it (the Pay bar fixed at its bottom), scrolled to `at`'s top."""
    if at:
        page.evaluate("(at) => scrollTo(0, document.querySelector(at).getBoundingClientRect().top + scrollY - 12)", at)
    page.screenshot(path=str(path))
