"""The sync service's kiosk API over httpx.AsyncClient, with timeouts on every call.

Errors come out as two kinds the view models can explain to a waiter:
`Unreachable` (no connection: the order stays local) and `ApiError` (the
service answered with an error; its message is written for a waiter).
"""

from __future__ import annotations

from typing import Any

import httpx


class Unreachable(Exception):
    """The sync service could not be reached (connection refused, timeout, reset)."""


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, body: dict[str, Any]) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.body = status, code, message, body


class SyncClient:
    """One instance per kiosk. `aclose()` when done."""

    def __init__(self, base_url: str, token: str, *, timeout: float = 10.0,
                 transport: httpx.AsyncBaseTransport | None = None) -> None:
        self._timeout = timeout
        self._http = httpx.AsyncClient(base_url=base_url.rstrip("/"), timeout=httpx.Timeout(timeout),
                                       headers={"Authorization": f"Bearer {token}"}, transport=transport)

    @property
    def base_url(self) -> str:
        return str(self._http.base_url)

    async def aclose(self) -> None:
        await self._http.aclose()

    async def _request(self, method: str, url: str, *, timeout: httpx.Timeout | None = None,
                       **kwargs: Any) -> dict[str, Any]:
        try:
            response = await self._http.request(method, url, timeout=timeout or httpx.USE_CLIENT_DEFAULT, **kwargs)
        except httpx.TransportError as exc:  # connect, read, write, pool, protocol errors
            raise Unreachable(f"the sync service at {self.base_url} is unreachable ({type(exc).__name__})") from exc
        try:
            body = response.json()
        except ValueError:
            body = {}
        if response.status_code >= 400:
            error = body.get("error", {}) if isinstance(body, dict) else {}
            raise ApiError(response.status_code, str(error.get("code", response.status_code)),
                           str(error.get("message", response.reason_phrase)), body)
        return dict(body)

    async def whoami(self) -> str:
        """The kiosk id behind this token (GET /v1/kiosk): checks the token at pairing and in settings."""
        body = await self._request("GET", "/v1/kiosk")
        return str(body["kiosk_id"])

    async def create_checkout(self, order: dict[str, Any], idempotency_key: str) -> dict[str, Any]:
        return await self._request("POST", "/v1/checkouts", json=order, headers={"Idempotency-Key": idempotency_key})

    async def payment(self, payment_id: str) -> dict[str, Any]:
        return await self._request("GET", f"/v1/payments/{payment_id}")

    async def cancel(self, payment_id: str) -> dict[str, Any]:
        return await self._request("POST", f"/v1/payments/{payment_id}/cancel")

    async def events(self, after: int, wait: float) -> dict[str, Any]:
        """One long poll; the read timeout leaves the server its `wait` plus a margin."""
        timeout = httpx.Timeout(self._timeout, read=wait + self._timeout)
        return await self._request("GET", "/v1/events", params={"after": after, "wait": wait}, timeout=timeout)
