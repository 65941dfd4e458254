"""The hosted checkout at a payment's `_links.checkout` (`/mollie/checkout/{tr_id}`), like
Mollie's test mode: the amount, the description and one button per status to set.

Phone-sized (a 390 px screen), self-contained, large labelled buttons. Choosing a status
does what `POST /_sandbox/mollie/payments/{id}/status` does, then sends the guest back to
`redirectUrl` (`cancelUrl` on canceled, when given) with no status in the query, as Mollie does.
Also the `dashboard` link's page: the payment's state at a glance.
"""

from __future__ import annotations

import html
from urllib.parse import parse_qs

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from ..checkout_page import page
from ..money_format import format_amount
from . import payments
from .errors import MollieError
from .runtime import mollie
from .store import Rec

_CSS = """
*{box-sizing:border-box}body{margin:0;font:17px/1.45 -apple-system,system-ui,'Segoe UI',Roboto,sans-serif;
background:#f3f4f7;color:#0e1a2b}main{max-width:440px;margin:0 auto;padding:20px 16px 32px}
.badge{display:inline-block;background:#ffe08a;color:#5a3d00;font-size:13px;font-weight:700;border-radius:6px;
padding:3px 9px}.merchant{color:#3d4a5c;font-size:15px;margin:18px 0 2px}h1{font-size:21px;margin:0 0 6px}
.total{font-size:38px;font-weight:800;margin:0 0 18px;letter-spacing:-.01em}
fieldset{border:0;margin:0;padding:0}legend{font-weight:700;margin-bottom:10px;font-size:16px;padding:0}
button{display:flex;flex-direction:column;align-items:flex-start;width:100%;min-height:64px;padding:10px 18px;
margin:0 0 12px;border-radius:14px;border:2px solid #c5ccd8;background:#fff;color:#0e1a2b;font:inherit;
font-weight:700;font-size:18px;text-align:left;cursor:pointer}button small{font-weight:400;font-size:14px;
color:#3d4a5c}button.paid{background:#0b5cff;border-color:#0b5cff;color:#fff}button.paid small{color:#e6eeff}
button:focus-visible{outline:3px solid #0e1a2b;outline-offset:2px}
.state{background:#fff;border-radius:14px;padding:28px 16px;text-align:center;font-size:18px;margin-top:18px}
.row{display:flex;justify-content:space-between;padding:8px 0;border-bottom:1px solid #e3e6ec}
"""
BUTTONS = (
    ("paid", "Paid", "The guest paid"),
    ("failed", "Failed", "The payment did not go through"),
    ("canceled", "Canceled", "The guest canceled"),
    ("expired", "Expired", "The guest took too long"),
    ("open", "Open", "Back to the shop, the payment stays open"),
)


def _mollie_page(title: str, body: str, status: int = 200) -> HTMLResponse:
    return page(title, body, status, css=_CSS, badge="Mollie sandbox")


def _state(message: str, status: int = 200) -> HTMLResponse:
    return _mollie_page(message, f"<div class='state' role='status'>{html.escape(message)}</div>", status)


def render(rec: Rec) -> HTMLResponse:
    total = html.escape(format_amount(rec["amount"], rec["currency"]))
    if rec["status"] not in ("open", "pending"):
        return _state(f"This payment is {rec['status']}.")
    buttons = "".join(
        f"<button type='submit' name='status' value='{value}' class='{value}'>{label}<small>{hint}</small></button>"
        for value, label, hint in BUTTONS
    )
    body = (
        "<p class='merchant'>TablePay</p>"
        f"<h1>{html.escape(rec['description'])}</h1><p class='total'>{total}</p>"
        f"<form method='post'><fieldset><legend>Select the payment's status</legend>{buttons}</fieldset></form>"
    )
    return _mollie_page(f"Pay {total}", body)


async def show(request: Request) -> Response:
    rec = mollie(request).store.get("payment", request.path_params["id"])
    if rec is None:
        return _state("This checkout link is not valid.", 404)
    return render(rec)


async def submit(request: Request) -> Response:
    rt = mollie(request)
    rec = rt.store.get("payment", request.path_params["id"])
    if rec is None:
        return _state("This checkout link is not valid.", 404)
    status = parse_qs((await request.body()).decode("utf-8")).get("status", [""])[0]
    if status not in {value for value, _, _ in BUTTONS}:
        return _state("Unknown status.", 400)
    if rec["status"] not in ("open", "pending"):
        return render(rec)  # already decided: the page says so, and nothing changes
    if status != "open":
        try:
            rec = payments.transition(rt, rec, status)
        except MollieError:
            return render(rec)
    target = rec["cancel_url"] if status == "canceled" and rec.get("cancel_url") else rec["redirect_url"]
    return RedirectResponse(target, status_code=303)


async def dashboard(request: Request) -> Response:
    rec = mollie(request).store.get("payment", request.path_params["id"])
    if rec is None:
        return _state("No such payment.", 404)
    rows = "".join(
        f"<div class='row'><span>{html.escape(k)}</span><strong>{html.escape(v)}</strong></div>"
        for k, v in (
            ("Payment", rec["id"]),
            ("Status", rec["status"]),
            ("Amount", format_amount(rec["amount"], rec["currency"])),
            ("Description", rec["description"]),
        )
    )
    return _mollie_page(f"Payment {rec['id']}", f"<h1>Payment</h1><div class='state'>{rows}</div>")


routes = [
    Route("/mollie/checkout/{id}", show, methods=["GET"]),
    Route("/mollie/checkout/{id}", submit, methods=["POST"]),
    Route("/mollie/dashboard/payments/{id}", dashboard, methods=["GET"]),
]
