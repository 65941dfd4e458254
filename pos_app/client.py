"""The sync service's kiosk API over httpx.AsyncClient, with timeouts on every call.

Errors come out as two kinds the view models can explain to a waiter:
`Unreachable` (no connection: the order stays local) and `ApiError` (the
service answered with an error; its message is written for a waiter). A
success whose body is not a JSON object is `MalformedAnswer`, never read as
an empty answer (the view models' `recover` handles it as the bug it is).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx


class Unreachable(Exception):
    """The sync service could not be reached (connection refused, timeout, reset)."""


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, body: dict[str, Any]) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.body = status, code, message, body


class MalformedAnswer(Exception):
    """The service answered 2xx with a body that is not a JSON object."""


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


BILL_PROGRESS = ("version", "total", "paid", "held", "remaining", "guests_paying")


def _bill(body: dict[str, Any], *, url: bool) -> dict[str, Any]:
    """A bill answer the kiosk can show: its status, its amounts (and its page's URL when opened)."""
    if not isinstance(body.get("status"), str) or not all(_is_int(body.get(key)) for key in BILL_PROGRESS):
        raise MalformedAnswer("the sync service's bill answer lacks its status or amounts")
    if url and not isinstance(body.get("bill_url"), str):
        raise MalformedAnswer("the sync service's bill answer has no bill_url")
    return body


def _kiosk_id(body: dict[str, Any]) -> str:
    if not isinstance(body.get("kiosk_id"), str):
        raise MalformedAnswer("the sync service's kiosk answer has no kiosk_id")
    return str(body["kiosk_id"])


@dataclass(frozen=True)
class KioskIdentity:
    """GET /v1/kiosk: who this token is, and what the service lets the kiosk offer."""

    kiosk_id: str
    donations: bool | None  # None: a service that does not say (older than the question): the settings decide
    donation_partner: str = ""
    kitchen: str = "on_send"  # TABLEPAY_KITCHEN; after_payment: orders go to the kitchen once paid


class SyncClient:
    """One instance per kiosk. `aclose()` when done."""

    def __init__(
        self,
        base_url: str,
        token: str | None,
        *,
        timeout: float = 10.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        """`token=None`: an unpaired kiosk, which may only ask for a pairing code."""
        self._timeout = timeout
        self._http = httpx.AsyncClient(
            base_url=base_url.rstrip("/"),
            timeout=httpx.Timeout(timeout),
            headers={"Authorization": f"Bearer {token}"} if token else {},
            transport=transport,
        )

    @property
    def base_url(self) -> str:
        return str(self._http.base_url)

    async def aclose(self) -> None:
        await self._http.aclose()

    async def _request(
        self, method: str, url: str, *, timeout: httpx.Timeout | None = None, **kwargs: Any
    ) -> dict[str, Any]:
        try:
            response = await self._http.request(method, url, timeout=timeout or httpx.USE_CLIENT_DEFAULT, **kwargs)
        except httpx.TransportError as exc:  # connect, read, write, pool, protocol errors
            raise Unreachable(f"the sync service at {self.base_url} is unreachable ({type(exc).__name__})") from exc
        try:
            body = response.json()
        except ValueError:
            body = None
        if response.status_code >= 400:
            error = body.get("error", {}) if isinstance(body, dict) else {}
            raise ApiError(
                response.status_code,
                str(error.get("code", response.status_code)),
                str(error.get("message", response.reason_phrase)),
                body if isinstance(body, dict) else {},
            )
        if not isinstance(body, dict):
            # Never read as "nothing": an empty answer to Send to kitchen would say the kitchen has every dish.
            raise MalformedAnswer(
                f"the sync service answered {method} {url} with {response.status_code} and "
                f"{'no JSON' if body is None else type(body).__name__} instead of a JSON object"
            )
        return body

    async def whoami(self) -> str:
        """The kiosk id behind this token (GET /v1/kiosk): checks the token at pairing and in settings."""
        return _kiosk_id(await self._request("GET", "/v1/kiosk"))

    async def identity(self) -> KioskIdentity:
        """GET /v1/kiosk as the running kiosk reads it each time it connects: also whether the
        service takes donations. (Pairing asks only `whoami`, so a bad donations field never stops it.)"""
        body = await self._request("GET", "/v1/kiosk")
        donations, partner = body.get("donations"), body.get("donation_partner", "")
        kitchen = body.get("kitchen", "on_send")  # a service older than pay-first sends on send
        if not (donations is None or isinstance(donations, bool)) or not isinstance(partner, str):
            raise MalformedAnswer("the sync service's kiosk answer has a malformed donations or donation_partner")
        if kitchen not in ("on_send", "after_payment"):
            raise MalformedAnswer(f"the sync service's kiosk answer has an unknown kitchen {kitchen!r}")
        return KioskIdentity(_kiosk_id(body), donations, partner, kitchen)

    async def create_pairing_code(self, kiosk_name: str | None) -> dict[str, Any]:
        """A code to show until an operator approves it (POST /v1/pairing/codes, no token):
        {code, poll_token, expires_at, expires_in}. 429 rate_limited past this address's budget."""
        body = await self._request("POST", "/v1/pairing/codes", json={"kiosk_name": kiosk_name})
        if not (
            isinstance(body.get("code"), str)
            and isinstance(body.get("poll_token"), str)
            and _is_int(body.get("expires_in"))
        ):
            raise MalformedAnswer("the sync service's pairing code answer lacks code, poll_token or expires_in")
        return body

    async def pairing_code(self, code: str, poll_token: str, wait: float) -> dict[str, Any]:
        """One long poll of a pairing code: {status: waiting, expires_in} or, once, {status: paired,
        kiosk_id, token}. 404 when it is wrong, expired or already used."""
        timeout = httpx.Timeout(self._timeout, read=wait + self._timeout)
        body = await self._request(
            "GET",
            f"/v1/pairing/codes/{code}",
            params={"wait": wait},
            timeout=timeout,
            headers={"Poll-Token": poll_token},
        )
        status = body.get("status")
        if status == "paired" and isinstance(body.get("kiosk_id"), str) and isinstance(body.get("token"), str):
            return body
        if status == "waiting" and _is_int(body.get("expires_in")):
            return body
        raise MalformedAnswer(f"the sync service's pairing answer is neither waiting nor paired ({status!r})")

    async def create_checkout(self, order: dict[str, Any], idempotency_key: str) -> dict[str, Any]:
        return await self._request("POST", "/v1/checkouts", json=order, headers={"Idempotency-Key": idempotency_key})

    async def open_bill(self, order: dict[str, Any]) -> dict[str, Any]:
        """Split the order's bill (POST /v1/orders/{id}/bill, docs/split-bill.md): 201 opened, 200 the open
        one (a new version when the dishes changed). The snapshot goes without tip and donation: each
        guest adds their own. {bill_id, bill_url, status, version, currency, total, paid, held, remaining,
        guests_paying, split_ways}."""
        body = {**order, "tip_amount": 0, "donation_amount": 0}
        return _bill(await self._request("POST", f"/v1/orders/{order['order_id']}/bill", json=body), url=True)

    async def stop_bill(self, order_id: str) -> dict[str, Any]:
        """End the split (DELETE /v1/orders/{id}/bill): open holds are released, paid shares stay; what is
        left can then be paid in full with create_checkout. The bill's answer, with status stopped."""
        return _bill(await self._request("DELETE", f"/v1/orders/{order_id}/bill"), url=False)

    async def payment(self, payment_id: str) -> dict[str, Any]:
        return await self._request("GET", f"/v1/payments/{payment_id}")

    async def cancel(self, payment_id: str) -> dict[str, Any]:
        return await self._request("POST", f"/v1/payments/{payment_id}/cancel")

    async def refresh(self, payment_id: str) -> dict[str, Any]:
        """Ask the service to re-read the payment from the provider (POST /v1/payments/{id}/refresh)."""
        return await self._request("POST", f"/v1/payments/{payment_id}/refresh")

    async def refund(
        self, payment_id: str, amount: int, idempotency_key: str, reason: str = "requested_by_customer"
    ) -> dict[str, Any]:
        """Ask for a refund (manager scope). 202 {refund_id, payment_id, amount, currency, status}.
        Refusals: 403 forbidden, 409 not_refundable, 422 refund_too_large / invalid_refund,
        502 provider_unavailable. The payment's state changes only through the feed."""
        return await self._request(
            "POST",
            f"/v1/payments/{payment_id}/refunds",
            json={"amount": amount, "reason": reason},
            headers={"Idempotency-Key": idempotency_key},
        )

    async def lookup(self, payment_ids: list[str]) -> list[dict[str, Any]]:
        """The service's view of up to 500 payments (POST /v1/payments/lookup): status, amounts, pos_status."""
        body = await self._request("POST", "/v1/payments/lookup", json={"payment_ids": payment_ids})
        payments = body.get("payments")
        if not isinstance(payments, list):  # an answer without it must not read as "the service knows none"
            raise MalformedAnswer("the sync service's lookup answer has no list of payments")
        return payments

    async def partner_deliveries(self, *, failed: bool) -> dict[str, Any]:
        """The partners' endpoints (a disabled one says why, a failing one since when) and their webhook
        deliveries (`failed`: only the given-up ones): GET /v1/partners/deliveries, a manager token (403)."""
        body = await self._request("GET", "/v1/partners/deliveries", params={"failed": str(failed).lower()})
        if not isinstance(body.get("partners"), list):
            raise MalformedAnswer("the sync service's partners answer has no list of partners")
        return body

    async def send_order(self, order: dict[str, Any]) -> dict[str, Any]:
        """Send to the kitchen (POST /v1/orders): the service queues for the POS the dishes it has not
        had yet. 202 {order_id, pos_status, package, kitchen, order_status, message}; package is None when
        nothing was new; pos_status is None for a pay-first order (it goes to the kitchen once paid).
        Refusals: 409 lines_already_sent / conflict, 422 invalid_order, 503 pos_disabled."""
        return await self._request("POST", "/v1/orders", json=order)

    async def pos_state(self, order_id: str) -> dict[str, Any]:
        """Where an order stands in the POS: status, packages and trail (404 when never sent)."""
        return await self._request("GET", f"/v1/orders/{order_id}/pos")

    async def order_history(self, order_id: str) -> dict[str, Any]:
        """Each attempt of an order with the provider events that moved it (404 when the service has none)."""
        return await self._request("GET", f"/v1/orders/{order_id}/history")

    async def pos_menu(self, currency: str) -> dict[str, Any]:
        """The menu as the POS sells it now, in the shape of resources/menu.json without tables.
        Refusals: 502 pos_unavailable, 503 pos_disabled."""
        return await self._request("GET", "/v1/menu", params={"currency": currency})

    async def events(self, after: int, wait: float) -> dict[str, Any]:
        """One long poll; the read timeout leaves the server its `wait` plus a margin."""
        timeout = httpx.Timeout(self._timeout, read=wait + self._timeout)
        # `events=all`: split bills' and order statuses' events too (a kiosk of an earlier release is sent
        # only those it can apply)
        params = {"after": after, "wait": wait, "events": "all"}
        return await self._request("GET", "/v1/events", params=params, timeout=timeout)
