"""Paying and closing: PayOrder, CloseVisit."""

from __future__ import annotations

from typing import Any

from .context import Ctx, Result, check_lock, find_order, open_order_to_change, required_child, resolve
from .errors import (
    E_NOT_ENOUGH_MONEY,
    E_UNPAID_ORDERS,
    E_VISIT_LOCKED,
    bad_params,
    executing,
    not_found_in,
    visit_closed,
)
from .order_commands import changed
from .orders import SESSION_CLOSED, next_uni, unpaid_sum
from .seed import CASHES, CURRENCIES, DISCOUNTS, EMPLOYEES
from .xmlio import Element, element, fmt_dt, int_attr, new_guid, sub

CHECK_STATE_CLOSED = 6


def _payment(ctx: Ctx, pay_el: Element) -> dict[str, Any]:
    currency = resolve(ctx, pay_el, CURRENCIES)
    amount = int_attr(pay_el, "amount", required=True)
    tip = int_attr(pay_el, "tipAmount", default=0)
    assert amount is not None and tip is not None
    if amount < 0 or tip < 0:
        raise bad_params("Payment amount and tipAmount must not be negative")
    tip_charge = None
    if (charge_el := pay_el.find("TipCharge")) is not None:
        tip_charge = resolve(ctx, charge_el, DISCOUNTS)["Code"]
    # [I] Whether amount includes the tip is undocumented: an option, default "it does not".
    # Either way the tip is this line's own: one line's tip never pays for another line's dishes.
    covered = amount - tip if ctx.options.payment_amount_includes_tip else amount
    if covered < 0:
        raise bad_params("Payment amount must include its tipAmount")
    return {
        "id": currency["Ident"],
        "code": currency["Code"],
        "name": currency["Name"],
        "amount": amount,
        "tipAmount": tip,
        "covered": covered,
        "tipCharge": tip_charge,
        "extTransactionInfo": pay_el.get("extTransactionInfo", ""),
        "authcode": pay_el.get("authcode", ""),
    }


def pay_order(ctx: Ctx, cmd: Element) -> Result:
    """External payment(s) that must cover the unpaid sum exactly [V]; closes the order and prints a check."""
    order_el = required_child(cmd, "Order")
    resolve(ctx, required_child(cmd, "Station"), CASHES)
    resolve(ctx, required_child(cmd, "Cashier"), EMPLOYEES)
    pay_els = cmd.findall("Payment")
    if not pay_els:
        raise bad_params("Payment is required for PayOrder")
    order = open_order_to_change(ctx, cmd, order_el)
    payments = [_payment(ctx, p) for p in pay_els]
    covered = sum(p["covered"] for p in payments)
    if covered != unpaid_sum(order):
        raise executing(E_NOT_ENOUGH_MONEY, "Недостаточно денег для полной оплаты заказа")
    for pay in payments:
        order["payments"].append({"uni": next_uni(order), "line_guid": new_guid(), **pay})
    for session in order["sessions"]:
        session["state"] = SESSION_CLOSED
    order["paid"] = order["finished"] = True
    order["check"] = {
        "CheckNum": ctx.store.next_value("check"),
        "line_guid": new_guid(),
        "amount": covered,
        "printTime": fmt_dt(ctx.now),
    }
    changed(ctx, order)
    check = order["check"]
    printed = element(
        "PrintCheck",
        CheckNum=check["CheckNum"],
        line_guid=check["line_guid"],
        amount=check["amount"],
        state=CHECK_STATE_CLOSED,
        printTime=check["printTime"],
    )
    for pay in payments:
        sub(printed, "Pay", id=pay["id"], code=pay["code"], name=pay["name"], amount=pay["amount"])
    return Result([printed])


def close_visit(ctx: Ctx, cmd: Element) -> Result:
    """Refused while an order is locked (2129 [V]) or has unpaid dishes [I]; a closed visit gives 2128."""
    order_el = cmd.find("Order")
    if order_el is not None:
        visit_id = int(find_order(ctx, order_el)["visit"])
    else:
        given = int_attr(cmd, "VisitID")
        if given is None:
            raise bad_params("CloseVisit needs VisitID or Order")
        visit_id = given
    visit = ctx.store.visit(visit_id)
    if visit is None:
        raise not_found_in(str(visit_id), "VISITS")
    if visit["finished"]:
        raise visit_closed(visit_id)
    orders = ctx.store.orders(visit_id)
    for order in orders:
        check_lock(ctx, order, cmd, order_el, number=E_VISIT_LOCKED)
    for order in orders:
        if not order["paid"] and order["sessions"] and any(s["dishes"] for s in order["sessions"]):
            raise executing(E_UNPAID_ORDERS, f"В визите {visit_id} есть неоплаченные заказы")
    for order in orders:
        if not order["finished"]:
            order["finished"] = True  # an empty order closes with its visit
            changed(ctx, order)
    ctx.store.finish_visit(visit_id)
    ctx.store.next_value("version")
    return Result()
