"""R-Keeper 7 XML interface: build RK7Query documents, parse RK7QueryResult safely.

No I/O here. Responses are parsed with defusedxml (no DTDs, no entity
expansion). Money is in hundredths of the major unit, quantities in
thousandths, as the interface counts (docs/pos.md).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass, field

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException

# Error numbers the adapter reacts to (shared/reference/rkeeper-xml.md §2).
VISIT_CLOSED = 2128
ORDER_LOCKED = 2219
CLOSE_REFUSED_LOCKED = 2129
NOT_ENOUGH_MONEY = 3373
# Inferred, not documented: what the cash server answers for an unknown ref or order.
NOT_FOUND_IN_COLLECTION = 3020
ORDER_GUID_EXISTS = 3021
ORDER_NOT_FOUND = 3022


class PosError(Exception):
    """Anything that went wrong talking to the POS. `permanent` errors are not retried."""

    permanent = False


class PosUnavailable(PosError):
    """Transport trouble: refused, timed out, dropped, 5xx. Retried with backoff."""


class PosAuthError(PosError):
    """401: wrong RKEEPER_USER / RKEEPER_PASSWORD. Retrying cannot help."""

    permanent = True


class PosProtocolError(PosError):
    """The answer is not an RK7QueryResult we can read."""

    permanent = True


class PosCommandError(PosError):
    """The cash server refused the command: `Status` is not Ok."""

    # Business errors that can clear up by themselves: a terminal holds the order.
    TRANSIENT = frozenset({ORDER_LOCKED, CLOSE_REFUSED_LOCKED})

    def __init__(self, command: str, status: str, text: str, number: int | None) -> None:
        code = f" (RK7ErrorN {number})" if number is not None else ""
        super().__init__(f"{command}: {status}: {text}{code}")
        self.command, self.status, self.text, self.number = command, status, text, number
        self.permanent = number not in self.TRANSIENT


class PosMismatch(PosError):
    """The POS and TablePay disagree about an order (sum, lines); a person has to look."""

    permanent = True


@dataclass(frozen=True)
class PosDish:
    code: str
    quantity: int  # thousandths
    price: int  # hundredths
    amount: int  # hundredths


@dataclass(frozen=True)
class PosSession:
    uni: str
    line_guid: str
    dishes: tuple[PosDish, ...]


@dataclass(frozen=True)
class PosOrder:
    guid: str
    visit: str
    order_ident: str
    version: int
    order_sum: int
    unpaid_sum: int
    paid: bool
    finished: bool
    sessions: tuple[PosSession, ...] = ()
    ext_props: dict[str, str] = field(default_factory=dict)

    def session(self, line_guid: str) -> PosSession | None:
        wanted = line_guid.upper()
        return next((s for s in self.sessions if s.line_guid.upper() == wanted), None)

    def quantities(self) -> dict[str, int]:
        """Dish code -> total quantity (thousandths) over all packages."""
        totals: dict[str, int] = {}
        for session in self.sessions:
            for dish in session.dishes:
                totals[dish.code] = totals.get(dish.code, 0) + dish.quantity
        return totals


@dataclass(frozen=True)
class Ref:
    """A reference item: R-Keeper accepts `id` (Ident), `code` or `guid`."""

    code: str | None = None
    id: str | None = None

    def attrs(self) -> dict[str, str]:
        if self.id:
            return {"id": self.id}
        if self.code:
            return {"code": self.code}
        raise ValueError("a reference needs an id or a code")


@dataclass(frozen=True)
class DishLine:
    code: str
    quantity: int  # thousandths
    price: int | None = None  # hundredths; None = the POS price list


@dataclass(frozen=True)
class PaymentLine:
    currency: Ref
    amount: int
    ext_transaction_info: str
    tip_amount: int = 0
    tip_charge: Ref | None = None


@dataclass(frozen=True)
class MenuItem:
    ident: str
    code: str
    name: str
    parent: str


@dataclass(frozen=True)
class Result:
    """A successful answer: the root element and its attributes."""

    root: ET.Element

    def attr(self, name: str, default: str = "") -> str:
        return self.root.get(name, default)


def _query(command: str, attrs: dict[str, str] | None = None) -> tuple[ET.Element, ET.Element]:
    root = ET.Element("RK7Query")
    cmd = ET.SubElement(root, "RK7CMD", {"CMD": command, **(attrs or {})})
    return root, cmd


def _bytes(root: ET.Element) -> bytes:
    encoded: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return encoded


def _order_ref(parent: ET.Element, guid: str) -> None:
    ET.SubElement(parent, "Order", {"guid": guid})


def get_system_info() -> bytes:
    return _bytes(_query("GetSystemInfo")[0])


def get_ref_data(ref_name: str) -> bytes:
    return _bytes(_query("GetRefData", {"RefName": ref_name, "OnlyActive": "1"})[0])


def get_order_menu(station: Ref) -> bytes:
    root, cmd = _query("GetOrderMenu")
    ET.SubElement(cmd, "Station", station.attrs())
    return _bytes(root)


def get_order(guid: str) -> bytes:
    root, cmd = _query("GetOrder")
    _order_ref(cmd, guid)
    return _bytes(root)


def create_order(
    guid: str,
    *,
    table: Ref,
    station: Ref,
    waiter: Ref | None,
    order_type: Ref | None,
    ext_props: dict[str, str],
    comment: str,
) -> bytes:
    root, cmd = _query("CreateOrder")
    order = ET.SubElement(cmd, "Order", {"guid": guid, "persistentComment": comment})
    ET.SubElement(order, "Table", table.attrs())
    ET.SubElement(order, "Station", station.attrs())
    if waiter:
        ET.SubElement(order, "Waiter", waiter.attrs())
    if order_type:
        ET.SubElement(order, "OrderType", order_type.attrs())
    guests = ET.SubElement(order, "Guests")
    ET.SubElement(guests, "Guest", {"guestLabel": "1"})
    props = ET.SubElement(order, "ExternalProps")
    for name, value in ext_props.items():
        ET.SubElement(props, "Prop", {"name": name, "value": value})
    return _bytes(root)


def save_order(guid: str, *, station: Ref, line_guid: str, dishes: list[DishLine]) -> bytes:
    """A Session without `uni`: the POS appends it as a new package."""
    root, cmd = _query("SaveOrder")
    _order_ref(cmd, guid)
    session = ET.SubElement(cmd, "Session", {"line_guid": line_guid})
    ET.SubElement(session, "Station", station.attrs())
    for dish in dishes:
        attrs = {"code": dish.code, "quantity": str(dish.quantity)}
        if dish.price is not None:
            attrs["price"] = str(dish.price)
        ET.SubElement(session, "Dish", attrs)
    return _bytes(root)


def pay_order(guid: str, *, station: Ref, cashier: Ref, payments: Sequence[PaymentLine]) -> bytes:
    """One `<Payment>` per line; together they must cover the unpaid sum exactly (else 3373)."""
    if not payments:
        raise ValueError("PayOrder needs at least one payment line")
    root, cmd = _query("PayOrder")
    _order_ref(cmd, guid)
    ET.SubElement(cmd, "Station", station.attrs())
    ET.SubElement(cmd, "Cashier", cashier.attrs())
    for payment in payments:
        attrs = {
            **payment.currency.attrs(),
            "amount": str(payment.amount),
            "extTransactionInfo": payment.ext_transaction_info,
        }
        if payment.tip_amount:
            attrs["tipAmount"] = str(payment.tip_amount)
        line = ET.SubElement(cmd, "Payment", attrs)
        if payment.tip_amount and payment.tip_charge:
            ET.SubElement(line, "TipCharge", payment.tip_charge.attrs())
    return _bytes(root)


def close_visit(visit_id: str) -> bytes:
    return _bytes(_query("CloseVisit", {"VisitID": visit_id})[0])


# parsing --------------------------------------------------------------------


def parse_result(command: str, body: bytes) -> Result:
    """The root of an answer, or the typed error its `Status` describes."""
    try:
        root = SafeET.fromstring(body, forbid_dtd=True)
    except (ET.ParseError, DefusedXmlException, ValueError) as exc:
        raise PosProtocolError(f"{command}: unreadable answer from the POS: {exc}") from None
    if root.tag != "RK7QueryResult":
        raise PosProtocolError(f"{command}: expected RK7QueryResult, got <{root.tag}>")
    status = root.get("Status", "")
    if status not in ("Ok", "No changes"):
        number = root.get("RK7ErrorN")
        raise PosCommandError(
            command,
            status or "(no Status)",
            root.get("ErrorText", ""),
            int(number) if number and number.lstrip("-").isdigit() else None,
        )
    return Result(root)


def _int(element: ET.Element, name: str) -> int:
    try:
        return int(element.get(name) or 0)
    except ValueError:
        raise PosProtocolError(f"<{element.tag}> attribute {name}={element.get(name)!r} is not a number") from None


def order_from(result: Result) -> PosOrder:
    element = result.root.find("Order")
    if element is None:
        raise PosProtocolError(f"{result.attr('CMD')}: the answer has no <Order>")
    sessions = tuple(
        PosSession(
            uni=s.get("uni", ""),
            line_guid=s.get("line_guid", ""),
            dishes=tuple(
                PosDish(
                    code=d.get("code", ""),
                    quantity=_int(d, "quantity"),
                    price=_int(d, "price"),
                    amount=_int(d, "amount"),
                )
                for d in s.iter("Dish")
            ),
        )
        for s in element.findall("Session")
    )
    props = {p.get("name", ""): p.get("value", "") for p in element.iter("Prop")}
    return PosOrder(
        guid=element.get("guid", ""),
        visit=element.get("visit", ""),
        order_ident=element.get("orderIdent", ""),
        version=_int(element, "version"),
        order_sum=_int(element, "orderSum"),
        unpaid_sum=_int(element, "unpaidSum"),
        paid=element.get("paid") == "1",
        finished=element.get("finished") == "1",
        sessions=sessions,
        ext_props=props,
    )


def ref_items(result: Result) -> list[dict[str, str]]:
    return [dict(item.attrib) for item in result.root.iter("Item")]


def prices_from(result: Result) -> dict[str, int]:
    """GetOrderMenu: dish Ident -> price in hundredths."""
    dishes = result.root.find("Dishes")
    if dishes is None:
        return {}
    return {item.get("Ident", ""): _int(item, "Price") for item in dishes.iter("Item") if item.get("Price")}
