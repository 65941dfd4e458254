"""Payment flows as Stripe runs them: attempts, charges, refunds, transfers.

Each flow saves the objects first and then emits events in the order Stripe
sends them, so an event's `data.object` is always the state after the change.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from . import objects
from .errors import StripeError, invalid_request
from .money_format import format_amount
from .sandbox import SYSTEM, Ctx, Sandbox
from .store import Obj

DECLINE_MESSAGE = "Your card was declined."


@dataclass(frozen=True)
class MethodToken:
    """Stripe's test PaymentMethod tokens (docs: testing#cards)."""

    type: str
    last4: str
    decline_code: str | None = None


TEST_METHODS = {
    "pm_card_visa": MethodToken("card", "4242"),
    "pm_card_mastercard": MethodToken("card", "4444"),
    "pm_card_chargeDeclined": MethodToken("card", "0002", "generic_decline"),
    "pm_card_chargeDeclinedInsufficientFunds": MethodToken("card", "9995", "insufficient_funds"),
}

_APPROVED = {
    "advice_code": None,
    "network_advice_code": None,
    "network_decline_code": None,
    "network_status": "approved_by_network",
    "reason": None,
    "risk_level": "normal",
    "seller_message": "Payment complete.",
    "type": "authorized",
}


def _declined(decline_code: str) -> Obj:
    return {
        "advice_code": "try_again_later",
        "network_advice_code": None,
        "network_decline_code": None,
        "network_status": "declined_by_network",
        "reason": decline_code,
        "risk_level": "normal",
        "seller_message": "The bank did not return any further details with this decline.",
        "type": "issuer_declined",
    }


def _payment_method(pm_id: str, method: MethodToken) -> Obj:
    """The PaymentMethod as embedded in errors; the sandbox does not store PaymentMethods."""
    details = (
        {
            "brand": "visa",
            "country": "US",
            "exp_month": 12,
            "exp_year": 2034,
            "funding": "credit",
            "last4": method.last4,
        }
        if method.type == "card"
        else {"last4": method.last4}
    )
    return {
        "id": pm_id,
        "object": "payment_method",
        "type": method.type,
        method.type: details,
        "billing_details": {"address": None, "email": None, "name": None, "phone": None},
        "created": objects.now(),
        "customer": None,
        "livemode": False,
        "metadata": {},
    }


class Payments:
    def __init__(self, sandbox: Sandbox) -> None:
        self.sb = sandbox
        self.store = sandbox.store

    # -- PaymentIntents ------------------------------------------------------
    def create_intent(self, pi: Obj, ctx: Ctx, token: str | None = None) -> Obj:
        """Store and announce a new PI; `token` is a test method kept until confirm."""
        self.store.insert(pi, {"token": token} if token else None)
        self.sb.emit("payment_intent.created", pi, ctx)
        return pi

    def charge_intent(self, pi: Obj, token: str, ctx: Ctx) -> tuple[Obj, Obj]:
        """One attempt on a PaymentIntent with a test method; returns (pi, charge)."""
        method = TEST_METHODS.get(token)
        if method is None:
            raise invalid_request(f"No such PaymentMethod: '{token}'", param="payment_method", code="resource_missing")
        pm_id = objects.new_id("pm_1")
        ok = method.decline_code is None
        charge = objects.charge(
            public_url=self.sb.public_url,
            pi=pi,
            payment_method=pm_id,
            method_type=method.type,
            last4=method.last4,
            status="succeeded" if ok else "failed",
            outcome=_APPROVED if ok else _declined(method.decline_code or "generic_decline"),
            failure_code=None if ok else "card_declined",
            failure_message=None if ok else DECLINE_MESSAGE,
        )
        self.store.insert(charge)
        pi["latest_charge"] = charge["id"]
        if ok:
            pi.update(status="succeeded", amount_received=pi["amount"], payment_method=pm_id, last_payment_error=None)
        else:
            pi.update(
                status="requires_payment_method",
                payment_method=None,
                last_payment_error={
                    "charge": charge["id"],
                    "code": "card_declined",
                    "decline_code": method.decline_code,
                    "doc_url": "https://stripe.com/docs/error-codes/card-declined",
                    "message": DECLINE_MESSAGE,
                    "payment_method": _payment_method(pm_id, method),
                    "type": "card_error",
                },
            )
        self.store.save(pi)
        self.sb.emit("charge.succeeded" if ok else "charge.failed", charge, ctx)
        self.sb.emit("payment_intent.succeeded" if ok else "payment_intent.payment_failed", pi, ctx)
        return pi, charge

    @staticmethod
    def decline_error(pi: Obj) -> StripeError:
        """The 402 Stripe answers a declined confirm with, carrying the PI as Stripe does."""
        error = pi["last_payment_error"]
        return StripeError(
            402,
            "card_error",
            error["message"],
            code=error["code"],
            decline_code=error["decline_code"],
            charge=error["charge"],
            payment_intent=pi,
            payment_method=error["payment_method"],
        )

    def cancel_intent(self, pi: Obj, reason: str | None, ctx: Ctx) -> Obj:
        cancelable = {
            "requires_payment_method",
            "requires_capture",
            "requires_confirmation",
            "requires_action",
            "processing",
        }
        if pi["status"] not in cancelable:
            raise invalid_request(
                "You cannot cancel this PaymentIntent because it has a status of "
                f"{pi['status']}. Only a PaymentIntent with one of the following statuses may be canceled: "
                + ", ".join(sorted(cancelable))
                + ".",
                code="payment_intent_unexpected_state",
            )
        pi.update(status="canceled", canceled_at=objects.now(), cancellation_reason=reason)
        self.store.save(pi)
        self.sb.emit("payment_intent.canceled", pi, ctx)
        return pi

    # -- Checkout outcomes ---------------------------------------------------
    def _session_intent(self, session: Obj, ctx: Ctx) -> Obj:
        """Checkout creates the PaymentIntent at the first attempt and reuses it after a decline."""
        if session["payment_intent"]:
            return self.store.require(session["payment_intent"], "payment_intent")
        pdata = self.store.private(session["id"]).get("payment_intent_data", {})
        pi = objects.payment_intent(
            amount=session["amount_total"],
            currency=session["currency"],
            metadata=dict(pdata.get("metadata", {})),
            description=pdata.get("description"),
            transfer_group=pdata.get("transfer_group"),
            payment_method_types=list(session["payment_method_types"]),
        )
        self.create_intent(pi, ctx)
        session["payment_intent"] = pi["id"]
        self.store.save(session)
        return pi

    def _complete_session(self, session: Obj, paid: bool, ctx: Ctx) -> None:
        session.update(
            status="complete",
            payment_status="paid" if paid else "unpaid",
            url=None,
            customer_details={
                "address": {**objects._NULL_ADDRESS, "country": "US"},
                "email": session["customer_email"] or "guest@example.com",
                "name": "Test Guest",
                "phone": None,
                "tax_exempt": "none",
                "tax_ids": [],
                "business_name": None,
                "individual_name": None,
            },
        )
        self.store.save(session)
        self.sb.emit("checkout.session.completed", session, ctx)

    def complete_checkout(self, session_id: str, outcome: str, *, settle: bool = True, ctx: Ctx = SYSTEM) -> Obj:
        """What the hosted page's buttons do; `outcome` as in POST /_sandbox/.../complete."""
        session = self.store.require(session_id, "checkout.session")
        delayed = outcome in ("delayed_succeeded", "delayed_failed")
        if outcome not in ("succeeded", "failed", "delayed_succeeded", "delayed_failed"):
            raise invalid_request(f"Invalid outcome: {outcome}", param="outcome")
        if delayed and session["status"] == "complete" and session["payment_status"] == "unpaid":
            return self.settle_delayed(session_id, outcome == "delayed_succeeded", ctx)
        if session["status"] != "open" or session["expires_at"] <= time.time():
            raise invalid_request(
                f"This Checkout Session is no longer active (status: {session['status']}).",
                code="checkout_session_not_active",
                param="session",
            )
        pi = self._session_intent(session, ctx)
        if not delayed:
            pi, _ = self.charge_intent(pi, "pm_card_visa" if outcome == "succeeded" else "pm_card_chargeDeclined", ctx)
            if pi["status"] == "succeeded":
                self._complete_session(session, True, ctx)
            return session
        bank = "sepa_debit" if session["currency"] == "eur" else "us_bank_account"
        pi.update(
            status="processing",
            payment_method=objects.new_id("pm_1"),
            last_payment_error=None,
            payment_method_types=sorted({*pi["payment_method_types"], bank}),
        )
        self.store.save(pi)
        self.store.set_private(pi["id"], {"bank": bank})
        self._complete_session(session, False, ctx)
        if settle:
            return self.settle_delayed(session_id, outcome == "delayed_succeeded", ctx)
        return session

    def settle_delayed(self, session_id: str, succeeded: bool, ctx: Ctx = SYSTEM) -> Obj:
        """The bank's answer days later (here: now): charge, PI and checkout.session.async_* events."""
        session = self.store.require(session_id, "checkout.session")
        pi = self.store.require(session["payment_intent"], "payment_intent")
        if pi["status"] != "processing":
            raise invalid_request(
                f"The PaymentIntent {pi['id']} is not processing (status: {pi['status']}).",
                code="payment_intent_unexpected_state",
            )
        bank = self.store.private(pi["id"]).get("bank", "us_bank_account")
        charge = objects.charge(
            public_url=self.sb.public_url,
            pi=pi,
            payment_method=pi["payment_method"],
            method_type=bank,
            last4="6789",
            status="succeeded" if succeeded else "failed",
            outcome=_APPROVED if succeeded else _declined("insufficient_funds"),
            failure_code=None if succeeded else "insufficient_funds",
            failure_message=None
            if succeeded
            else "The customer's account has insufficient funds to cover this payment.",
        )
        self.store.insert(charge)
        pi["latest_charge"] = charge["id"]
        if succeeded:
            pi.update(status="succeeded", amount_received=pi["amount"])
        else:
            pi.update(
                status="requires_payment_method",
                payment_method=None,
                last_payment_error={
                    "charge": charge["id"],
                    "code": "insufficient_funds",
                    "decline_code": None,
                    "doc_url": "https://stripe.com/docs/error-codes/insufficient-funds",
                    "message": charge["failure_message"],
                    "payment_method": None,
                    "type": "card_error",
                },
            )
        self.store.save(pi)
        self.sb.emit("charge.succeeded" if succeeded else "charge.failed", charge, ctx)
        self.sb.emit("payment_intent.succeeded" if succeeded else "payment_intent.payment_failed", pi, ctx)
        if succeeded:
            session["payment_status"] = "paid"
            self.store.save(session)
        self.sb.emit(
            "checkout.session.async_payment_succeeded" if succeeded else "checkout.session.async_payment_failed",
            session,
            ctx,
        )
        return session

    def expire_checkout(self, session_id: str, ctx: Ctx) -> Obj:
        session = self.store.require(session_id, "checkout.session", param="session")
        if session["status"] != "open":
            raise invalid_request(
                'Only Checkout Sessions with a status in ["open"] can be expired. '
                f'This Checkout Session has a status of "{session["status"]}".',
                param="session",
            )
        session.update(status="expired", url=None)
        self.store.save(session)
        if session["payment_intent"]:  # Stripe cancels the PI a failed attempt left behind
            pi = self.store.require(session["payment_intent"], "payment_intent")
            if pi["status"] == "requires_payment_method":
                self.cancel_intent(pi, "abandoned", ctx)
        self.sb.emit("checkout.session.expired", session, ctx)
        return session

    def expire_overdue(self) -> int:
        """Stripe expires open sessions at `expires_at`; the worker calls this every tick."""
        overdue = self.store.all_of(
            "checkout.session",
            [
                ("json_extract(data, '$.status') = ?", "open"),
                ("json_extract(data, '$.expires_at') <= ?", int(time.time())),
            ],
        )
        for session in overdue:
            self.expire_checkout(session["id"], SYSTEM)
        return len(overdue)

    # -- Refunds and transfers -----------------------------------------------
    def refund(self, charge: Obj, amount: int | None, metadata: dict[str, str], reason: str | None, ctx: Ctx) -> Obj:
        if charge["status"] != "succeeded":
            raise invalid_request(f"Charge {charge['id']} has not succeeded and cannot be refunded.", param="charge")
        remaining = charge["amount_captured"] - charge["amount_refunded"]
        if remaining <= 0:
            raise invalid_request(f"Charge {charge['id']} has already been refunded.", code="charge_already_refunded")
        amount = remaining if amount is None else amount
        if amount > remaining:
            currency = charge["currency"]
            raise invalid_request(
                f"Refund amount ({format_amount(amount, currency)}) is greater than unrefunded "
                f"amount on charge ({format_amount(remaining, currency)})",
                param="amount",
            )
        refund = objects.refund(charge_obj=charge, amount=amount, metadata=metadata, reason=reason)
        self.store.insert(refund)
        charge["amount_refunded"] += amount
        charge["refunded"] = charge["amount_refunded"] >= charge["amount_captured"]
        charge["refunds"]["data"].insert(0, refund)
        self.store.save(charge)
        self.sb.emit("refund.created", refund, ctx)
        self.sb.emit("charge.refunded", charge, ctx)
        return refund

    def transfer(self, transfer: Obj, ctx: Ctx) -> Obj:
        self.store.insert(transfer)
        self.sb.emit("transfer.created", transfer, ctx)
        return transfer

    def reverse_transfer(self, transfer: Obj, amount: int | None, metadata: dict[str, str], ctx: Ctx) -> Obj:
        """Take back (part of) a transfer from the connected account, as POST /v1/transfers/{id}/reversals."""
        remaining = transfer["amount"] - transfer["amount_reversed"]
        amount = remaining if amount is None else amount
        if amount > remaining:
            raise invalid_request(
                f"Transfer {transfer['id']} has {remaining} left to reverse, less than the requested {amount}.",
                param="amount",
            )
        reversal = objects.transfer_reversal(transfer_obj=transfer, amount=amount, metadata=metadata)
        self.store.insert(reversal)
        transfer["amount_reversed"] += amount
        transfer["reversed"] = transfer["amount_reversed"] >= transfer["amount"]
        transfer["reversals"]["data"].insert(0, reversal)
        transfer["reversals"]["total_count"] = len(transfer["reversals"]["data"])
        self.store.save(transfer)
        self.sb.emit("transfer.reversed", transfer, ctx)
        return reversal
