"""Mollie's Payments API v2 routes: payments, refunds, chargebacks, delayed routes.

Bodies are JSON, as the SDKs send them; form bodies (`curl -d amount[value]=10.00`) work too.
Handlers parse and answer; `payments`, `refunds` and `routing` change state.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from .. import forms
from . import payments, refunds, routing, views
from .errors import HalResponse, MollieError, bad_request, not_found
from .runtime import Mollie, mollie


async def _body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if not raw.strip():
        return {}
    if request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        return forms.decode(raw)
    try:
        data = json.loads(raw)
    except ValueError:
        raise bad_request("The request body is not valid JSON.") from None
    if not isinstance(data, dict):
        raise bad_request("The request body must be a JSON object.")
    return data


def _page_params(request: Request) -> tuple[str | None, int]:
    raw = request.query_params.get("limit", "50")
    if not raw.isdigit() or not 1 <= int(raw) <= 250:
        raise bad_request("The limit must be a number from 1 to 250.", "limit")
    return request.query_params.get("from") or None, int(raw)


def _page(
    rt: Mollie,
    request: Request,
    kind: str,
    key: str,
    path: str,
    view: Any,
    doc: str,
    payment_id: str | None = None,
) -> Response:
    start, limit = _page_params(request)
    if start is not None and rt.store.get(kind, start) is None:
        raise not_found(kind, start)
    items, next_from, previous_from = rt.store.page(kind, start, limit, payment_id)
    body = views.listing(rt, key, [view(rt, item) for item in items], path, limit, next_from, previous_from, doc)
    return HalResponse(body)


# -- payments ---------------------------------------------------------------------
async def create_payment(request: Request) -> Response:
    rt = mollie(request)
    rec = payments.create(rt, await _body(request))
    return HalResponse(views.payment(rt, rec), 201)


async def list_payments(request: Request) -> Response:
    rt = mollie(request)
    return _page(rt, request, "payment", "payments", "/v2/payments", views.payment, "list-payments")


async def get_payment(request: Request) -> Response:
    rt = mollie(request)
    rec = payments.get(rt, request.path_params["id"])
    embed = tuple(e.strip() for e in request.query_params.get("embed", "").split(",") if e.strip())
    return HalResponse(views.payment(rt, rec, embed))


async def cancel_payment(request: Request) -> Response:
    rt = mollie(request)
    rec = payments.cancel(rt, payments.get(rt, request.path_params["id"]))
    return HalResponse(views.payment(rt, rec))


# -- refunds ----------------------------------------------------------------------
async def create_refund(request: Request) -> Response:
    rt = mollie(request)
    payment = payments.get(rt, request.path_params["id"])
    rec = refunds.create(rt, payment, await _body(request))
    return HalResponse(views.refund(rt, rec), 201)


async def list_refunds(request: Request) -> Response:
    rt = mollie(request)
    payment_id = payments.get(rt, request.path_params["id"])["id"]
    path = f"/v2/payments/{payment_id}/refunds"
    return _page(rt, request, "refund", "refunds", path, views.refund, "list-refunds", payment_id)


async def list_all_refunds(request: Request) -> Response:
    rt = mollie(request)
    return _page(rt, request, "refund", "refunds", "/v2/refunds", views.refund, "list-all-refunds")


async def get_refund(request: Request) -> Response:
    rt = mollie(request)
    payment = payments.get(rt, request.path_params["id"])
    return HalResponse(views.refund(rt, refunds.get(rt, payment, request.path_params["refund_id"])))


async def cancel_refund(request: Request) -> Response:
    rt = mollie(request)
    payment = payments.get(rt, request.path_params["id"])
    refunds.cancel(rt, refunds.get(rt, payment, request.path_params["refund_id"]))
    return Response(status_code=204)


# -- chargebacks ------------------------------------------------------------------
async def list_chargebacks(request: Request) -> Response:
    rt = mollie(request)
    payment_id = payments.get(rt, request.path_params["id"])["id"]
    path = f"/v2/payments/{payment_id}/chargebacks"
    return _page(rt, request, "chargeback", "chargebacks", path, views.chargeback, "list-chargebacks", payment_id)


async def get_chargeback(request: Request) -> Response:
    rt = mollie(request)
    payment = payments.get(rt, request.path_params["id"])
    return HalResponse(views.chargeback(rt, refunds.get_chargeback(rt, payment, request.path_params["chargeback_id"])))


# -- delayed routing ----------------------------------------------------------------
async def create_route(request: Request) -> Response:
    rt = mollie(request)
    payment = payments.get(rt, request.path_params["id"])
    rec = routing.create_delayed(rt, payment, await _body(request))
    return HalResponse(views.route(rt, rec, payment["id"]), 201)


async def list_routes(request: Request) -> Response:
    rt = mollie(request)
    payment = payments.get(rt, request.path_params["id"])
    items = [views.route(rt, r, payment["id"]) for r in rt.store.children("route", payment["id"])]
    body = {
        "count": len(items),
        "_embedded": {"routes": items},
        "_links": {
            "self": views.link(rt, f"/v2/payments/{payment['id']}/routes"),
            "documentation": views.docs("payment-list-routes"),
        },
    }
    return HalResponse(body)


async def get_route(request: Request) -> Response:
    """Delayed routes (`crt_`) and, as the sandbox's addition, the payment's upfront ones (`rt_`)."""
    rt = mollie(request)
    payment = payments.get(rt, request.path_params["id"])
    for r in routing.routes_of(rt, payment):
        if r["id"] == request.path_params["route_id"]:
            return HalResponse(views.route(rt, r, payment["id"]))
    raise not_found("route", request.path_params["route_id"])


async def unknown(request: Request) -> Response:
    raise MollieError(404, f"The resource {request.method} {request.url.path} does not exist.")


P = "/v2/payments/{id}"
routes = [
    Route("/v2/payments", create_payment, methods=["POST"]),
    Route("/v2/payments", list_payments, methods=["GET"]),
    Route(P, get_payment, methods=["GET"]),
    Route(P, cancel_payment, methods=["DELETE"]),
    Route(P + "/refunds", create_refund, methods=["POST"]),
    Route(P + "/refunds", list_refunds, methods=["GET"]),
    Route(P + "/refunds/{refund_id}", get_refund, methods=["GET"]),
    Route(P + "/refunds/{refund_id}", cancel_refund, methods=["DELETE"]),
    Route("/v2/refunds", list_all_refunds, methods=["GET"]),
    Route(P + "/chargebacks", list_chargebacks, methods=["GET"]),
    Route(P + "/chargebacks/{chargeback_id}", get_chargeback, methods=["GET"]),
    Route(P + "/routes", create_route, methods=["POST"]),
    Route(P + "/routes", list_routes, methods=["GET"]),
    Route(P + "/routes/{route_id}", get_route, methods=["GET"]),
    Route("/v2/{path:path}", unknown, methods=["GET", "POST", "PATCH", "DELETE"]),
]
