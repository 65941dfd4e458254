"""The hosted checkout page at a session's `url`: what the guest's phone shows.

Self-contained HTML (no external assets, works offline), sized for a phone.
Each button POSTs a form back here and runs exactly the flow the control
endpoint `/_sandbox/checkout/sessions/{id}/complete` runs.
"""

from __future__ import annotations

import html
import time
from urllib.parse import parse_qs

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from .errors import StripeError
from .money_format import format_amount
from .runtime import runtime
from .store import Obj

_CSS = """
*{box-sizing:border-box}body{margin:0;font:16px/1.4 -apple-system,system-ui,'Segoe UI',Roboto,sans-serif;
background:#f6f7fb;color:#1a1f36}main{max-width:440px;margin:0 auto;padding:20px 16px 32px}
.badge{display:inline-block;background:#ffde92;color:#6b4a00;font-size:12px;font-weight:600;border-radius:6px;
padding:2px 8px;letter-spacing:.02em}h1{font-size:20px;margin:12px 0 4px}.total{font-size:34px;font-weight:700;
margin:0 0 16px}.card{background:#fff;border-radius:14px;box-shadow:0 1px 3px rgba(0,0,0,.08);padding:4px 16px;
margin-bottom:20px}.line{display:flex;justify-content:space-between;gap:12px;padding:12px 0;
border-bottom:1px solid #eef0f5}.line:last-child{border-bottom:0}.qty{color:#697386;margin-right:6px}
.sum{font-weight:700}.amt{white-space:nowrap}button,.cancel{display:block;width:100%;min-height:56px;
font-size:18px;font-weight:600;border-radius:12px;margin:0 0 12px;cursor:pointer;text-align:center}
button{border:0;color:#fff;background:#635bff}button.alt{background:#fff;color:#1a1f36;border:1px solid #d5d9e2}
.cancel{line-height:56px;color:#635bff;text-decoration:none}.error{background:#fdecea;color:#a4161a;
border-radius:10px;padding:12px 14px;margin-bottom:16px;font-weight:600}.note{color:#697386;font-size:14px;
margin:-4px 0 14px}.state{background:#fff;border-radius:14px;padding:28px 16px;text-align:center;font-size:18px}
"""


def page(title: str, body: str, status: int = 200, *, css: str = _CSS, badge: str = "TablePay sandbox") -> HTMLResponse:
    """A self-contained phone-sized page (the Mollie fake's page passes its own `css` and `badge`)."""
    return HTMLResponse(
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>{html.escape(title)}</title><style>{css}</style></head>"
        f"<body><main><span class='badge'>TEST MODE · {html.escape(badge)}</span>{body}</main></body></html>",
        status_code=status,
        headers={"Cache-Control": "no-store"},
    )


def _state(message: str, status: int = 200) -> HTMLResponse:
    return page(message, f"<h1>&nbsp;</h1><div class='state'>{html.escape(message)}</div>", status)


def render(session: Obj, items: list[Obj], declined: bool) -> HTMLResponse:
    if session["status"] == "expired":
        return _state("This checkout session has expired.")
    if session["status"] == "complete":
        paid = session["payment_status"] == "paid"
        return _state(
            "This payment is complete. Thank you!" if paid else "Your payment is being processed by your bank."
        )
    currency = session["currency"]
    lines = "".join(
        f"<div class='line'><span><span class='qty'>{item['quantity']} ×</span>"
        f"{html.escape(item['description'] or '')}</span>"
        f"<span class='amt'>{html.escape(format_amount(item['amount_total'], currency))}</span></div>"
        for item in items
    )
    total = html.escape(format_amount(session["amount_total"], currency))
    error = "<div class='error' role='alert'>Your card was declined.</div>" if declined else ""
    cancel = (
        f"<a class='cancel' href='{html.escape(session['cancel_url'], quote=True)}'>Cancel</a>"
        if session["cancel_url"]
        else ""
    )
    body = (
        f"<h1>Your bill</h1><p class='total'>{total}</p>{error}"
        f"<div class='card'>{lines}<div class='line sum'><span>Total</span><span class='amt'>{total}</span></div></div>"
        f"<form method='post'>"
        f"<button name='action' value='pay'>Pay {total}</button>"
        "<p class='note'>Test card 4242 4242 4242 4242</p>"
        "<button class='alt' name='action' value='decline'>Declined card</button>"
        "<button class='alt' name='action' value='delayed'>Pay by bank (delayed)</button>"
        f"</form>{cancel}"
    )
    return page(f"Pay {total}", body)


async def show(request: Request) -> Response:
    rt = runtime(request)
    session = rt.sandbox.store.get(request.path_params["id"])
    if session is None or session["object"] != "checkout.session":
        return _state("Something went wrong: this checkout link is not valid.", 404)
    declined = request.query_params.get("declined") == "1"
    return render(session, rt.sandbox.line_items(session["id"]), declined)


async def submit(request: Request) -> Response:
    rt = runtime(request)
    session_id = request.path_params["id"]
    action = parse_qs((await request.body()).decode("utf-8")).get("action", [""])[0]
    outcome = {"pay": "succeeded", "decline": "failed", "delayed": "delayed_succeeded"}.get(action)
    if outcome is None:
        return _state("Unknown action.", 400)
    try:
        session = rt.payments.complete_checkout(session_id, outcome, settle=False)
    except StripeError:
        return RedirectResponse(f"/c/pay/{session_id}", status_code=303)  # the page explains the state
    if outcome == "failed":
        return RedirectResponse(f"/c/pay/{session_id}?declined=1", status_code=303)
    if outcome == "delayed_succeeded":
        private = rt.sandbox.store.private(session_id)
        private.update(settle_at=time.time() + rt.options.delayed_settle_seconds, settle_succeeds=True)
        rt.sandbox.store.set_private(session_id, private)
    if not session["success_url"]:
        return _state("This payment is complete. Thank you!")
    return RedirectResponse(session["success_url"].replace("{CHECKOUT_SESSION_ID}", session_id), status_code=303)


routes = [
    Route("/c/pay/{id}", show, methods=["GET"]),
    Route("/c/pay/{id}", submit, methods=["POST"]),
]
