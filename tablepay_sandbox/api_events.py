"""/v1/events, /v1/webhook_endpoints and /v1/transfers."""

from __future__ import annotations

import json
import secrets
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from tablepay_domain.money import MINOR_UNITS

from . import objects
from .errors import invalid_request
from .forms import Params, as_bool, as_int, as_list, as_metadata, as_str, reject_unknown
from .runtime import Runtime, ctx, eq_filters, expand_paths, list_page, ok, params, runtime
from .store import Obj

_RANGE_OPS = {"gt": ">", "gte": ">=", "lt": "<", "lte": "<="}


def _created_filter(p: Params) -> list[tuple[str, Any]]:
    """`created=123` or `created[gte]=...&created[lt]=...`, as every Stripe list accepts."""
    value = p.get("created")
    if value is None or value == "":
        return []
    if isinstance(value, str):
        return [("created = ?", as_int(p, "created"))]
    if not isinstance(value, dict):
        raise invalid_request("Invalid hash", param="created")
    where: list[tuple[str, Any]] = []
    for op in value:
        if op not in _RANGE_OPS:
            raise invalid_request(f"Received unknown parameter: created[{op}]", param=f"created[{op}]")
        where.append((f"created {_RANGE_OPS[op]} ?", as_int(value, op)))
    return where


async def list_events(request: Request) -> JSONResponse:
    rt, p = runtime(request), await params(request)
    where = _created_filter(p)
    type_ = as_str(p, "type")
    types = [str(t) for t in as_list(p, "types")]
    if type_ and types:
        raise invalid_request("You may only specify one of these parameters: type, types.", param="types")
    if type_:  # Stripe allows a `*` wildcard: `charge.*`
        where.append(("json_extract(data, '$.type') GLOB ?", type_))
    if types:
        if len(types) > 20:
            raise invalid_request("You may pass at most 20 event types.", param="types")
        where.append(("json_extract(data, '$.type') IN (SELECT value FROM json_each(?))", json.dumps(types)))
    return list_page(rt, "event", "/v1/events", p, where, view=rt.sandbox.event_view)


async def retrieve_event(request: Request) -> JSONResponse:
    rt = runtime(request)
    event = rt.sandbox.store.require(request.path_params["id"], "event")
    return ok(rt.sandbox.event_view(event))


def _enabled_events(p: Params, required: bool) -> list[str] | None:
    events = [str(e) for e in as_list(p, "enabled_events")]
    if not events:
        if required:
            raise invalid_request(
                "Missing required param: enabled_events.", param="enabled_events", code="parameter_missing"
            )
        return None
    return events


def _url(p: Params, required: bool) -> str | None:
    url = as_str(p, "url", required=required)
    if url is not None and not url.startswith(("http://", "https://")):
        raise invalid_request("Invalid URL: URL must be publicly accessible and use http or https.", param="url")
    return url


def create_endpoint(
    rt: Runtime,
    url: str,
    enabled_events: list[str],
    *,
    secret: str | None = None,
    description: str | None = None,
    metadata: dict[str, str] | None = None,
    api_version: str | None = None,
) -> Obj:
    """Shared by the API and the startup registration; returns the object with `secret`."""
    endpoint = objects.webhook_endpoint(
        url=url,
        enabled_events=enabled_events,
        description=description,
        metadata=metadata or {},
        api_version=api_version,
    )
    secret = secret or "whsec_" + secrets.token_hex(24)
    rt.sandbox.store.insert(endpoint, {"secret": secret})
    return {**endpoint, "secret": secret}


async def create_webhook_endpoint(request: Request) -> JSONResponse:
    rt, p = runtime(request), await params(request)
    reject_unknown(p, {"url", "enabled_events", "description", "metadata", "api_version", "connect", "expand"})
    url = _url(p, True)
    events = _enabled_events(p, True)
    assert url is not None and events is not None
    return ok(
        create_endpoint(
            rt,
            url,
            events,
            description=as_str(p, "description"),
            metadata=as_metadata(p),
            api_version=as_str(p, "api_version"),
        )
    )


async def update_webhook_endpoint(request: Request) -> JSONResponse:
    rt, p = runtime(request), await params(request)
    reject_unknown(p, {"url", "enabled_events", "description", "metadata", "disabled", "expand"})
    endpoint = rt.sandbox.store.require(request.path_params["id"], "webhook_endpoint", param="webhook_endpoint")
    if (url := _url(p, False)) is not None:
        endpoint["url"] = url
    if (events := _enabled_events(p, False)) is not None:
        endpoint["enabled_events"] = events
    if "description" in p:
        endpoint["description"] = as_str(p, "description")
    if "metadata" in p:
        endpoint["metadata"] = {**endpoint["metadata"], **as_metadata(p)}
    if "disabled" in p:
        endpoint["status"] = "disabled" if as_bool(p, "disabled") else "enabled"
    return ok(rt.sandbox.store.save(endpoint))


async def retrieve_webhook_endpoint(request: Request) -> JSONResponse:
    rt = runtime(request)
    return ok(rt.sandbox.store.require(request.path_params["id"], "webhook_endpoint", param="webhook_endpoint"))


async def delete_webhook_endpoint(request: Request) -> JSONResponse:
    rt = runtime(request)
    endpoint = rt.sandbox.store.require(request.path_params["id"], "webhook_endpoint", param="webhook_endpoint")
    rt.sandbox.store.delete(endpoint["id"])
    return ok({"id": endpoint["id"], "object": "webhook_endpoint", "deleted": True})


async def list_webhook_endpoints(request: Request) -> JSONResponse:
    rt, p = runtime(request), await params(request)
    return list_page(rt, "webhook_endpoint", "/v1/webhook_endpoints", p)


async def create_transfer(request: Request) -> JSONResponse:
    rt, p = runtime(request), await params(request)
    reject_unknown(
        p,
        {
            "amount",
            "currency",
            "destination",
            "source_transaction",
            "transfer_group",
            "metadata",
            "description",
            "expand",
            "source_type",
        },
    )
    amount = as_int(p, "amount", required=True, minimum=1)
    currency = (as_str(p, "currency", required=True) or "").lower()
    destination = as_str(p, "destination", required=True)
    assert amount is not None and destination is not None
    if currency.upper() not in MINOR_UNITS:
        raise invalid_request(f"Invalid currency: {currency}.", param="currency")
    if not destination.startswith("acct_"):
        raise invalid_request(f"No such destination: '{destination}'", param="destination", code="resource_missing")
    source = as_str(p, "source_transaction")
    if source:
        charge = rt.sandbox.store.get(source)
        if charge is None or charge["object"] != "charge":
            raise invalid_request(f"No such charge: '{source}'", param="source_transaction", code="resource_missing")
        if charge["status"] != "succeeded":
            raise invalid_request(
                f"The source_transaction {source} has not succeeded (status: {charge['status']}).",
                param="source_transaction",
            )
        if charge["currency"] != currency:
            raise invalid_request(
                f"The currency of source_transaction's balance transaction ({charge['currency']}) "
                f"must be the same as the transfer currency ({currency})",
                param="currency",
            )
        if amount > charge["amount"]:
            raise invalid_request(
                f"The transfer amount ({amount}) is greater than the source transaction amount ({charge['amount']}).",
                param="amount",
            )
    transfer = objects.transfer(
        amount=amount,
        currency=currency,
        destination=destination,
        source_transaction=source,
        transfer_group=as_str(p, "transfer_group"),
        description=as_str(p, "description"),
        metadata=as_metadata(p),
    )
    return ok(rt.sandbox.expand(rt.payments.transfer(transfer, ctx(request)), expand_paths(p)))


async def retrieve_transfer(request: Request) -> JSONResponse:
    rt, p = runtime(request), await params(request)
    transfer = rt.sandbox.store.require(request.path_params["id"], "transfer", param="transfer")
    return ok(rt.sandbox.expand(transfer, expand_paths(p)))


async def create_transfer_reversal(request: Request) -> JSONResponse:
    rt, p = runtime(request), await params(request)
    reject_unknown(p, {"amount", "metadata", "description", "refund_application_fee", "expand"})
    transfer = rt.sandbox.store.require(request.path_params["id"], "transfer", param="id")
    amount = as_int(p, "amount", minimum=1)
    reversal = rt.payments.reverse_transfer(transfer, amount, as_metadata(p), ctx(request))
    return ok(rt.sandbox.expand(reversal, expand_paths(p)))


async def list_transfers(request: Request) -> JSONResponse:
    rt, p = runtime(request), await params(request)
    return list_page(
        rt, "transfer", "/v1/transfers", p, eq_filters(p, ("destination", "transfer_group")) + _created_filter(p)
    )


routes = [
    Route("/v1/events", list_events, methods=["GET"]),
    Route("/v1/events/{id}", retrieve_event, methods=["GET"]),
    Route("/v1/webhook_endpoints", create_webhook_endpoint, methods=["POST"]),
    Route("/v1/webhook_endpoints", list_webhook_endpoints, methods=["GET"]),
    Route("/v1/webhook_endpoints/{id}", retrieve_webhook_endpoint, methods=["GET"]),
    Route("/v1/webhook_endpoints/{id}", update_webhook_endpoint, methods=["POST"]),
    Route("/v1/webhook_endpoints/{id}", delete_webhook_endpoint, methods=["DELETE"]),
    Route("/v1/transfers", create_transfer, methods=["POST"]),
    Route("/v1/transfers", list_transfers, methods=["GET"]),
    Route("/v1/transfers/{id}", retrieve_transfer, methods=["GET"]),
    Route("/v1/transfers/{id}/reversals", create_transfer_reversal, methods=["POST"]),
]
