"""`POST /v1/partner/orders`: a partner's order, checked against the menu, with a hosted checkout.

The order is ours like a kiosk's, owned by the pseudo-kiosk `partner:<name>` (its orders, payments
and feed events carry that id), and linked to the partner's own id in partner_orders, in the
transaction that stores its payment attempt: a payment of a partner's order always finds its
partner, so its webhooks are never lost.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from tablepay_domain.money import Money
from tablepay_domain.order import KitchenMode, Line, Order
from tablepay_domain.payment_state import PaymentStatus

from ..models import PaymentRecord, snapshot_json, utc_now
from ..storage.feed_rows import PARTNER_PREFIX
from ..storage.partner_rows import PartnerOrderRecord, PartnerRecord
from ..storage.repository import Repository
from .checkout import CheckoutService, Conflict, NotFound, Unprocessable
from .partner_events import ORDER_STATUS, provider_reference

MENU_JSON = Path(__file__).resolve().parents[2] / "resources" / "menu.json"
# The menu as {sku: (name, unit_amount)} for a currency: the POS's when it is the menu source.
MenuPrices = Callable[[str], Awaitable[dict[str, tuple[str, int]]]]


def owner_of(partner: str) -> str:
    """The kiosk id a partner's orders carry (and the owner of its Idempotency-Keys)."""
    return f"{PARTNER_PREFIX}{partner}"


def file_menu(path: Path = MENU_JSON) -> MenuPrices:
    """resources/menu.json's prices, in its one currency (another currency has no prices); read at start,
    as the kiosks read it."""
    menu = json.loads(path.read_text("utf-8"))
    known = prices_of(menu)

    async def prices(currency: str) -> dict[str, tuple[str, int]]:
        return known if menu.get("currency") == currency else {}

    return prices


def prices_of(menu: dict[str, Any]) -> dict[str, tuple[str, int]]:
    """{sku: (name, unit_amount)} of a menu in resources/menu.json's shape (GET /v1/menu answers it too)."""
    return {
        item["sku"]: (item["name"], int(item["unit_amount"]))
        for category in menu.get("categories", [])
        for item in category.get("items", [])
    }


class PartnerOrders:
    def __init__(self, repo: Repository, checkouts: CheckoutService, menu: MenuPrices) -> None:
        self._repo = repo
        self._checkouts = checkouts
        self._menu = menu

    async def create(
        self, partner: PartnerRecord, request: dict[str, Any], idempotency_key: str | None
    ) -> tuple[int, dict[str, Any]]:
        """201 with the checkout; the same answer again for the same key and body; 422 for the same key
        with another body (as `POST /v1/checkouts`, over the same table, keyed by the partner)."""
        owner = owner_of(partner.name)
        if not idempotency_key:
            return await self._create(partner, request)
        request_hash = hashlib.sha256(json.dumps(request, sort_keys=True).encode()).hexdigest()
        return await self._checkouts.once_per_key(
            owner, idempotency_key, request_hash, lambda resumed: self._create(partner, request, resume=resumed)
        )

    async def _create(
        self, partner: PartnerRecord, request: dict[str, Any], *, resume: bool = False
    ) -> tuple[int, dict[str, Any]]:
        external = request["external_order_id"]
        existing = self._repo.partner_order(partner.name, external)
        if existing is not None:
            payment = self._repo.payment(existing.payment_id)
            # Resumed: the same key's request died mid-way (its checkout may not be open yet).
            if resume and payment is not None and payment.status.is_live:
                resumed = await self._resume_checkout(payment, request["return_url"], request["cancel_url"])
                return 201, self._answer(resumed)
            # The provider could not open its checkout (the partner was answered 502): that order was never
            # payable, so asking again is a new attempt of it, not a second order of the same id.
            if not (payment is not None and payment.status is PaymentStatus.FAILED and payment.checkout_url is None):
                raise Conflict(f"order {external!r} exists already", order_id=existing.order_id)
            order = await self._priced_order(partner, request, existing.order_id)
            payment = await self._open_checkout(
                order,
                return_url=request["return_url"],
                cancel_url=request["cancel_url"],
                link=lambda attempt: self._repo.relink_partner_order(partner.name, external, attempt.payment_id),
            )
            return 201, self._answer(payment)
        order = await self._priced_order(partner, request)
        link = PartnerOrderRecord(
            partner=partner.name,
            external_order_id=external,
            order_id=order.order_id,
            payment_id="",
            kitchen=request.get("kitchen"),
            created_at=utc_now(),
        )

        def linked(payment: PaymentRecord) -> None:
            # The look above is not a lock: a request for the same external id may have linked its order
            # meanwhile (the price check awaits the POS; another instance). Raising here rolls back this
            # order, its attempt and its feed row with the link.
            if not self._repo.insert_partner_order(
                PartnerOrderRecord(**{**link.__dict__, "payment_id": payment.payment_id})
            ):
                raise Conflict(f"order {external!r} exists already")

        payment = await self._open_checkout(
            order, return_url=request["return_url"], cancel_url=request["cancel_url"], link=linked
        )
        return 201, self._answer(payment)

    @staticmethod
    def _answer(payment: PaymentRecord) -> dict[str, Any]:
        return {
            "order_id": payment.order_id,
            "payment_id": payment.payment_id,
            "checkout_url": payment.checkout_url,
            "expires_at": payment.expires_at,
            "amount_total": payment.amount_total,
        }

    async def _priced_order(
        self, partner: PartnerRecord, request: dict[str, Any], order_id: str | None = None
    ) -> Order:
        """The order, its every line at the menu's price (422 naming the dish and both prices if not)."""
        currency = request["currency"]
        menu = await self._menu(currency)
        lines = []
        for line in request["lines"]:
            known = menu.get(line["sku"])
            if known is None:
                raise Unprocessable(
                    f"{line['name']!r} ({line['sku']}) is not on the menu in {currency}", sku=line["sku"]
                )
            name, price = known
            if price != line["unit_amount"]:
                raise Unprocessable(
                    f"{name} ({line['sku']}) costs {Money(price, currency)} on the menu, not "
                    f"{Money(line['unit_amount'], currency)}",
                    sku=line["sku"],
                    menu_unit_amount=price,
                    unit_amount=line["unit_amount"],
                )
            lines.append(Line(line["sku"], line["name"], line["quantity"], line["unit_amount"]))
        table = request.get("table") or f"pickup {request.get('pickup')}"
        return Order(
            order_id=order_id or f"ord_{uuid.uuid4().hex}",
            kiosk_id=owner_of(partner.name),
            currency=currency,
            table=table,
            waiter=partner.name,
            lines=tuple(lines),
            tip_amount=request.get("tip_amount", 0),
            donation_amount=request.get("donation_amount", 0),
            note=request.get("note", ""),
            # pay-first or not, as the partner asks (else the service's TABLEPAY_KITCHEN)
            kitchen=KitchenMode(request["kitchen"]) if request.get("kitchen") else None,
        )

    async def _open_checkout(
        self, order: Order, *, return_url: str, cancel_url: str, link: Callable[[PaymentRecord], None]
    ) -> PaymentRecord:
        """Checked as a kiosk's order; its attempt stored with `link` (in that transaction); then, as for a
        kiosk's checkout, the kitchen gets its dishes (on_send; a pay-first order's go once it is paid:
        PosOrders.send), and its checkout sends the guest back to the partner's URLs."""
        checkouts = self._checkouts
        order = checkouts.valid(order, order.kiosk_id)
        checkouts.chargeable(order)
        async with checkouts.locks.hold(order.order_id):
            payment = checkouts.store_attempt(order, snapshot_json(order), None, also=link)
            if checkouts.pos is not None:  # after the link: a request refused as a duplicate sends nothing
                checkouts.queue_for_pos(order)
            return await checkouts.open_hosted_checkout(payment, order, partner_urls=(return_url, cancel_url))

    async def _resume_checkout(self, payment: PaymentRecord, return_url: str, cancel_url: str) -> PaymentRecord:
        """A partner's attempt whose request died before its checkout was opened: open it now."""
        async with self._checkouts.locks.hold(payment.order_id):
            current = self._repo.payment(payment.payment_id)
            assert current is not None
            if current.checkout_url is not None:
                return current
            stored = json.loads(current.snapshot)
            kitchen = KitchenMode(stored["kitchen"]) if stored.get("kitchen") else None
            order = Order(**{**stored, "kitchen": kitchen, "lines": tuple(Line(**line) for line in stored["lines"])})
            return await self._checkouts.open_hosted_checkout(current, order, partner_urls=(return_url, cancel_url))

    def state(self, partner: PartnerRecord, external_order_id: str) -> dict[str, Any]:
        found = self._repo.partner_order(partner.name, external_order_id)
        payment = self._repo.payment(found.payment_id) if found else None
        if found is None or payment is None:
            raise NotFound(f"no order {external_order_id!r} of this partner")
        return {
            "external_order_id": external_order_id,
            "order_id": payment.order_id,
            "payment_id": payment.payment_id,
            "payment_status": payment.status.value,
            "order_status": ORDER_STATUS[payment.status],
            "kitchen": found.kitchen,
            "currency": payment.currency,
            "dish_subtotal": payment.dish_subtotal,
            "tip_amount": payment.tip_amount,
            "donation_amount": payment.donation_amount,
            "amount_total": payment.amount_total,
            "amount_refunded": payment.amount_refunded,
            "paid_at": payment.paid_at,
            "payment_intent_id": provider_reference(payment),
            "checkout_url": payment.checkout_url,
            "expires_at": payment.expires_at,
        }
