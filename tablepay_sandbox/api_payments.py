"""/v1/payment_intents, /v1/charges and /v1/refunds."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from tablepay_domain.money import MINOR_UNITS

from . import objects
from .errors import invalid_request
from .forms import as_bool, as_int, as_list, as_metadata, as_str, reject_unknown
from .money_format import below_minimum
from .runtime import ctx, eq_filters, expand_paths, list_page, ok, params, runtime

_PI_PARAMS = {
    "amount",
    "currency",
    "metadata",
    "description",
    "transfer_group",
    "payment_method",
    "confirm",
    "payment_method_types",
    "automatic_payment_methods",
    "expand",
    "capture_method",
    "receipt_email",
    "statement_descriptor_suffix",
    "return_url",
    "customer",
    "off_session",
}


def _currency(value: str | None, param: str = "currency") -> str:
    if value is None:
        raise invalid_request(f"Missing required param: {param}.", param=param, code="parameter_missing")
    if value.upper() not in MINOR_UNITS:
        raise invalid_request(f"Invalid currency: {value.lower()}.", param=param)
    return value.lower()


async def create_intent(request: Request) -> JSONResponse:
    rt, p, c = runtime(request), await params(request), ctx(request)
    reject_unknown(p, _PI_PARAMS)
    amount = as_int(p, "amount", required=True, minimum=1)
    assert amount is not None
    types = [str(x) for x in as_list(p, "payment_method_types")]
    currency = _currency(as_str(p, "currency"))
    if (minimum := below_minimum(amount, currency)) is not None:
        raise invalid_request(f"Amount must be at least {minimum}", param="amount", code="amount_too_small")
    pi = objects.payment_intent(
        amount=amount,
        currency=currency,
        metadata=as_metadata(p),
        description=as_str(p, "description"),
        transfer_group=as_str(p, "transfer_group"),
        payment_method_types=types or ["card"],
        automatic=not types,
    )
    token = as_str(p, "payment_method")
    if token:
        pi.update(status="requires_confirmation", payment_method=objects.new_id("pm_1"))
    rt.payments.create_intent(pi, c, token)
    if token and as_bool(p, "confirm"):
        pi, _ = rt.payments.charge_intent(pi, token, c)
        if pi["status"] != "succeeded":
            raise rt.payments.decline_error(pi)
    return ok(rt.sandbox.expand(pi, expand_paths(p)))


async def retrieve_intent(request: Request) -> JSONResponse:
    rt, p = runtime(request), await params(request)
    pi = rt.sandbox.store.require(request.path_params["id"], "payment_intent", param="intent")
    return ok(rt.sandbox.expand(pi, expand_paths(p)))


async def confirm_intent(request: Request) -> JSONResponse:
    rt, p, c = runtime(request), await params(request), ctx(request)
    reject_unknown(
        p, {"payment_method", "expand", "return_url", "off_session", "receipt_email", "payment_method_types"}
    )
    pi = rt.sandbox.store.require(request.path_params["id"], "payment_intent", param="intent")
    if pi["status"] not in ("requires_payment_method", "requires_confirmation"):
        raise invalid_request(
            f"You cannot confirm this PaymentIntent because it has a status of {pi['status']}. "
            "Only a PaymentIntent with one of the following statuses may be confirmed: "
            "requires_confirmation, requires_action, requires_payment_method.",
            code="payment_intent_unexpected_state",
        )
    token = as_str(p, "payment_method") or rt.sandbox.store.private(pi["id"]).get("token")
    if not token:
        raise invalid_request(
            "You cannot confirm this PaymentIntent because it's missing a payment method. "
            "To confirm the PaymentIntent with cus_xxx, specify a payment method attached to "
            "this customer along with the customer ID.",
            code="payment_intent_unexpected_state",
        )
    pi, _ = rt.payments.charge_intent(pi, token, c)
    if pi["status"] != "succeeded":
        raise rt.payments.decline_error(pi)
    return ok(rt.sandbox.expand(pi, expand_paths(p)))


async def cancel_intent(request: Request) -> JSONResponse:
    rt, p = runtime(request), await params(request)
    pi = rt.sandbox.store.require(request.path_params["id"], "payment_intent", param="intent")
    pi = rt.payments.cancel_intent(pi, as_str(p, "cancellation_reason"), ctx(request))
    return ok(rt.sandbox.expand(pi, expand_paths(p)))


async def list_intents(request: Request) -> JSONResponse:
    rt, p = runtime(request), await params(request)
    return list_page(rt, "payment_intent", "/v1/payment_intents", p, eq_filters(p, ("customer",)))


async def retrieve_charge(request: Request) -> JSONResponse:
    rt, p = runtime(request), await params(request)
    charge = rt.sandbox.store.require(request.path_params["id"], "charge", param="charge")
    return ok(rt.sandbox.expand(charge, expand_paths(p)))


async def list_charges(request: Request) -> JSONResponse:
    rt, p = runtime(request), await params(request)
    return list_page(rt, "charge", "/v1/charges", p, eq_filters(p, ("payment_intent", "transfer_group")))


async def create_refund(request: Request) -> JSONResponse:
    rt, p, c = runtime(request), await params(request), ctx(request)
    reject_unknown(
        p,
        {
            "charge",
            "payment_intent",
            "amount",
            "metadata",
            "reason",
            "expand",
            "refund_application_fee",
            "reverse_transfer",
            "instructions_email",
        },
    )
    store = rt.sandbox.store
    charge_id, pi_id = as_str(p, "charge"), as_str(p, "payment_intent")
    if charge_id and pi_id:
        raise invalid_request("You can only specify one of these parameters: charge, payment_intent.")
    if pi_id:
        pi = store.require(pi_id, "payment_intent", param="payment_intent")
        if not pi["latest_charge"] or pi["status"] != "succeeded":
            raise invalid_request(
                f"This PaymentIntent ({pi_id}) does not have a successful charge to refund.", param="payment_intent"
            )
        charge_id = pi["latest_charge"]
    if not charge_id:
        raise invalid_request(
            "One of the following params should be provided for this request: payment_intent or charge.",
            code="parameter_missing",
        )
    charge = store.require(charge_id, "charge", param="charge")
    reason = as_str(p, "reason")
    if reason not in (None, "duplicate", "fraudulent", "requested_by_customer"):
        raise invalid_request(
            "Invalid reason: must be one of duplicate, fraudulent, or requested_by_customer", param="reason"
        )
    refund = rt.payments.refund(charge, as_int(p, "amount", minimum=1), as_metadata(p), reason, c)
    return ok(rt.sandbox.expand(refund, expand_paths(p)))


async def retrieve_refund(request: Request) -> JSONResponse:
    rt, p = runtime(request), await params(request)
    refund = rt.sandbox.store.require(request.path_params["id"], "refund", param="refund")
    return ok(rt.sandbox.expand(refund, expand_paths(p)))


async def list_refunds(request: Request) -> JSONResponse:
    rt, p = runtime(request), await params(request)
    return list_page(rt, "refund", "/v1/refunds", p, eq_filters(p, ("charge", "payment_intent")))


routes = [
    Route("/v1/payment_intents", create_intent, methods=["POST"]),
    Route("/v1/payment_intents", list_intents, methods=["GET"]),
    Route("/v1/payment_intents/{id}", retrieve_intent, methods=["GET"]),
    Route("/v1/payment_intents/{id}/confirm", confirm_intent, methods=["POST"]),
    Route("/v1/payment_intents/{id}/cancel", cancel_intent, methods=["POST"]),
    Route("/v1/charges", list_charges, methods=["GET"]),
    Route("/v1/charges/{id}", retrieve_charge, methods=["GET"]),
    Route("/v1/refunds", create_refund, methods=["POST"]),
    Route("/v1/refunds", list_refunds, methods=["GET"]),
    Route("/v1/refunds/{id}", retrieve_refund, methods=["GET"]),
]
