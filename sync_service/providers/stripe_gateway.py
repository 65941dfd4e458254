"""Stripe adapter: Checkout Sessions, webhooks, transfers, through the official SDK.

STRIPE_API_BASE points the SDK at the sandbox; unset, it talks to Stripe.
Stripe amounts are already integers in the currency's minor unit, so the
only conversion here is the lower-case currency code.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any, TypeVar

import orjson
import stripe

from tablepay_domain.payment_state import PaymentStatus, refund_status

from .base import (
    CheckoutRequest,
    HostedCheckout,
    InvalidWebhook,
    Observation,
    ProviderError,
    ProviderNotice,
    RefundResult,
)

T = TypeVar("T")
SIGNATURE_TOLERANCE_SECONDS = 300
# Errors that another try may fix; everything else is our bug or a refusal.
_RETRYABLE = (stripe.APIConnectionError, stripe.RateLimitError, stripe.APIError)


def _metadata_payment_id(obj: Mapping[str, Any]) -> str | None:
    metadata = obj.get("metadata") or {}
    value = metadata.get("payment_id") if isinstance(metadata, Mapping) else None
    return str(value) if value else None


def _id(value: Any) -> str | None:
    """An expandable field holds an id or the expanded object."""
    if isinstance(value, Mapping):
        return str(value.get("id")) if value.get("id") else None
    return str(value) if value else None


def observation_from_session(session: Mapping[str, Any]) -> Observation:
    status, payment_status = session.get("status"), session.get("payment_status")
    new: PaymentStatus | None = None
    if status == "complete":
        new = PaymentStatus.PAID if payment_status in ("paid", "no_payment_required") else PaymentStatus.PENDING
    elif status == "expired":
        new = PaymentStatus.EXPIRED
    intent = session.get("payment_intent")
    if status == "open" and isinstance(intent, Mapping):
        new = {"requires_capture": PaymentStatus.AUTHORIZED, "processing": PaymentStatus.PENDING}.get(
            str(intent.get("status")))
    return Observation(
        status=new, payment_id=_metadata_payment_id(session), session_id=str(session.get("id")),
        payment_intent=_id(intent), amount_total=session.get("amount_total"),
        charge=_id(intent.get("latest_charge")) if isinstance(intent, Mapping) else None,
    )


def _failure_reason(intent: Mapping[str, Any]) -> str | None:
    error = intent.get("last_payment_error") or {}
    return (error.get("decline_code") or error.get("code") or error.get("message")) if error else None


def observation_from_event(event_type: str, obj: Mapping[str, Any]) -> Observation:
    """Map one Stripe event to what it says about our payment attempt."""
    if event_type.startswith("checkout.session."):
        base = observation_from_session(obj)
        status = {
            "checkout.session.completed": base.status,
            "checkout.session.async_payment_succeeded": PaymentStatus.PAID,
            "checkout.session.async_payment_failed": PaymentStatus.FAILED,
            "checkout.session.expired": PaymentStatus.EXPIRED,
        }.get(event_type)
        return Observation(status=status, payment_id=base.payment_id, session_id=base.session_id,
                           payment_intent=base.payment_intent, amount_total=base.amount_total)
    if event_type.startswith("payment_intent."):
        status = {
            "payment_intent.succeeded": PaymentStatus.PAID,
            "payment_intent.payment_failed": PaymentStatus.FAILED,
            "payment_intent.processing": PaymentStatus.PENDING,
            "payment_intent.amount_capturable_updated": PaymentStatus.AUTHORIZED,
            "payment_intent.canceled": PaymentStatus.CANCELLED,
        }.get(event_type)
        return Observation(status=status, payment_id=_metadata_payment_id(obj), payment_intent=_id(obj.get("id")),
                           charge=_id(obj.get("latest_charge")), amount_total=obj.get("amount"),
                           failure_reason=_failure_reason(obj) if status is PaymentStatus.FAILED else None)
    if event_type == "charge.refunded":
        amount, refunded = int(obj.get("amount") or 0), int(obj.get("amount_refunded") or 0)
        return Observation(status=refund_status(amount, refunded), payment_id=_metadata_payment_id(obj),
                           payment_intent=_id(obj.get("payment_intent")), charge=_id(obj.get("id")),
                           amount_refunded=refunded)
    return Observation(status=None, payment_id=_metadata_payment_id(obj))


class StripeGateway:
    name = "stripe"

    def __init__(self, secret_key: str, webhook_secrets: list[str], *, api_base: str | None = None,
                 timeout: float = 10.0, max_retries: int = 2) -> None:
        base = {"api": api_base} if api_base else None
        self._http = stripe.HTTPXClient(timeout=timeout)
        # The SDK's own retries are bounded and backed off (and honour Stripe-Should-Retry).
        self._client = stripe.StripeClient(
            secret_key, base_addresses=base, max_network_retries=max_retries,  # type: ignore[arg-type]
            http_client=self._http,
        )
        self._webhook_secrets = webhook_secrets

    async def aclose(self) -> None:
        await self._http.close_async()

    async def _call(self, operation: Callable[[], Awaitable[T]]) -> T:
        try:
            return await operation()
        except _RETRYABLE as exc:
            raise ProviderError(f"Stripe is unavailable: {exc.user_message or exc}", retryable=True) from exc
        except stripe.StripeError as exc:
            raise ProviderError(f"Stripe refused the request: {exc.user_message or exc}", retryable=False,
                                code=exc.code) from exc

    async def create_checkout(self, request: CheckoutRequest) -> HostedCheckout:
        order = request.order
        currency = order.currency.lower()

        def item(name: str, unit_amount: int, quantity: int, sku: str) -> dict[str, Any]:
            return {"quantity": quantity, "price_data": {
                "currency": currency, "unit_amount": unit_amount,
                "product_data": {"name": name, "metadata": {"sku": sku}}}}

        items = [item(line.name, line.unit_amount, line.quantity, line.sku) for line in order.lines]
        if order.tip_amount:
            items.append(item("Tip", order.tip_amount, 1, "tip"))
        if order.donation_amount:
            items.append(item(request.donation_label, order.donation_amount, 1, "donation"))
        metadata = {"order_id": order.order_id, "payment_id": request.payment_id,
                    "attempt": str(request.attempt), "kiosk_id": order.kiosk_id, "table": order.table}
        params: dict[str, Any] = {
            "mode": "payment",
            "line_items": items,
            "client_reference_id": order.order_id,
            "metadata": metadata,
            "payment_intent_data": {"metadata": metadata, "description": f"Table {order.table}"},
            "expires_at": request.expires_at,
            "success_url": request.success_url,
            "cancel_url": request.cancel_url,
        }
        session = await self._call(lambda: self._client.v1.checkout.sessions.create_async(
            params, {"idempotency_key": request.idempotency_key}))  # type: ignore[arg-type]
        return HostedCheckout(session_id=session.id, url=str(session.url),
                              expires_at=int(session.expires_at), amount_total=int(session.amount_total or 0))

    async def observe_checkout(self, session_id: str) -> Observation:
        session = await self._call(lambda: self._client.v1.checkout.sessions.retrieve_async(
            session_id, {"expand": ["payment_intent"]}))
        return observation_from_session(session.to_dict())

    async def expire_checkout(self, session_id: str) -> Observation:
        try:
            session = await self._client.v1.checkout.sessions.expire_async(session_id)
        except stripe.InvalidRequestError:
            # Not open any more (paid or expired meanwhile): report what it is now.
            return await self.observe_checkout(session_id)
        except _RETRYABLE as exc:
            raise ProviderError(f"Stripe is unavailable: {exc}", retryable=True) from exc
        return observation_from_session(session.to_dict())

    async def read_webhook(self, body: bytes, headers: Mapping[str, str]) -> ProviderNotice:
        signature = headers.get("stripe-signature")
        if not signature:
            raise InvalidWebhook("missing Stripe-Signature header")
        try:
            payload = body.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise InvalidWebhook("body is not UTF-8") from exc
        for secret in self._webhook_secrets:
            try:
                stripe.WebhookSignature.verify_header(payload, signature, secret, SIGNATURE_TOLERANCE_SECONDS)
                break
            except stripe.SignatureVerificationError as exc:
                error = exc
        else:
            raise InvalidWebhook(f"signature verification failed: {error}")
        try:
            return self.read_verified_event(payload)
        except InvalidWebhook as exc:  # the signature passed: Stripe sent it
            raise InvalidWebhook(str(exc), authenticated=True) from exc

    def read_verified_event(self, payload: str) -> ProviderNotice:
        """The event in a body whose signature was already checked (at receipt, before a replay)."""
        try:
            event = orjson.loads(payload)
            event_id, event_type = str(event["id"]), str(event["type"])
            obj = event["data"]["object"]
            if not isinstance(obj, dict) or not event_id.startswith("evt_"):
                raise TypeError("data.object is not an object")
        except (orjson.JSONDecodeError, ValueError, KeyError, TypeError) as exc:
            raise InvalidWebhook(f"malformed event: {exc}") from exc
        return ProviderNotice(event_id=event_id, type=event_type,
                              observation=observation_from_event(event_type, obj), payload=payload)

    async def transfer_donation(self, *, amount: int, currency: str, destination: str,
                                payment_intent: str, idempotency_key: str,
                                metadata: Mapping[str, str]) -> str:
        intent = await self._call(lambda: self._client.v1.payment_intents.retrieve_async(payment_intent))
        charge = _id(intent.to_dict().get("latest_charge"))
        params: dict[str, Any] = {"amount": amount, "currency": currency.lower(), "destination": destination,
                                  "metadata": dict(metadata)}
        if charge:
            # Ties the transfer to the guest's charge: it waits for those funds.
            params["source_transaction"] = charge
        transfer = await self._call(lambda: self._client.v1.transfers.create_async(
            params, {"idempotency_key": idempotency_key}))  # type: ignore[arg-type]
        return str(transfer.id)

    async def refund(self, *, payment_intent: str, amount: int, idempotency_key: str, reason: str | None,
                     metadata: Mapping[str, str]) -> RefundResult:
        params: dict[str, Any] = {"payment_intent": payment_intent, "amount": amount, "metadata": dict(metadata)}
        if reason:
            params["reason"] = reason
        refund = await self._call(lambda: self._client.v1.refunds.create_async(
            params, {"idempotency_key": idempotency_key}))  # type: ignore[arg-type]
        return RefundResult(refund_id=str(refund.id), amount=int(refund.amount), status=str(refund.status))

    async def transfer_reversed(self, transfer_id: str) -> int:
        transfer = await self._call(lambda: self._client.v1.transfers.retrieve_async(transfer_id))
        return int(transfer.amount_reversed or 0)

    async def reverse_transfer(self, transfer_id: str, *, amount: int, idempotency_key: str,
                               metadata: Mapping[str, str]) -> str:
        reversal = await self._call(lambda: self._client.v1.transfers.reversals.create_async(
            transfer_id, {"amount": amount, "metadata": dict(metadata)},
            {"idempotency_key": idempotency_key}))  # type: ignore[arg-type]
        return str(reversal.id)

    async def events_since(self, created_gte: int) -> list[ProviderNotice]:
        """The Events API (Stripe keeps 30 days), newest first in pages of 100; returned oldest first."""
        notices: list[ProviderNotice] = []
        params: dict[str, Any] = {"created": {"gte": created_gte}, "limit": 100}
        while True:
            page = await self._call(lambda: self._client.v1.events.list_async(params))  # type: ignore[arg-type]
            for event in page.data:
                raw = event.to_dict()
                obj = raw.get("data", {}).get("object")
                if isinstance(obj, dict):
                    notices.append(ProviderNotice(event_id=str(raw["id"]), type=str(raw["type"]),
                                                  observation=observation_from_event(str(raw["type"]), obj),
                                                  payload=orjson.dumps(raw).decode()))
            if not page.has_more or not page.data:
                break
            params = {**params, "starting_after": page.data[-1].id}
        notices.reverse()
        return notices
