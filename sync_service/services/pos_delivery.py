"""Carry POS outbox rows to R-Keeper, each step idempotent against the POS itself.

The outbox gives at least once: a worker killed mid-call, or a POS that
applies a command and then drops the connection, means the same row runs
again. So every step first reads the order back (GetOrder by our GUID) and
does only what is still missing:
- create: only when GetOrder finds no order with our GUID;
- a package of dishes: only when no Session carries the package's line_guid
  (or, on a POS that does not keep client line_guids, when the quantities
  show it missing);
- a tip dish: only when no Session carries the payment's tip line_guid (or the
  POS has fewer tip dishes of that price than the payments need);
- pay: only while `paid` is 0, and only for exactly the unpaid sum we expect,
  once per order: a settled bill's shares go in one PayOrder, a line each;
- close: a visit already closed counts as closed.
"""

from __future__ import annotations

import uuid
from typing import Any

from tablepay_domain.money import to_hundredths

from ..models import PaymentRecord
from ..pos import rkeeper_xml as rx
from ..pos.config import PosConfig, TipMode
from ..pos.rkeeper_client import RKeeperClient
from ..storage.pos_repository import PosRepository
from ..storage.repository import Repository
from .pos_orders import PosOrders, PosStatus

QUANTITY = 1000  # R-Keeper counts pieces in thousandths


def tip_line_guid(order_guid: str, payment_id: str) -> str:
    """Deterministic, so a retried tip dish is recognised."""
    return "{" + str(uuid.uuid5(uuid.UUID(order_guid.strip("{}")), f"tip:{payment_id}")).upper() + "}"


def _package_present(remote: rx.PosOrder, package: dict[str, Any], packages: list[dict[str, Any]]) -> bool:
    if remote.session(package["line_guid"]):
        return True
    earlier = [p for p in packages if p["package"] < package["package"]]
    if any(remote.session(p["line_guid"]) for p in earlier):
        return False  # this POS keeps our line_guids, and this one is not there
    # A POS that does not keep client line_guids: judge by quantities of our dishes.
    through: dict[str, int] = {}
    for p in [*earlier, package]:
        for line in p["lines"]:
            through[line["sku"]] = through.get(line["sku"], 0) + line["quantity"] * QUANTITY
    have = remote.quantities()
    return all(
        have.get(sku, 0) >= count
        for sku, count in through.items()
        if any(line["sku"] == sku for line in package["lines"])
    )


def _share(payment: PaymentRecord) -> str:
    """A payment as the trail names it: its id, its dishes and tip (minor units)."""
    tip = f" + tip {payment.tip_amount}" if payment.tip_amount else ""
    return f"{payment.payment_id} ({payment.dish_subtotal}{tip} minor units)"


class PosDelivery:
    def __init__(
        self, repo: Repository, pos_repo: PosRepository, orders: PosOrders, client: RKeeperClient, config: PosConfig
    ) -> None:
        self._repo, self._pos, self._orders = repo, pos_repo, orders
        self._client, self._config = client, config

    async def _ensure_order(self, order_id: str, pos_order: dict[str, Any]) -> rx.PosOrder:
        guid = pos_order["pos_guid"]
        remote = await self._client.get_order(guid)
        if remote is not None:
            return remote
        table, waiter = self._pos.table_and_waiter(order_id)
        try:
            remote = await self._client.create_order(
                guid,
                table=self._config.table(table),
                station=self._config.station,
                waiter=self._config.waiter,
                order_type=self._config.order_type,
                ext_props={"tablepay_order_id": order_id},
                comment=f"TablePay {order_id}" + (f" ({waiter})" if waiter else ""),
            )
        except rx.PosCommandError as exc:
            if exc.number != rx.ORDER_GUID_EXISTS:
                raise
            remote = await self._client.get_order(guid)  # created by a call whose answer was lost
            if remote is None:
                raise
        with self._repo.transaction():
            self._orders.delivered(
                order_id,
                "created",
                f"POS order {guid}, visit {remote.visit}",
                visit_id=remote.visit,
                order_ident=remote.order_ident,
            )
        return remote

    async def deliver_package(self, payload: dict[str, Any]) -> None:
        order_id, number = payload["order_id"], int(payload["package"])
        pos_order = self._pos.pos_order(order_id)
        assert pos_order is not None, order_id
        packages = self._pos.packages(order_id)
        package = packages[number - 1]
        if package["delivered_at"]:
            return
        remote = await self._ensure_order(order_id, pos_order)
        if not _package_present(remote, package, packages):
            if remote.paid or remote.finished:
                raise rx.PosMismatch(f"order {order_id} is closed in the POS; package {number} was not added")
            remote = await self._client.save_order(
                pos_order["pos_guid"],
                station=self._config.station,
                line_guid=package["line_guid"],
                dishes=[
                    rx.DishLine(
                        code=line["sku"],
                        quantity=line["quantity"] * QUANTITY,
                        price=to_hundredths(line["unit_amount"], line["currency"]),
                    )
                    for line in package["lines"]
                ],
            )
        pending = [p for p in packages if not p["delivered_at"] and p["package"] != number]
        with self._repo.transaction():
            self._pos.mark_delivered(order_id, number)
            self._orders.delivered(
                order_id,
                "package_sent",
                f"package {number} in the POS (version {remote.version})",
                None if pending else PosStatus.IN_POS,
            )
        self._orders.notify(order_id)

    async def deliver_payment(self, payload: dict[str, Any]) -> None:
        """Book the order's payment in one PayOrder, then close the visit.

        `payload`: `{"order_id", "payment_id"}` (one payment of the whole order) or
        `{"order_id", "payment_ids": [...]}` (the paid shares of a settled bill, in that
        order): one `<Payment>` line each, together exactly the POS's unpaid sum.
        """
        order_id = payload["order_id"]
        ids = list(payload["payment_ids"]) if "payment_ids" in payload else [payload["payment_id"]]
        found = self._repo.payments_by_id(ids)
        pos_order = self._pos.pos_order(order_id)
        assert ids and len(set(ids)) == len(ids) and set(ids) <= set(found) and pos_order is not None, payload
        payments = [found[payment_id] for payment_id in ids]
        assert all(p.order_id == order_id for p in payments), payload
        guid = pos_order["pos_guid"]
        remote = await self._client.get_order(guid)
        if remote is None:
            raise rx.PosMismatch(f"order {order_id} ({guid}) is not in the POS, so its payment cannot be booked")
        check_num = pos_order["check_num"]
        if remote.paid:
            detail = f"already paid in the POS (check {check_num or '?'})"
        else:
            remote = await self._add_tip_dishes(remote, guid, payments)
            check_num = await self._pay(remote, guid, order_id, payments)
            with self._repo.transaction():  # kept now: a retry after a lost CloseVisit answer still names it
                self._pos.update_pos_order(order_id, check_num=check_num)
            shares = ", ".join(_share(p) for p in payments)
            detail = f"paid {remote.unpaid_sum} (hundredths) with {shares}, check {check_num}"
        try:
            await self._client.close_visit(remote.visit)
        except rx.PosCommandError as exc:
            if exc.number != rx.VISIT_CLOSED:
                raise
        with self._repo.transaction():
            self._orders.delivered(
                order_id,
                "paid",
                detail + "; visit closed",
                PosStatus.PAID,
                # A settled bill's POS payment is the bill's, not one share's: no payment_id, as on its feed events.
                payload.get("payment_id", ""),
                check_num=check_num,
            )
        self._orders.notify(order_id)

    async def _add_tip_dishes(self, remote: rx.PosOrder, guid: str, payments: list[PaymentRecord]) -> rx.PosOrder:
        """One open-price tip dish per tipping payment (TipMode.DISH), each added once.

        A dish is there when its session carries the payment's line_guid or, on a POS that
        does not keep client line_guids, when the POS has as many tip dishes of that price as
        this and the earlier payments of the same tip need.
        """
        if self._config.tip_mode is not TipMode.DISH:
            return remote
        needed: dict[int, int] = {}
        for payment in payments:
            if payment.tip_amount <= 0:
                continue
            assert self._config.tip_dish_code
            line_guid = tip_line_guid(guid, payment.payment_id)
            price = to_hundredths(payment.tip_amount, payment.currency)
            needed[price] = needed.get(price, 0) + 1
            have = sum(
                d.code == self._config.tip_dish_code and d.price == price for s in remote.sessions for d in s.dishes
            )
            if remote.session(line_guid) or have >= needed[price]:
                continue
            remote = await self._client.save_order(
                guid,
                station=self._config.station,
                line_guid=line_guid,
                dishes=[rx.DishLine(code=self._config.tip_dish_code, quantity=QUANTITY, price=price)],
            )
        return remote

    async def _pay(self, remote: rx.PosOrder, guid: str, order_id: str, payments: list[PaymentRecord]) -> str:
        """One PayOrder, refused here (before sending) unless the lines cover the unpaid sum exactly."""
        lines = [self._payment_line(payment) for payment in payments]
        expected = sum(covers for covers, _ in lines)
        if remote.unpaid_sum != expected:
            who = "the guest" if len(payments) == 1 else f"the {len(payments)} shares"
            raise rx.PosMismatch(
                f"the POS wants {remote.unpaid_sum} for order {order_id} but {who} paid "
                f"{expected} (hundredths, without donation); check the order at the POS"
            )
        return await self._client.pay_order(
            guid, station=self._config.station, cashier=self._config.cashier, payments=[line for _, line in lines]
        )

    def _payment_line(self, payment: PaymentRecord) -> tuple[int, rx.PaymentLine]:
        """What the payment covers of the unpaid sum (hundredths), and its `<Payment>` line.

        Its dishes, plus its tip when the tip is a dish of the order; with TIP_CHARGE the tip
        rides on its own line's tipAmount (inside `amount` only if the POS counts it so).
        The donation never reaches the POS.
        """
        tip = to_hundredths(payment.tip_amount, payment.currency)
        dishes = to_hundredths(payment.dish_subtotal, payment.currency)
        charge_tip = self._config.tip_mode is TipMode.TIP_CHARGE and tip > 0
        covers = dishes + (0 if self._config.tip_mode is TipMode.TIP_CHARGE else tip)
        reference = payment.provider_payment_intent or payment.provider_session_id or payment.payment_id
        return covers, rx.PaymentLine(
            currency=self._config.currency,
            amount=covers + (tip if charge_tip and self._config.payment_includes_tip else 0),
            ext_transaction_info=f"{payment.provider}:{reference}",
            tip_amount=tip if charge_tip else 0,
            tip_charge=self._config.tip_charge if charge_tip else None,
        )
