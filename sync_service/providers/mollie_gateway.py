"""Mollie adapter: Payments API v2, id-only webhooks, refunds and delayed routes, through Mollie's own client.

The client is `mollie-api-py` (Mollie's generated async SDK on httpx and
pydantic; docs/sync-service.md says why not the legacy `mollie-api-python`).
MOLLIE_API_BASE points it at the sandbox (the client adds `/v2`); unset, it
talks to api.mollie.com. A webhook carries only `id=tr_...`: nothing in it is
believed, the payment is fetched with our key and what Mollie says is applied.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Mapping
from functools import partial
from typing import Any, TypeVar
from urllib.parse import parse_qs

import httpx
import orjson
import structlog
from mollie import ClientSDK, models
from mollie.utils import BackoffStrategy, RetryConfig

from .base import (
    CheckoutNotStoppable,
    CheckoutRequest,
    DonationReversal,
    HostedCheckout,
    InvalidWebhook,
    MalformedObject,
    Observation,
    ProviderError,
    ProviderNotice,
    RefundResult,
)
from .mollie_money import CurrencyNotTaken, minor_from_mollie, mollie_amount, takes
from .mollie_objects import PAYMENT_ID, change_key, observation_from_payment
from .mollie_requests import created_before, page_start, payment_lines

T = TypeVar("T")
log = structlog.get_logger(__name__)
MOLLIE_API = "https://api.mollie.com"
LIVE_KEY = re.compile(r"live_\w+")
# Mollie's Payments API refuses an amount under 0.01 of the currency; each method has its own higher floor,
# which Mollie applies when it offers the methods, so the smallest amount we check is one minor unit.
MOLLIE_MINIMUM_CHARGE = 1
PAGE = 250  # the largest page Mollie lists
# Refund statuses in which the money did not (and will not) go back to the guest.
REFUND_UNDONE = frozenset({"failed", "canceled"})


def _dump(model: Any) -> dict[str, Any]:
    """An SDK object as Mollie's JSON (camelCase), for the code that checks it field by field."""
    return dict(model.model_dump(by_alias=True, mode="json", exclude_none=True))


class MollieGateway:
    name = "mollie"

    def __init__(
        self,
        api_key: str,
        *,
        webhook_url: str,
        api_base: str | None = None,
        timeout: float = 10.0,
        max_retries: int = 2,
    ) -> None:
        self._webhook_url = webhook_url
        # Redirects are not followed: an answer from anywhere but the API is not Mollie's.
        self._http = httpx.AsyncClient(timeout=timeout, follow_redirects=False)
        # Bounded and backed off: at most about `max_retries` waits of 0.25 s, 0.5 s, 1 s ... on 429, 5xx and
        # connection errors (POSTs carry an Idempotency-Key, so a retried create or refund is the same one).
        retry = (
            RetryConfig("backoff", BackoffStrategy(250, 2000, 2.0, 250 * (2**max_retries - 1) + 1), True)
            if max_retries
            else RetryConfig("none", BackoffStrategy(0, 0, 1.0, 0), False)
        )
        self._sdk = ClientSDK(
            security=models.Security(api_key=api_key),
            server_url=api_base or MOLLIE_API,
            async_client=self._http,
            retry_config=retry,
            timeout_ms=int(timeout * 1000),
        )
        self.livemode = bool(LIVE_KEY.fullmatch(api_key))

    async def aclose(self) -> None:
        await self._http.aclose()

    async def _call(self, operation: Callable[[], Awaitable[T]], what: str) -> T:
        try:
            return await operation()
        except models.ErrorResponse as exc:
            retryable = exc.data.status >= 500 or exc.data.status == 429
            detail = f"{exc.data.title}: {exc.data.detail}" + (f" ({exc.data.field})" if exc.data.field else "")
            raise ProviderError(
                f"Mollie {'is unavailable' if retryable else 'refused'} ({what}): {detail}",
                retryable=retryable,
                code=str(exc.data.status),
            ) from exc
        except models.ResponseValidationError as exc:
            raise ProviderError(f"Mollie answered {what} with an object we cannot use", retryable=False) from exc
        except models.ClientError as exc:
            retryable = exc.status_code >= 500 or exc.status_code == 429
            raise ProviderError(
                f"Mollie answered {what} with HTTP {exc.status_code}", retryable=retryable, code=str(exc.status_code)
            ) from exc
        except (httpx.TransportError, models.NoResponseError) as exc:
            raise ProviderError(f"Mollie is unavailable ({what}): {exc or type(exc).__name__}", retryable=True) from exc

    # checkouts ---------------------------------------------------------------------
    async def create_checkout(self, request: CheckoutRequest) -> HostedCheckout:
        order = request.order
        try:
            amount = mollie_amount(order.amount_total, order.currency)
            lines = payment_lines(order, request.donation_label)
        except CurrencyNotTaken as exc:
            raise ProviderError(str(exc), retryable=False, code="currency_not_taken") from exc
        body: dict[str, Any] = {
            "description": f"Table {order.table} - order {order.order_id}"[:255],
            "amount": amount,
            "redirect_url": request.return_url,
            "cancel_url": request.cancel_url,
            "webhook_url": self._webhook_url,
            "metadata": {"order_id": order.order_id, "payment_id": request.payment_id, "attempt": request.attempt},
            "lines": lines,
        }
        created = await self._call(
            lambda: self._sdk.payments.create_async(payment_request=body, idempotency_key=request.idempotency_key),  # type: ignore[arg-type]  # a plain dict where the SDK declares a TypedDict
            "a new payment",
        )
        payment = _dump(created)
        observed = self._observed(payment)
        checkout = ((payment.get("_links") or {}).get("checkout") or {}).get("href")
        if observed.session_id is None or not isinstance(checkout, str):
            raise ProviderError("Mollie created a payment without a checkout link", retryable=False)
        return HostedCheckout(
            session_id=observed.session_id,
            url=checkout,
            expires_at=request.expires_at,  # read-only at Mollie (per method); our sweep goes by our own deadline
            amount_total=observed.amount_total or 0,
        )

    def _observed(self, payment: Mapping[str, Any], refunds: list[Mapping[str, Any]] | None = None) -> Observation:
        try:
            return observation_from_payment({**payment, "_embedded": {"refunds": refunds}} if refunds else payment)
        except MalformedObject as exc:
            raise ProviderError(f"Mollie answered a payment we cannot use: {exc}", retryable=False) from exc

    async def _fetch(self, payment_id: str) -> tuple[dict[str, Any], list[Mapping[str, Any]]]:
        """The payment and, when it has any, its refunds (the SDK's payment drops `_embedded`)."""
        payment = _dump(await self._call(lambda: self._sdk.payments.get_async(payment_id=payment_id), "a payment"))
        refunded = payment.get("amountRefunded")
        if not (isinstance(refunded, Mapping) and str(refunded.get("value", "0")).strip("0.")):
            return payment, []
        return payment, await self._refunds(payment_id)

    async def _refunds(self, payment_id: str) -> list[Mapping[str, Any]]:
        page = await self._call(
            lambda: self._sdk.refunds.list_async(payment_id=payment_id, limit=PAGE), "a payment's refunds"
        )
        return [_dump(refund) for refund in page.result.embedded.refunds] if page else []

    async def observe_checkout(self, session_id: str) -> Observation:
        payment, refunds = await self._fetch(session_id)
        return self._observed(payment, refunds)

    async def expire_checkout(self, session_id: str) -> Observation:
        """Cancel the payment when Mollie lets us (`isCancelable`); otherwise say why it cannot be stopped."""
        payment, refunds = await self._fetch(session_id)
        observed = self._observed(payment, refunds)
        if not observed.status or not observed.status.is_live:
            return observed  # paid, failed, expired or canceled meanwhile: report what it is
        if not payment.get("isCancelable"):
            until = payment.get("expiresAt")
            raise CheckoutNotStoppable(
                "Mollie does not let this payment be cancelled while the guest may still pay it"
                + (f"; it expires by itself at {until}" if until else "")
                + ". Ask the guest not to pay, or wait for it to expire."
            )
        canceled = await self._call(lambda: self._sdk.payments.cancel_async(payment_id=session_id), "a cancel")
        return self._observed(_dump(canceled))

    # webhooks ----------------------------------------------------------------------
    @staticmethod
    def webhook_subject(body: bytes) -> str:
        """The payment id in a webhook body (`id=tr_...`, form-encoded), or InvalidWebhook."""
        try:
            fields = parse_qs(body.decode("ascii"), strict_parsing=True, max_num_fields=4)
        except (UnicodeDecodeError, ValueError) as exc:
            raise InvalidWebhook("not a form-encoded id=tr_... body") from exc
        ids = fields.get("id", [])
        if len(ids) != 1 or not PAYMENT_ID.fullmatch(ids[0]):
            raise InvalidWebhook("the body has no single Mollie payment id (id=tr_...)")
        return ids[0]

    async def read_webhook(self, body: bytes, headers: Mapping[str, str]) -> ProviderNotice:
        """Fetch the payment the webhook names; ProviderError when Mollie cannot be asked (answer 5xx)."""
        payment_id = self.webhook_subject(body)
        payload = body.decode("ascii")
        try:
            payment, refunds = await self._fetch(payment_id)
        except ProviderError as exc:
            if exc.code == "404":  # not a payment of this key: nothing to apply, nothing to tell
                return ProviderNotice(f"mollie:{payment_id}:unknown", "payment.unknown", Observation(None), payload)
            raise
        observation = self._observed(payment, refunds)
        return ProviderNotice(
            event_id=change_key(observation),
            type=f"payment.{payment.get('status')}",
            observation=observation,
            payload=payload,
            fetched=orjson.dumps({"payment": payment, "refunds": refunds}).decode(),
        )

    def read_verified_event(self, payload: str) -> ProviderNotice:
        raise InvalidWebhook("a Mollie webhook carries only an id: its payment must be fetched (replay_notice)")

    async def replay_notice(self, payload: str) -> ProviderNotice:
        return await self.read_webhook(payload.encode("ascii", "replace"), {})

    # donations -----------------------------------------------------------------------
    async def transfer_donation(
        self,
        *,
        amount: int,
        currency: str,
        destination: str,
        payment_intent: str,
        idempotency_key: str,
        metadata: Mapping[str, str],
    ) -> str:
        """A delayed route of the donation to the partner organisation (Mollie Connect split payments)."""
        body = {
            "amount": mollie_amount(amount, currency),
            "destination": {"type": "organization", "organization_id": destination},
            "description": f"Donation, order {metadata.get('order_id', '')}"[:255],
        }
        route = await self._call(
            lambda: self._sdk.delayed_routing.create_async(
                payment_id=payment_intent,
                route_create_request=body,  # type: ignore[arg-type]  # a plain dict where the SDK declares a TypedDict
                idempotency_key=idempotency_key,
            ),
            "a donation route",
        )
        return str(route.id)

    async def transfer_reversed(self, transfer_id: str, *, payment_intent: str) -> int:
        """What the payment's refunds have taken back from the route's organisation (`routingReversals`)."""
        payment = _dump(await self._call(lambda: self._sdk.payments.get_async(payment_id=payment_intent), "a payment"))
        currency = str((payment.get("amount") or {}).get("currency", ""))
        organization = await self._route_organization(payment_intent, transfer_id)
        reversed_total = 0
        for refund in await self._refunds(payment_intent):
            if refund.get("status") in REFUND_UNDONE:
                continue
            for reversal in refund.get("routingReversals") or []:
                source = reversal.get("source") or {}
                if source.get("organizationId") == organization:
                    value = (reversal.get("amount") or {}).get("value")
                    reversed_total += minor_from_mollie(value, currency, "routingReversals.amount")
        return reversed_total

    async def _route_organization(self, payment_id: str, route_id: str) -> str | None:
        routes = await self._call(
            lambda: self._sdk.delayed_routing.list_async(payment_id=payment_id), "a payment's routes"
        )
        for route in _dump(routes).get("_embedded", {}).get("routes", []):
            if route.get("id") == route_id:
                return str((route.get("destination") or {}).get("organizationId"))
        return None

    async def reverse_transfer(
        self, transfer_id: str, *, payment_intent: str, amount: int, idempotency_key: str, metadata: Mapping[str, str]
    ) -> str:
        # Mollie takes a route back only inside a refund (`routingReversals`, sent by `refund`); a reversal
        # still owed here came from a refund made before the route existed, which only a person can settle.
        raise ProviderError(
            f"Mollie takes a donation route back only with a refund: {amount} (minor units) of route "
            f"{transfer_id} is still with the partner; ask the partner to return it",
            retryable=False,
        )

    # refunds ---------------------------------------------------------------------------
    async def refund(
        self,
        *,
        payment_intent: str,
        amount: int,
        idempotency_key: str,
        reason: str | None,
        metadata: Mapping[str, str],
        donation_reversal: DonationReversal | None = None,
    ) -> RefundResult:
        payment = _dump(await self._call(lambda: self._sdk.payments.get_async(payment_id=payment_intent), "a payment"))
        currency = str((payment.get("amount") or {}).get("currency", ""))
        body: dict[str, Any] = {
            "amount": mollie_amount(amount, currency),
            "description": (reason or f"Refund, order {metadata.get('order_id', '')}")[:255],
            "metadata": dict(metadata),
        }
        if donation_reversal and donation_reversal.amount:
            body["routing_reversals"] = [
                {
                    "amount": mollie_amount(donation_reversal.amount, currency),
                    "source": {"type": "organization", "organization_id": donation_reversal.destination},
                }
            ]
        refund = await self._call(
            lambda: self._sdk.refunds.create_async(
                payment_id=payment_intent,
                refund_request=body,  # type: ignore[arg-type]  # a plain dict where the SDK declares a TypedDict
                idempotency_key=idempotency_key,
            ),
            "a refund",
        )
        made = _dump(refund)
        try:
            refunded = minor_from_mollie((made.get("amount") or {}).get("value"), currency, "amount")
        except MalformedObject as exc:
            raise ProviderError(f"Mollie answered a refund we cannot use: {exc}", retryable=False) from exc
        return RefundResult(refund_id=str(made.get("id")), amount=refunded, status=str(made.get("status")))

    # backfill --------------------------------------------------------------------------
    async def events_since(self, created_gte: int) -> list[ProviderNotice]:
        """Mollie keeps no event log: list the payments (newest first, by `from`) back to `created_gte`
        and read each as it is now; returned oldest first."""
        notices: list[ProviderNotice] = []
        start: str | None = None
        while True:
            # partial binds this page's start now (a lambda would read the loop's latest)
            list_page = partial(self._sdk.payments.list_async, limit=PAGE, from_=start)
            page = await self._call(list_page, "the list of payments")
            payments = [_dump(p) for p in page.result.embedded.payments or []] if page else []
            done = False
            for payment in payments:
                if created_before(payment, created_gte):
                    done = True
                    break
                notice = await self._listed_notice(payment)
                if notice is not None:
                    notices.append(notice)
            next_link = _dump(page.result).get("_links", {}).get("next") if page else None
            if done or not payments or not next_link:
                break
            start = page_start(next_link.get("href", ""))
            if start is None:
                break
        notices.reverse()
        return notices

    async def _listed_notice(self, payment: dict[str, Any]) -> ProviderNotice | None:
        refunds = await self._refunds(str(payment.get("id"))) if payment.get("amountRefunded") else []
        try:
            observation = observation_from_payment({**payment, "_embedded": {"refunds": refunds}})
        except MalformedObject as exc:
            log.warning("backfill_payment_refused", payment=payment.get("id"), error=str(exc))
            return None
        return ProviderNotice(
            event_id=change_key(observation),
            type=f"payment.{payment.get('status')}",
            observation=observation,
            payload=orjson.dumps({"payment": payment, "refunds": refunds}).decode(),
        )

    def minimum_charge(self, currency: str) -> int | None:
        return MOLLIE_MINIMUM_CHARGE if takes(currency) else None

    def takes_currency(self, currency: str) -> bool:
        return takes(currency)
