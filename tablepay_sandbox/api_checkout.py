"""/v1/checkout/sessions: create, retrieve, list, line_items, expire."""

from __future__ import annotations

import time

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from tablepay_domain.money import MINOR_UNITS

from . import objects
from .errors import invalid_request
from .forms import Params, as_int, as_list, as_metadata, as_str, reject_unknown
from .money_format import below_minimum, format_amount
from .runtime import ctx, eq_filters, expand_paths, list_page, ok, params, runtime
from .sandbox import paginate_params
from .store import Obj

MIN_EXPIRY = 30 * 60
MAX_EXPIRY = 24 * 3600

# Stripe parameters we accept; those we do not model are accepted and ignored, as
# long as Stripe knows them, so production code is not refused for a valid call.
_CREATE_PARAMS = {
    "mode",
    "line_items",
    "client_reference_id",
    "metadata",
    "expires_at",
    "success_url",
    "cancel_url",
    "payment_intent_data",
    "customer_email",
    "locale",
    "payment_method_types",
    "expand",
    "currency",
    "submit_type",
    "billing_address_collection",
    "ui_mode",
    "return_url",
    "allow_promotion_codes",
    "phone_number_collection",
    "custom_text",
    "automatic_tax",
    "customer",
    "customer_creation",
    "invoice_creation",
    "payment_method_options",
    "consent_collection",
    "shipping_address_collection",
}


def _line_items(p: Params) -> list[Obj]:
    raw = as_list(p, "line_items")
    if not raw:
        raise invalid_request(
            "You must provide at least one line item when creating a session in payment mode.", param="line_items"
        )
    items: list[Obj] = []
    for index, line in enumerate(raw):
        where = f"line_items[{index}]"
        if not isinstance(line, dict):
            raise invalid_request("Invalid object", param=where)
        if "price" in line:
            raise invalid_request(f"No such price: '{line['price']}'", param=f"{where}[price]", code="resource_missing")
        price_data = line.get("price_data")
        if not isinstance(price_data, dict):
            raise invalid_request(
                "Missing required param: line_items[0][price_data] or line_items[0][price].",
                param=f"{where}[price_data]",
                code="parameter_missing",
            )
        currency = as_str(price_data, "currency", required=True)
        assert currency is not None
        currency = currency.lower()
        if currency.upper() not in MINOR_UNITS:
            raise invalid_request(
                f"Invalid currency: {currency}. Stripe currently supports these currencies: usd, eur, gbp, jpy, ...",
                param=f"{where}[price_data][currency]",
            )
        unit_amount = as_int(price_data, "unit_amount", required=True, minimum=0)
        product = price_data.get("product_data")
        if not isinstance(product, dict) or not product.get("name"):
            raise invalid_request(
                "Missing required param: line_items[0][price_data][product_data][name].",
                param=f"{where}[price_data][product_data][name]",
                code="parameter_missing",
            )
        quantity = as_int(line, "quantity", required=True, minimum=1)
        assert unit_amount is not None and quantity is not None
        if MINOR_UNITS[currency.upper()] == 3 and unit_amount % 10:
            # Stripe: three-decimal currencies are charged in multiples of 10 minor units.
            raise invalid_request(
                f"Invalid amount: {currency} amounts must be a multiple of 10 "
                f"({format_amount(unit_amount, currency)} is not).",
                param=f"{where}[price_data][unit_amount]",
            )
        items.append(
            objects.line_item(
                currency=currency,
                name=str(product["name"]),
                unit_amount=unit_amount,
                quantity=quantity,
                metadata=as_metadata(product, "metadata"),
            )
        )
    currencies = {item["currency"] for item in items}
    if len(currencies) > 1:
        raise invalid_request(
            "All line items must have the same currency; found " + ", ".join(sorted(currencies)) + ".",
            param="line_items",
        )
    return items


def _expires_at(p: Params) -> int:
    now = int(time.time())
    expires_at = as_int(p, "expires_at", default=now + MAX_EXPIRY)
    assert expires_at is not None
    if expires_at < now + MIN_EXPIRY:
        raise invalid_request(
            "The `expires_at` timestamp must be at least 30 minutes from Checkout Session creation.", param="expires_at"
        )
    if expires_at > now + MAX_EXPIRY:
        raise invalid_request(
            "The `expires_at` timestamp must be less than 24 hours from Checkout Session creation.", param="expires_at"
        )
    return expires_at


async def create(request: Request) -> JSONResponse:
    rt, p = runtime(request), await params(request)
    reject_unknown(p, _CREATE_PARAMS)
    mode = as_str(p, "mode", required=True)
    if mode != "payment":
        raise invalid_request(f"The sandbox supports mode=payment only, not {mode!r}.", param="mode")
    items = _line_items(p)
    success_url = as_str(p, "success_url")
    if p.get("ui_mode", "hosted") == "hosted" and not success_url:
        raise invalid_request("Missing required param: success_url.", param="success_url", code="parameter_missing")
    pdata = p.get("payment_intent_data") or {}
    if not isinstance(pdata, dict):
        raise invalid_request("Invalid object", param="payment_intent_data")
    currency = items[0]["currency"]
    amount = sum(item["amount_total"] for item in items)
    if (minimum := below_minimum(amount, currency)) is not None:
        raise invalid_request(
            f"The Checkout Session's total amount due must add up to at least {minimum}", param="line_items"
        )
    session = objects.checkout_session(
        public_url=rt.public_url,
        currency=currency,
        amount=amount,
        metadata=as_metadata(p),
        client_reference_id=as_str(p, "client_reference_id"),
        success_url=success_url,
        cancel_url=as_str(p, "cancel_url"),
        expires_at=_expires_at(p),
        customer_email=as_str(p, "customer_email"),
        locale=as_str(p, "locale"),
        payment_method_types=[str(x) for x in as_list(p, "payment_method_types")] or ["card"],
    )
    private = {
        "line_items": items,
        "payment_intent_data": {
            "metadata": as_metadata(pdata),
            "description": as_str(pdata, "description"),
            "transfer_group": as_str(pdata, "transfer_group"),
        },
    }
    rt.sandbox.store.insert(session, private)
    return ok(rt.sandbox.expand(session, expand_paths(p)))


async def retrieve(request: Request) -> JSONResponse:
    rt, p = runtime(request), await params(request)
    session = rt.sandbox.store.require(request.path_params["id"], "checkout.session")
    return ok(rt.sandbox.expand(session, expand_paths(p)))


async def list_sessions(request: Request) -> JSONResponse:
    rt, p = runtime(request), await params(request)
    where = eq_filters(p, ("payment_intent", "status", "client_reference_id"))
    return list_page(rt, "checkout.session", "/v1/checkout/sessions", p, where)


async def line_items(request: Request) -> JSONResponse:
    rt, p = runtime(request), await params(request)
    session = rt.sandbox.store.require(request.path_params["id"], "checkout.session")
    limit, after, before = paginate_params(p)
    items = rt.sandbox.line_items(session["id"])
    ids = [item["id"] for item in items]
    start, stop = 0, len(items)
    for cursor, param in ((after, "starting_after"), (before, "ending_before")):
        if cursor and cursor not in ids:
            raise invalid_request(f"No such line item: '{cursor}'", param=param, code="resource_missing")
    if after:
        start = ids.index(after) + 1
    if before:
        stop = ids.index(before)
        start = max(0, stop - limit)
    chosen = items[start:stop][:limit]
    has_more = (start + len(chosen) < len(items)) if not before else start > 0
    return ok(
        {
            "object": "list",
            "data": chosen,
            "has_more": has_more,
            "url": f"/v1/checkout/sessions/{session['id']}/line_items",
        }
    )


async def expire(request: Request) -> JSONResponse:
    rt, p = runtime(request), await params(request)
    session = rt.payments.expire_checkout(request.path_params["id"], ctx(request))
    return ok(rt.sandbox.expand(session, expand_paths(p)))


routes = [
    Route("/v1/checkout/sessions", create, methods=["POST"]),
    Route("/v1/checkout/sessions", list_sessions, methods=["GET"]),
    Route("/v1/checkout/sessions/{id}", retrieve, methods=["GET"]),
    Route("/v1/checkout/sessions/{id}/line_items", line_items, methods=["GET"]),
    Route("/v1/checkout/sessions/{id}/expire", expire, methods=["POST"]),
]
