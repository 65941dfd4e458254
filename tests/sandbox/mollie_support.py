"""What the Mollie fake's tests share: Mollie's own async client, a webhook receiver, amounts.

Expected decimal places come from ISO 4217 (the domain's table), never from the fake's own table,
which is Mollie's list.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import httpx
from mollie import ClientSDK, models, utils
from mollie.types import UNSET

from tablepay_domain.money import minor_units

from .conftest import Sandbox

MOLLIE_KEY = "test_tablepaySandboxKey1234567890"
T = TypeVar("T")


def value(minor: int, currency: str) -> str:
    """Mollie's amount string by an independent rule: ISO 4217's minor units for the currency."""
    places = minor_units(currency)
    whole, fraction = divmod(minor, 10**places)
    return f"{whole}.{fraction:0{places}d}" if places else str(whole)


def amount(minor: int, currency: str = "EUR") -> dict[str, str]:
    return {"currency": currency, "value": value(minor, currency)}


NO_RETRIES = utils.RetryConfig("none", utils.BackoffStrategy(0, 0, 1.0, 0), retry_connection_errors=False)


def sdk(
    sandbox: Sandbox, work: Callable[[ClientSDK], Awaitable[T]], api_key: str = MOLLIE_KEY, *, retries: bool = False
) -> T:
    """Run `work(client)` with Mollie's generated async client pointed at the sandbox (without its retries,
    unless `retries`: then its default, backoff on 429 and 5xx)."""

    async def run() -> T:
        security = models.Security(api_key=api_key)
        config = UNSET if retries else NO_RETRIES
        async with ClientSDK(security=security, server_url=sandbox.url, retry_config=config) as client:
            return await work(client)

    return asyncio.run(run())


def mollie_api(sandbox: Sandbox, method: str, path: str, api_key: str = MOLLIE_KEY, **kwargs: Any) -> httpx.Response:
    headers = {"Authorization": f"Bearer {api_key}", **kwargs.pop("headers", {})}
    return httpx.request(method, sandbox.url + path, headers=headers, timeout=10, **kwargs)


def payment_request(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "amount": amount(1000),
        "description": "Table 7, bill 42",
        "redirectUrl": "https://tablepay.example/return/42",
        "metadata": {"bill": "42"},
    }
    body.update(overrides)
    return body


def create(sandbox: Sandbox, **overrides: Any) -> dict[str, Any]:
    response = mollie_api(sandbox, "POST", "/v2/payments", json=payment_request(**overrides))
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def set_status(sandbox: Sandbox, payment_id: str, status: str) -> dict[str, Any]:
    response = sandbox.control("POST", f"/_sandbox/mollie/payments/{payment_id}/status", json={"status": status})
    assert response.status_code == 200, response.text
    answered: dict[str, Any] = response.json()
    return answered


def paid(sandbox: Sandbox, **overrides: Any) -> dict[str, Any]:
    return set_status(sandbox, create(sandbox, **overrides)["id"], "paid")


def deliveries(sandbox: Sandbox, **params: str) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = sandbox.control("GET", "/_sandbox/mollie/deliveries", params=params).json()["data"]
    return rows
