"""Orders: CreateOrder, GetOrder, GetOrderList, SaveOrder."""

from __future__ import annotations

from typing import Any

from .context import Ctx, Result, find_order, open_order_to_change, required_child, resolve
from .errors import E_GUID_EXISTS, E_NO_GUESTS, NO_CHANGES, bad_params, executing, not_found_in
from .orders import SESSION_OPEN, Doc, list_order_element, next_uni, order_element, touch
from .seed import CASHES, EMPLOYEES, MENUITEMS, TABLES_REF
from .xmlio import Element, element, fmt_dt, int_attr, new_guid, norm_guid

FIRST_ORDER_IDENT = 256  # [V] the first (here: only) order of a visit


def changed(ctx: Ctx, order: Doc) -> None:
    """Every change bumps the order's version and the order table's version (GetOrderList lastversion)."""
    touch(order)
    ctx.store.next_value("version")
    ctx.store.save_order(order)


def create_order(ctx: Ctx, cmd: Element) -> Result:
    """A new visit with one order. Only Table is required [V]; a reused guid is refused [I]."""
    order_el = required_child(cmd, "Order")
    table = resolve(ctx, required_child(order_el, "Table"), TABLES_REF)
    for tag, collection in (("Station", CASHES), ("Waiter", EMPLOYEES)):
        if (ref := order_el.find(tag)) is not None:
            resolve(ctx, ref, collection)
    guests = order_el.find("Guests")
    if ctx.options.require_guests and (guests is None or not guests.findall("Guest")):
        raise executing(E_NO_GUESTS, "Количество гостей не может быть равно нулю")
    guid = norm_guid(order_el.get("guid", "")) if order_el.get("guid") else new_guid()
    if ctx.store.order_by_guid(guid) is not None:
        raise executing(E_GUID_EXISTS, f"Order with guid {guid} already exists")
    visit_id = ctx.store.next_value("visit")
    ctx.store.add_visit(visit_id, new_guid())
    order: Doc = {
        "guid": guid,
        "visit": visit_id,
        "orderIdent": FIRST_ORDER_IDENT,
        "orderName": f"{table['Code']}/{visit_id}",  # [I] the format of a real server's orderName
        "table": {"id": table["Ident"], "code": table["Code"], "name": table["Name"]},
        "persistentComment": order_el.get("persistentComment", ""),
        "props": [
            {"name": p.get("name", ""), "value": p.get("value", "")} for p in order_el.findall("ExternalProps/Prop")
        ],
        "version": 1,
        "paid": False,
        "finished": False,
        "created": fmt_dt(ctx.now),
        "next_uni": 0,
        "sessions": [],
        "payments": [],
        "check": None,
    }
    ctx.store.insert_order(order)
    ctx.store.next_value("version")
    return Result([order_element(order)], attrs={"VisitID": visit_id, "OrderID": FIRST_ORDER_IDENT, "guid": guid})


def get_order(ctx: Ctx, cmd: Element) -> Result:
    return Result([order_element(find_order(ctx, required_child(cmd, "Order")))])


def get_order_list(ctx: Ctx, cmd: Element) -> Result:
    """Visits with their orders; `lastversion` equal to the current one answers "No changes" [V]."""
    current = ctx.store.counter("version")
    last = int_attr(cmd, "lastversion")
    if last is not None and last >= current:
        return Result([], attrs={"lastversion": current}, status=NO_CHANGES)
    only_opened = cmd.get("onlyOpened", "0").strip() in ("1", "true")
    visits: list[Element] = []
    for visit in ctx.store.visits():
        if only_opened and visit["finished"]:
            continue
        visit_el = element(
            "Visit", VisitID=visit["visit"], guid=visit["guid"], Finished="1" if visit["finished"] else "0"
        )
        orders_el = element("Orders")
        visit_el.append(orders_el)
        for order in ctx.store.orders(visit["visit"]):
            orders_el.append(list_order_element(order, locked=order["guid"] in ctx.locks))
        visits.append(visit_el)
    return Result(visits, attrs={"lastversion": current})


def _dish_line(ctx: Ctx, dish_el: Element) -> dict[str, Any]:
    item = resolve(ctx, dish_el, MENUITEMS)
    quantity = int_attr(dish_el, "quantity", required=True)
    assert quantity is not None
    if quantity <= 0:
        raise bad_params(f"Dish {item['Code']}: quantity must be positive")
    price = int_attr(dish_el, "price")
    if price is None:
        if item["open_price"]:
            raise bad_params(f"Dish {item['Code']} has an open price: price is required")
        price = int(item["price"])
    if price < 0:
        raise bad_params(f"Dish {item['Code']}: price must not be negative")
    line_guid = norm_guid(dish_el.get("line_guid", ""), "line_guid") if dish_el.get("line_guid") else None
    return {
        "line_guid": line_guid,
        "id": item["Ident"],
        "code": item["Code"],
        "name": item["Name"],
        "quantity": quantity,
        "price": price,
    }


def save_order(ctx: Ctx, cmd: Element) -> Result:
    """Session without `uni` appends a package [V]; with `uni` it overwrites that package while unpaid."""
    order_el = required_child(cmd, "Order")
    session_els = cmd.findall("Session")
    if not session_els:
        raise bad_params("Session is required for SaveOrder")
    order = open_order_to_change(ctx, cmd, order_el)
    # Validate every line before changing anything: a refused SaveOrder leaves the order as it was.
    parsed = []
    for session_el in session_els:
        if (station := session_el.find("Station")) is not None:
            resolve(ctx, station, CASHES)
        parsed.append((session_el, [_dish_line(ctx, d) for d in session_el.findall("Dish")]))
    written: list[Doc] = []
    for session_el, lines in parsed:
        given_guid = norm_guid(session_el.get("line_guid", ""), "line_guid") if session_el.get("line_guid") else None
        uni = int_attr(session_el, "uni")
        if uni is None:
            session: Doc = {
                "uni": next_uni(order),
                "sessionID": len(order["sessions"]) + 1,
                "line_guid": given_guid or new_guid(),
                "state": SESSION_OPEN,
                "dishes": [],
            }
            order["sessions"].append(session)
        else:
            found = [s for s in order["sessions"] if s["uni"] == uni]
            if not found:
                raise not_found_in(str(uni), "Sessions")
            session = found[0]
            session["dishes"] = []
            session["line_guid"] = given_guid or session["line_guid"]
        for line in lines:
            session["dishes"].append({"uni": next_uni(order), **line, "line_guid": line["line_guid"] or new_guid()})
        written.append(session)
    changed(ctx, order)
    return Result(
        [order_element(order)]
        + [element("Session", sessionID=s["sessionID"], line_guid=s["line_guid"]) for s in written]
    )
