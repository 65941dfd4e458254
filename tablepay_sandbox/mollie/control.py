"""/_sandbox/mollie/*: test controls Mollie does not have (JSON, no auth).

They do what the guest, the bank or the clock would do (pay, fail, charge back, settle a
refund), steer webhook calls (hold, drop, release, call now) and arm API faults.
"""

from __future__ import annotations

import time
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from ..control import json_object
from . import payments, refunds, views
from .errors import bad_request, not_found
from .runtime import DELIVERY_MODES, mollie
from .store import Rec

PAYMENT_STATUSES = ("paid", "failed", "canceled", "expired", "authorized", "pending")
REFUND_STATUSES = ("processing", "refunded", "failed")


async def _json(request: Request) -> dict[str, Any]:
    try:
        return json_object(await request.body())
    except ValueError as exc:
        raise bad_request(str(exc)) from None


def _choice(body: dict[str, Any], name: str, allowed: tuple[str, ...]) -> str:
    value = body.get(name)
    if value not in allowed:
        raise bad_request(f"{name} must be one of {', '.join(allowed)}", name)
    return str(value)


async def payment_status(request: Request) -> JSONResponse:
    rt, body = mollie(request), await _json(request)
    status = _choice(body, "status", PAYMENT_STATUSES)
    rec = payments.get(rt, request.path_params["id"])
    rec = payments.transition(
        rt, rec, status, failure_reason=body.get("failure_reason"), force=body.get("force") is True
    )
    return JSONResponse(views.payment(rt, rec))


async def refund_status(request: Request) -> JSONResponse:
    rt, body = mollie(request), await _json(request)
    status = _choice(body, "status", REFUND_STATUSES)
    rec = rt.store.get("refund", request.path_params["id"])
    if rec is None:
        raise not_found("refund", request.path_params["id"])
    return JSONResponse(views.refund(rt, refunds.transition(rt, rec, status)))


async def chargeback(request: Request) -> JSONResponse:
    rt, body = mollie(request), await _json(request)
    rec = refunds.open_chargeback(rt, payments.get(rt, request.path_params["id"]), body)
    return JSONResponse(views.chargeback(rt, rec), 201)


async def call_webhook(request: Request) -> JSONResponse:
    """Call the payment's webhook now, outside the retry schedule; answers with the receiver's code."""
    rt = mollie(request)
    rec = payments.get(rt, request.path_params["id"])
    if not rec.get("webhook_url"):
        raise bad_request("The payment has no webhookUrl.")
    code, error = await request.app.state.mollie_worker.call(rec["id"], rec["webhook_url"])
    return JSONResponse({"payment": rec["id"], "url": rec["webhook_url"], "status_code": code, "error": error})


async def delivery_mode(request: Request) -> JSONResponse:
    rt = mollie(request)
    if request.method == "POST":
        rt.store.set_setting("delivery_mode", _choice(await _json(request), "mode", DELIVERY_MODES))
    return JSONResponse({"mode": rt.delivery_mode})


def _delivery_view(row: Rec) -> Rec:
    return {
        "id": row["seq"],
        "payment": row["payment_id"],
        "trigger": row["trigger"],
        "url": row["url"],
        "status": row["status"],
        "attempts": row["attempts"],
        "last_response_code": row["last_status_code"],
        "last_error": row["last_error"],
        "next_attempt_at": row["next_attempt_at"] if row["status"] == "pending" else None,
    }


async def deliveries(request: Request) -> JSONResponse:
    rt = mollie(request)
    clauses, args = ["1"], []
    for name, column in (("status", "status"), ("payment", "payment_id"), ("trigger", "trigger")):
        if value := request.query_params.get(name):
            clauses.append(f"{column} = ?")
            args.append(value)
    rows = rt.store.deliveries(" AND ".join(clauses), args)
    return JSONResponse({"object": "list", "data": [_delivery_view(r) for r in rows]})


async def release(request: Request) -> JSONResponse:
    rt = mollie(request)
    held = rt.store.deliveries("status = 'held'")
    for row in held:
        rt.store.update_delivery(row["seq"], status="pending", next_attempt_at=time.time())
    rt.wakeup.set()
    return JSONResponse({"released": len(held)})


def _count(body: dict[str, Any]) -> int:
    count = body.get("count", 1)
    if not isinstance(count, int) or isinstance(count, bool) or count < 0:
        raise bad_request("count must be a non-negative integer", "count")
    return count


async def faults(request: Request) -> JSONResponse:
    """`{"status": 503|429, "count": N}` fails the next N API calls; `{"delay_seconds": s, "count": N}`
    answers them s seconds late (after applying them). DELETE clears both."""
    rt = mollie(request)
    armed = rt.faults
    if request.method == "DELETE":
        armed.fail_next = armed.delay_next = 0
    elif request.method == "POST":
        body = await _json(request)
        if "status" in body:
            if body["status"] not in (503, 429):
                raise bad_request("status must be 503 or 429", "status")
            armed.fail_status, armed.fail_next = int(body["status"]), _count(body)
        elif "delay_seconds" in body:
            seconds = body["delay_seconds"]
            if not isinstance(seconds, (int, float)) or isinstance(seconds, bool) or not 0 <= seconds <= 600:
                raise bad_request("delay_seconds must be a number of seconds from 0 to 600", "delay_seconds")
            armed.delay_seconds, armed.delay_next = float(seconds), _count(body)
        else:
            raise bad_request("give status (503 or 429) or delay_seconds, with count")
    return JSONResponse(armed.view())


C = "/_sandbox/mollie"
routes = [
    Route(C + "/payments/{id}/status", payment_status, methods=["POST"]),
    Route(C + "/payments/{id}/chargebacks", chargeback, methods=["POST"]),
    Route(C + "/payments/{id}/webhook", call_webhook, methods=["POST"]),
    Route(C + "/refunds/{id}/status", refund_status, methods=["POST"]),
    Route(C + "/delivery", delivery_mode, methods=["GET", "POST"]),
    Route(C + "/deliveries", deliveries, methods=["GET"]),
    Route(C + "/deliveries/release", release, methods=["POST"]),
    Route(C + "/faults", faults, methods=["GET", "POST", "DELETE"]),
]
