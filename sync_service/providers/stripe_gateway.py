"""Stripe adapter: Checkout Sessions, webhooks, transfers, through the official SDK.

STRIPE_API_BASE points the SDK at the sandbox; unset, it talks to Stripe.
Stripe amounts are already integers in the currency's minor unit, so the
only conversion here is the lower-case currency code.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import replace
from functools import partial
from typing import Any, TypeVar

import orjson
import stripe
import structlog

from tablepay_domain.payment_state import PaymentStatus, refund_status

from .base import (
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

T = TypeVar("T")
log = structlog.get_logger(__name__)
SIGNATURE_TOLERANCE_SECONDS = 300
# Errors that another try may fix; everything else is our bug or a refusal.
_RETRYABLE = (stripe.APIConnectionError, stripe.RateLimitError, stripe.APIError)


# Stripe takes at most 8 digits for most currencies and 12 for a few (IDR...): anything larger is
# not an amount of ours, and refusing it keeps arithmetic and SQLite's 64-bit integers safe.
MAX_AMOUNT = 10**12 - 1
LIVE_KEY_PREFIXES = ("sk_live_", "rk_live_")


def _metadata_payment_id(obj: Mapping[str, Any]) -> str | None:
    metadata = obj.get("metadata") or {}
    value = metadata.get("payment_id") if isinstance(metadata, Mapping) else None
    return str(value) if value else None


def _id(value: Any) -> str | None:
    """An expandable field holds an id or the expanded object."""
    if isinstance(value, Mapping):
        return str(value.get("id")) if value.get("id") else None
    return str(value) if value else None


def _amount(obj: Mapping[str, Any], field: str) -> int | None:
    """An amount as Stripe sends it (an integer in minor units), bounded before anyone adds it up."""
    value = obj.get(field)
    if value is None:
        return None
    if type(value) is not int or not 0 <= value <= MAX_AMOUNT:
        raise MalformedObject(f"{field} {str(value)[:40]!r} is not an amount in minor units")
    return value


def _currency(obj: Mapping[str, Any]) -> str | None:
    value = obj.get("currency")
    return value.upper() if isinstance(value, str) and len(value) == 3 and value.isalpha() else None


def _owner(obj: Mapping[str, Any], event: Mapping[str, Any] | None) -> dict[str, Any]:
    """Whose object this is: the event's mode and account when it came in an event, else the object's."""
    source = event if event is not None else obj
    livemode = source.get("livemode")
    account = event.get("account") if event is not None else None
    return {
        "livemode": livemode if isinstance(livemode, bool) else None,
        "account": str(account) if account else None,
        "currency": _currency(obj),
    }


def observation_from_session(session: Mapping[str, Any], event: Mapping[str, Any] | None = None) -> Observation:
    status, payment_status = session.get("status"), session.get("payment_status")
    new: PaymentStatus | None = None
    if status == "complete":
        new = PaymentStatus.PAID if payment_status in ("paid", "no_payment_required") else PaymentStatus.PENDING
    elif status == "expired":
        new = PaymentStatus.EXPIRED
    intent = session.get("payment_intent")
    if status == "open" and isinstance(intent, Mapping):
        new = {"requires_capture": PaymentStatus.AUTHORIZED, "processing": PaymentStatus.PENDING}.get(
            str(intent.get("status"))
        )
    return Observation(
        status=new,
        payment_id=_metadata_payment_id(session),
        session_id=str(session.get("id")),
        payment_intent=_id(intent),
        amount_total=_amount(session, "amount_total"),
        charge=_id(intent.get("latest_charge")) if isinstance(intent, Mapping) else None,
        subject="checkout_session",
        **_owner(session, event),
    )


def _failure_reason(intent: Mapping[str, Any]) -> str | None:
    error = intent.get("last_payment_error") or {}
    return (error.get("decline_code") or error.get("code") or error.get("message")) if error else None


def observation_from_event(
    event_type: str, obj: Mapping[str, Any], event: Mapping[str, Any] | None = None
) -> Observation:
    """Map one Stripe event to what it says about a payment attempt (whose it is, the service decides).

    Raises MalformedObject for an amount we refuse to compute with.
    """
    if event_type.startswith("checkout.session."):
        base = observation_from_session(obj, event)
        status = {
            "checkout.session.completed": base.status,
            "checkout.session.async_payment_succeeded": PaymentStatus.PAID,
            "checkout.session.async_payment_failed": PaymentStatus.FAILED,
            "checkout.session.expired": PaymentStatus.EXPIRED,
        }.get(event_type)
        return replace(base, status=status, charge=None)
    if event_type.startswith("payment_intent."):
        status = {
            "payment_intent.succeeded": PaymentStatus.PAID,
            "payment_intent.payment_failed": PaymentStatus.FAILED,
            "payment_intent.processing": PaymentStatus.PENDING,
            "payment_intent.amount_capturable_updated": PaymentStatus.AUTHORIZED,
            "payment_intent.canceled": PaymentStatus.CANCELLED,
        }.get(event_type)
        return Observation(
            status=status,
            payment_id=_metadata_payment_id(obj),
            payment_intent=_id(obj.get("id")),
            charge=_id(obj.get("latest_charge")),
            amount_total=_amount(obj, "amount"),
            failure_reason=_failure_reason(obj) if status is PaymentStatus.FAILED else None,
            subject="payment_intent",
            **_owner(obj, event),
        )
    if event_type.startswith("charge."):
        amount, refunded = _amount(obj, "amount"), _amount(obj, "amount_refunded")
        if amount is not None and refunded is not None and refunded > amount:
            raise MalformedObject(f"amount_refunded {refunded} is more than the charge's amount {amount}")
        is_refund = event_type == "charge.refunded"
        return Observation(
            status=refund_status(amount or 0, refunded or 0) if is_refund else None,
            payment_id=_metadata_payment_id(obj),
            payment_intent=_id(obj.get("payment_intent")),
            charge=_id(obj.get("id")),
            amount_total=amount,
            amount_refunded=(refunded or 0) if is_refund else None,
            subject="charge",
            **_owner(obj, event),
        )
    return Observation(status=None, payment_id=_metadata_payment_id(obj))


def _observed(session: Mapping[str, Any]) -> Observation:
    """A session we retrieved: an amount we refuse is the provider's fault, not a reason to crash."""
    try:
        return observation_from_session(session)
    except MalformedObject as exc:
        raise ProviderError(f"Stripe answered a checkout we cannot use: {exc}", retryable=False) from exc


class StripeGateway:
    name = "stripe"

    def __init__(
        self,
        secret_key: str,
        webhook_secrets: list[str],
        *,
        api_base: str | None = None,
        timeout: float = 10.0,
        max_retries: int = 2,
    ) -> None:
        base = {"api": api_base} if api_base else None
        self._http = stripe.HTTPXClient(timeout=timeout)
        # The SDK's own retries are bounded and backed off (and honour Stripe-Should-Retry).
        self._client = stripe.StripeClient(
            secret_key,
            base_addresses=base,  # type: ignore[arg-type]  # a plain dict where the SDK declares a TypedDict
            max_network_retries=max_retries,
            http_client=self._http,
        )
        self._webhook_secrets = webhook_secrets
        # Objects of the other mode are never ours, however they are signed.
        self.livemode = secret_key.startswith(LIVE_KEY_PREFIXES)

    async def aclose(self) -> None:
        await self._http.close_async()  # type: ignore[no-untyped-call]  # stripe leaves it unannotated

    async def _call(self, operation: Callable[[], Awaitable[T]]) -> T:
        try:
            return await operation()
        except _RETRYABLE as exc:
            raise ProviderError(f"Stripe is unavailable: {exc.user_message or exc}", retryable=True) from exc
        except stripe.StripeError as exc:
            raise ProviderError(
                f"Stripe refused the request: {exc.user_message or exc}", retryable=False, code=exc.code
            ) from exc

    async def create_checkout(self, request: CheckoutRequest) -> HostedCheckout:
        order = request.order
        currency = order.currency.lower()

        def item(name: str, unit_amount: int, quantity: int, sku: str) -> dict[str, Any]:
            return {
                "quantity": quantity,
                "price_data": {
                    "currency": currency,
                    "unit_amount": unit_amount,
                    "product_data": {"name": name, "metadata": {"sku": sku}},
                },
            }

        items = [item(line.name, line.unit_amount, line.quantity, line.sku) for line in order.lines]
        if order.tip_amount:
            items.append(item("Tip", order.tip_amount, 1, "tip"))
        if order.donation_amount:
            items.append(item(request.donation_label, order.donation_amount, 1, "donation"))
        metadata = {
            "order_id": order.order_id,
            "payment_id": request.payment_id,
            "attempt": str(request.attempt),
            "kiosk_id": order.kiosk_id,
            "table": order.table,
        }
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
        session = await self._call(
            lambda: self._client.v1.checkout.sessions.create_async(params, {"idempotency_key": request.idempotency_key})  # type: ignore[arg-type]  # a plain dict where the SDK declares a TypedDict
        )
        return HostedCheckout(
            session_id=session.id,
            url=str(session.url),
            expires_at=int(session.expires_at),
            amount_total=int(session.amount_total or 0),
        )

    async def observe_checkout(self, session_id: str) -> Observation:
        session = await self._call(
            lambda: self._client.v1.checkout.sessions.retrieve_async(session_id, {"expand": ["payment_intent"]})
        )
        return _observed(session.to_dict())

    async def expire_checkout(self, session_id: str) -> Observation:
        try:
            session = await self._client.v1.checkout.sessions.expire_async(session_id)
        except stripe.InvalidRequestError:
            # Not open any more (paid or expired meanwhile): report what it is now.
            return await self.observe_checkout(session_id)
        except _RETRYABLE as exc:
            raise ProviderError(f"Stripe is unavailable: {exc}", retryable=True) from exc
        return _observed(session.to_dict())

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

    async def replay_notice(self, payload: str) -> ProviderNotice:
        return self.read_verified_event(payload)

    def read_verified_event(self, payload: str) -> ProviderNotice:
        """The event in a body whose signature was already checked (at receipt, before a replay)."""
        try:
            event = orjson.loads(payload)
            event_id, event_type = str(event["id"]), str(event["type"])
            obj = event["data"]["object"]
            if not isinstance(obj, dict) or not event_id.startswith("evt_"):
                raise TypeError("data.object is not an object")
            observation = observation_from_event(event_type, obj, event)
        except (orjson.JSONDecodeError, ValueError, KeyError, TypeError) as exc:
            raise InvalidWebhook(f"malformed event: {exc}") from exc
        return ProviderNotice(event_id=event_id, type=event_type, observation=observation, payload=payload)

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
        intent = await self._call(lambda: self._client.v1.payment_intents.retrieve_async(payment_intent))
        charge = _id(intent.to_dict().get("latest_charge"))
        params: dict[str, Any] = {
            "amount": amount,
            "currency": currency.lower(),
            "destination": destination,
            "metadata": dict(metadata),
        }
        if charge:
            # Ties the transfer to the guest's charge: it waits for those funds.
            params["source_transaction"] = charge
        transfer = await self._call(
            lambda: self._client.v1.transfers.create_async(params, {"idempotency_key": idempotency_key})  # type: ignore[arg-type]  # a plain dict where the SDK declares a TypedDict
        )
        return str(transfer.id)

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
        """`donation_reversal` is ignored: the transfer is reversed once the refund's event arrives."""
        params: dict[str, Any] = {"payment_intent": payment_intent, "amount": amount, "metadata": dict(metadata)}
        if reason:
            params["reason"] = reason
        refund = await self._call(
            lambda: self._client.v1.refunds.create_async(params, {"idempotency_key": idempotency_key})  # type: ignore[arg-type]  # a plain dict where the SDK declares a TypedDict
        )
        return RefundResult(refund_id=str(refund.id), amount=int(refund.amount), status=str(refund.status))

    async def transfer_reversed(self, transfer_id: str, *, payment_intent: str) -> int:
        transfer = await self._call(lambda: self._client.v1.transfers.retrieve_async(transfer_id))
        return int(transfer.amount_reversed or 0)

    async def reverse_transfer(
        self, transfer_id: str, *, payment_intent: str, amount: int, idempotency_key: str, metadata: Mapping[str, str]
    ) -> str:
        reversal = await self._call(
            lambda: self._client.v1.transfers.reversals.create_async(
                transfer_id, {"amount": amount, "metadata": dict(metadata)}, {"idempotency_key": idempotency_key}
            )
        )
        return str(reversal.id)

    async def events_since(self, created_gte: int) -> list[ProviderNotice]:
        """The Events API (Stripe keeps 30 days), newest first in pages of 100; returned oldest first."""
        notices: list[ProviderNotice] = []
        params: dict[str, Any] = {"created": {"gte": created_gte}, "limit": 100}
        while True:
            # partial binds this page's params now (a lambda would read the loop's latest)
            list_page = partial(self._client.v1.events.list_async, params)  # type: ignore[arg-type]  # a plain dict where the SDK declares a TypedDict
            page = await self._call(list_page)
            for event in page.data:
                raw = event.to_dict()
                obj = raw.get("data", {}).get("object")
                if not isinstance(obj, dict):
                    continue
                try:
                    observation = observation_from_event(str(raw["type"]), obj, raw)
                except MalformedObject as exc:
                    log.warning("backfill_event_refused", event_id=raw.get("id"), error=str(exc))
                    continue
                notices.append(
                    ProviderNotice(
                        event_id=str(raw["id"]),
                        type=str(raw["type"]),
                        observation=observation,
                        payload=orjson.dumps(raw).decode(),
                    )
                )
            if not page.has_more or not page.data:
                break
            params = {**params, "starting_after": page.data[-1].id}
        notices.reverse()
        return notices

    def takes_currency(self, currency: str) -> bool:
        return True  # Stripe's own answer stands for the rare currency it does not take

    def minimum_charge(self, currency: str) -> int | None:
        """The smallest amount Stripe charges in `currency` (minor units); None when we do not know it."""
        return minimum_charge(currency)


# Stripe's minimum charge amounts per presentment currency ("Minimum and maximum charge
# amounts", https://docs.stripe.com/currencies#minimum-and-maximum-charge-amounts), in
# ISO 4217 minor units (HUF has two in Stripe's API too, so 175.00 Ft is 17500). Stripe refuses
# a smaller Checkout Session; the service checks first so the waiter gets a clear answer instead
# of a provider error. Stripe also requires the amount to convert to at least the minimum of the
# account's settlement currency, which only Stripe can check: this is the floor, not a promise.
# Currencies not listed are not checked here (Stripe's own answer then stands).
STRIPE_MINIMUM_CHARGE: dict[str, int] = {
    "USD": 50,
    "AED": 200,
    "AUD": 50,
    "BGN": 100,
    "BRL": 50,
    "CAD": 50,
    "CHF": 50,
    "CZK": 1500,
    "DKK": 250,
    "EUR": 50,
    "GBP": 30,
    "HKD": 400,
    "HUF": 17500,
    "INR": 50,
    "JPY": 50,
    "MXN": 1000,
    "MYR": 200,
    "NOK": 300,
    "NZD": 50,
    "PLN": 200,
    "RON": 200,
    "SEK": 300,
    "SGD": 50,
    "THB": 1000,
}


def minimum_charge(currency: str) -> int | None:
    return STRIPE_MINIMUM_CHARGE.get(currency.upper())
