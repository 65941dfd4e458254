"""/_sandbox/*: test and demo controls that Stripe does not have.

They do what a guest, a bank or the clock would do (pay, decline, settle,
expire), and steer webhook delivery (hold, drop, release, resend) so tests can
reproduce missed, late, duplicated and reordered webhooks on purpose.
"""

from __future__ import annotations

import json
import time
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from .errors import invalid_request
from .runtime import ok, runtime
from .sandbox import DELIVERY_MODES, SYSTEM
from .store import Obj


def json_object(body: bytes) -> dict[str, Any]:
    """A control's JSON body ({} when empty); ValueError with the reason when it is not an object."""
    if not body:
        return {}
    try:
        data = json.loads(body)
    except ValueError:
        raise ValueError("The request body must be JSON.") from None
    if not isinstance(data, dict):
        raise ValueError("The request body must be a JSON object.")
    return data


async def _json(request: Request) -> dict[str, Any]:
    try:
        return json_object(await request.body())
    except ValueError as exc:
        raise invalid_request(str(exc)) from None


async def complete(request: Request) -> JSONResponse:
    rt, body = runtime(request), await _json(request)
    outcome = body.get("outcome")
    if outcome not in ("succeeded", "failed", "delayed_succeeded", "delayed_failed"):
        raise invalid_request(
            "outcome must be one of succeeded, failed, delayed_succeeded, delayed_failed", param="outcome"
        )
    session = rt.payments.complete_checkout(request.path_params["id"], outcome, settle=bool(body.get("settle", True)))
    return ok(session)


async def expire_now(request: Request) -> JSONResponse:
    """Stripe's own timeout, now: request.id stays null in the event, as for Stripe's expiry."""
    rt = runtime(request)
    return ok(rt.payments.expire_checkout(request.path_params["id"], SYSTEM))


async def delivery_mode(request: Request) -> JSONResponse:
    rt = runtime(request)
    if request.method == "POST":
        mode = (await _json(request)).get("mode")
        if mode not in DELIVERY_MODES:
            raise invalid_request(f"mode must be one of {', '.join(DELIVERY_MODES)}", param="mode")
        rt.sandbox.store.set_setting("delivery_mode", mode)
    return ok({"mode": rt.sandbox.delivery_mode})


def _delivery_view(row: Obj) -> Obj:
    return {
        "id": row["seq"],
        "event": row["event_id"],
        "type": row["event_type"],
        "endpoint": row["endpoint_id"],
        "url": row["url"],
        "status": row["status"],
        "attempts": row["attempts"],
        "last_response_code": row["last_status_code"],
        "last_error": row["last_error"],
        "next_attempt_at": row["next_attempt_at"] if row["status"] == "pending" else None,
    }


async def deliveries(request: Request) -> JSONResponse:
    rt = runtime(request)
    clauses, args = ["1"], []
    for name, column in (
        ("event", "event_id"),
        ("status", "status"),
        ("endpoint", "endpoint_id"),
        ("type", "event_type"),
    ):
        if value := request.query_params.get(name):
            clauses.append(f"{column} = ?")
            args.append(value)
    rows = rt.sandbox.store.deliveries(" AND ".join(clauses), args)
    return ok({"object": "list", "data": [_delivery_view(r) for r in rows]})


async def release(request: Request) -> JSONResponse:
    rt = runtime(request)
    store = rt.sandbox.store
    held = store.deliveries("status = 'held'")
    for row in held:
        store.update_delivery(row["seq"], status="pending", next_attempt_at=time.time())
    rt.sandbox.wakeup.set()
    return ok({"released": len(held)})


async def resend(request: Request) -> JSONResponse:
    rt, body = runtime(request), await _json(request)
    event = rt.sandbox.store.require(request.path_params["id"], "event")
    worker = request.app.state.worker
    results = await worker.resend(event, body.get("endpoint"))
    return ok({"event": event["id"], "status_code": results[0]["status_code"] if results else None, "results": results})


async def healthz(request: Request) -> JSONResponse:
    runtime(request).sandbox.store.setting("delivery_mode", "deliver")  # proves the database answers
    return ok({"status": "ok"})


routes = [
    Route("/healthz", healthz, methods=["GET"]),
    Route("/_sandbox/checkout/sessions/{id}/complete", complete, methods=["POST"]),
    Route("/_sandbox/checkout/sessions/{id}/expire_now", expire_now, methods=["POST"]),
    Route("/_sandbox/delivery", delivery_mode, methods=["GET", "POST"]),
    Route("/_sandbox/deliveries", deliveries, methods=["GET"]),
    Route("/_sandbox/deliveries/release", release, methods=["POST"]),
    Route("/_sandbox/events/{id}/resend", resend, methods=["POST"]),
]
