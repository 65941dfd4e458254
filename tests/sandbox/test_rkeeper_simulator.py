"""The R-Keeper 7 XML simulator over real HTTP: envelope, commands, error numbers, faults, persistence."""

from __future__ import annotations

import json
import re
import time
import xml.etree.ElementTree as ET  # parses only the simulator's own answers
from pathlib import Path

import httpx
import pytest

from tablepay_sandbox.rkeeper.options import RKeeperOptions
from tests.sandbox.conftest import Sandbox, SandboxFactory

XML_PATH = "/rk7api/v0/xmlinterface.xml"
AUTH = ("tablepay", "tablepay")
GUID = "{6B1C2D3E-0000-4000-8000-00000000A101}"
MENU = json.loads((Path(__file__).resolve().parents[2] / "resources" / "menu.json").read_text("utf-8"))
ROOT_ATTRS = [
    "ServerVersion",
    "XmlVersion",
    "NetName",
    "Status",
    "CMD",
    "ErrorText",
    "DateTime",
    "WorkTime",
    "Processed",
    "ArrivalDateTime",
]
DATETIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$")
BRACED_GUID = re.compile(r"^\{[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}\}$")


# -- helpers ----------------------------------------------------------------
def post(
    sandbox: Sandbox,
    body: str | bytes,
    *,
    auth: tuple[str, str] | None = AUTH,
    content_type: str = "text/xml; charset=utf-8",
) -> httpx.Response:
    return httpx.post(
        sandbox.url + XML_PATH, content=body, auth=auth, headers={"Content-Type": content_type}, timeout=10
    )


def query(sandbox: Sandbox, *commands: str) -> ET.Element:
    response = post(sandbox, '<?xml version="1.0" encoding="utf-8"?>\n<RK7Query>' + "".join(commands) + "</RK7Query>")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/xml; charset=utf-8"
    return ET.fromstring(response.content)


def cmd(name: str, inner: str = "", **attrs: str) -> str:
    attributes = "".join(f' {k}="{v}"' for k, v in attrs.items())
    return f'<RK7CMD CMD="{name}"{attributes}>{inner}</RK7CMD>'


def ok(root: ET.Element) -> ET.Element:
    assert root.get("Status") == "Ok", (root.get("Status"), root.get("ErrorText"))
    assert root.get("Processed") == "1" and root.get("RK7ErrorN") is None
    return root


def refused(root: ET.Element, status: str, number: int | None = None, text: str | None = None) -> None:
    assert root.get("Status") == status, (root.get("Status"), root.get("ErrorText"))
    assert root.get("Processed") == "0" and root.get("RK7ErrorN")
    if number is not None:
        assert root.get("RK7ErrorN") == str(number)
    if text is not None:
        assert root.get("ErrorText") == text


def create(sandbox: Sandbox, guid: str = GUID, table: str = "7", extra: str = "") -> ET.Element:
    return query(
        sandbox,
        cmd(
            "CreateOrder",
            f'<Order guid="{guid}" persistentComment="ext #A-1"><Table code="{table}"/>'
            '<Station code="3"/><Waiter code="5"/><OrderType code="1"/>'
            '<Guests><Guest guestLabel="1"/></Guests>'
            '<ExternalProps><Prop name="ext_order_id" value="A-1001"/>'
            f'<Prop name="table" value="{table}"/></ExternalProps>{extra}</Order>',
        ),
    )


def save(sandbox: Sandbox, dishes: str, guid: str = GUID, session: str = "", order: str = "") -> ET.Element:
    return query(
        sandbox,
        cmd("SaveOrder", f'<Order guid="{guid}"{order}/><Session{session}><Station code="3"/>{dishes}</Session>'),
    )


def get_order(sandbox: Sandbox, guid: str = GUID) -> ET.Element:
    root = ok(query(sandbox, cmd("GetOrder", f'<Order guid="{guid}"/>')))
    order = root.find("Order")
    assert order is not None
    return order


def pay(
    sandbox: Sandbox, amount: int, tip: int = 0, guid: str = GUID, order: str = "", currency: str = 'id="1030240"'
) -> ET.Element:
    tip_part = (f' tipAmount="{tip}"', '<TipCharge code="7"/>') if tip else ("", "")
    return query(
        sandbox,
        cmd(
            "PayOrder",
            f'<Order guid="{guid}"{order}/><Station code="3"/><Cashier code="5"/>'
            f'<Payment {currency} amount="{amount}" extTransactionInfo="psp:txn_8f2a" '
            f'authcode="A1B2C3"{tip_part[0]}>{tip_part[1]}</Payment>',
        ),
    )


def orders(sandbox: Sandbox) -> list[dict]:
    return sandbox.control("GET", "/_sandbox/rkeeper/orders").json()


def faults(sandbox: Sandbox, **body: object) -> dict:
    response = sandbox.control("POST", "/_sandbox/rkeeper/faults", json=body)
    assert response.status_code == 200, response.text
    return response.json()


TWO_BRUS_ONE_CARB = '<Dish code="BRUS" quantity="2000"/><Dish id="1000009" quantity="1000"/>'  # 2 x 650 + 1350
ONE_TIRA = '<Dish code="TIRA" quantity="1000"/>'  # 690


# -- transport and envelope ---------------------------------------------------
@pytest.mark.parametrize("auth", [None, ("tablepay", "wrong"), ("someone", "tablepay")])
def test_bad_or_missing_credentials_get_the_cash_servers_401(sandbox: Sandbox, auth: tuple[str, str] | None) -> None:
    response = post(sandbox, '<RK7Query><RK7CMD CMD="GetSystemInfo"/></RK7Query>', auth=auth)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == 'Basic realm="RK7"'
    assert response.headers["content-type"].startswith("text/html")
    assert response.text == "<HTML><BODY><B>401 Unauthorized</B></BODY></HTML>"


def test_result_root_carries_the_cash_servers_attributes(sandbox: Sandbox) -> None:
    root = ok(query(sandbox, cmd("GetSystemInfo")))
    assert root.tag == "RK7QueryResult" and list(root.attrib) == ROOT_ATTRS
    assert root.get("ServerVersion") == "7.6.4.483" and root.get("XmlVersion") == "248"
    assert root.get("NetName") == "TABLEPAY-SIM" and root.get("CMD") == "GetSystemInfo"
    assert DATETIME.match(root.get("DateTime", "")) and DATETIME.match(root.get("ArrivalDateTime", ""))
    info = root.find("SystemInfo")
    assert info is not None and info.get("RestCode") == "1" and DATETIME.match(info.get("SystemTime", ""))
    restaurant = info.find("Restaurant")
    assert restaurant is not None and set(restaurant.attrib) == {"id", "code", "name"}


@pytest.mark.parametrize(
    "body, content_type, text",
    [
        ("", "text/xml", "Empty input XML"),
        ('<RK7Query><RK7CMD CMD="GetSystemInfo"/></RK7Query>', "application/x-www-form-urlencoded", "Empty input XML"),
        ("<RK7Query><RK7CMD CMD=", "text/xml", None),
    ],
)
def test_unreadable_input_is_a_parse_error_with_http_200(
    sandbox: Sandbox, body: str, content_type: str, text: str | None
) -> None:
    response = post(sandbox, body, content_type=content_type)
    assert response.status_code == 200
    refused(ET.fromstring(response.content), "Query Parse Error", text=text)


def test_entity_expansion_is_refused_before_it_expands(sandbox: Sandbox) -> None:
    lol = ['<!ENTITY lol "lol">'] + [
        f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">' for i in range(1, 10)
    ]
    bomb = f'<?xml version="1.0"?><!DOCTYPE RK7Query [{"".join(lol)}]><RK7Query><RK7CMD CMD="&lol9;"/></RK7Query>'
    response = post(sandbox, bomb)
    assert response.status_code == 200 and len(response.content) < 2000
    refused(ET.fromstring(response.content), "Query Parse Error")
    external = '<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><RK7Query>&x;</RK7Query>'
    refused(ET.fromstring(post(sandbox, external).content), "Query Parse Error")


def test_unknown_command_names_are_case_sensitive(sandbox: Sandbox) -> None:
    refused(query(sandbox, cmd("getsysteminfo")), "Bad Query Parameters", text="Unknown command getsysteminfo")
    refused(query(sandbox, cmd("DeliveryPostOrder")), "Bad Query Parameters", text="Unknown command DeliveryPostOrder")


def test_several_rk7command_children_each_get_a_command_result(sandbox: Sandbox) -> None:
    create(sandbox)
    root = query(
        sandbox,
        '<RK7Command CMD="GetOrder"><Order guid="' + GUID + '"/></RK7Command>',
        '<RK7Command CMD="NoSuchThing"/>',
        '<RK7Command CMD="GetSystemInfo"/>',
    )
    assert root.get("Status") == "Ok" and root.get("Processed") == "2"
    results = root.findall("CommandResult")
    assert [r.get("CMD") for r in results] == ["GetOrder", "NoSuchThing", "GetSystemInfo"]
    assert [r.get("Status") for r in results] == ["Ok", "Bad Query Parameters", "Ok"]
    assert {"CMD", "Status", "ErrorText", "DateTime", "WorkTime"} <= set(results[0].attrib)
    assert results[0].find("Order") is not None and results[1].get("ErrorText") == "Unknown command NoSuchThing"


# -- reference data -------------------------------------------------------------
def test_menu_from_menuitems_categlist_and_order_menu_matches_menu_json(sandbox: Sandbox) -> None:
    items = ok(
        query(
            sandbox,
            cmd("GetRefData", RefName="MENUITEMS", OnlyActive="1", PropMask="items.(Ident,Code,Name,GUIDString)"),
        )
    ).findall("RK7Reference/Items/Item")
    categories = ok(query(sandbox, cmd("GetRefData", RefName="CATEGLIST"))).findall("RK7Reference/Items/Item")
    prices = {
        int(i.get("Ident", "")): int(i.get("Price", ""))
        for i in ok(query(sandbox, cmd("GetOrderMenu", '<Station code="3"/>'))).findall("Dishes/Item")
    }
    category_names = {c.get("Ident"): c.get("Name") for c in categories}
    built = {}
    for item in items:
        assert item.get("Status") == "rsActive" and BRACED_GUID.match(item.get("GUIDString", ""))
        if int(item.get("Ident", "")) in prices:
            built[item.get("Code")] = (
                item.get("Name"),
                prices[int(item.get("Ident", ""))],
                category_names[item.get("Parent")],
            )
    expected = {d["sku"]: (d["name"], d["unit_amount"], c["name"]) for c in MENU["categories"] for d in c["items"]}
    assert built == expected
    assert items[0].get("Ident") == "1000001" and items[0].get("Code") == MENU["categories"][0]["items"][0]["sku"]
    assert categories[0].get("Ident") == "2000001"
    tips = [i for i in items if i.get("Code") == "9001"]
    assert len(tips) == 1 and tips[0].get("Name") == "Tips" and int(tips[0].get("Ident", "")) not in prices
    currency = ok(query(sandbox, cmd("GetRefData", RefName="CURRENCIES"))).find("RK7Reference/Items/Item")
    assert currency is not None and (currency.get("Ident"), currency.get("Code"), currency.get("Name")) == (
        "1030240",
        "11",
        "Online card",
    )
    refused(query(sandbox, cmd("GetRefData", RefName="NOSUCHREF")), "Bad Query Parameters")
    refused(query(sandbox, cmd("GetOrderMenu")), "Bad Query Parameters")


# -- the whole flow -----------------------------------------------------------------
def test_create_save_twice_pay_close_then_the_visit_is_closed(sandbox: Sandbox) -> None:
    created = ok(create(sandbox, guid=GUID.lower()))
    assert created.get("OrderID") == "256" and created.get("guid") == GUID and created.get("VisitID")
    visit = created.get("VisitID")
    order = created.find("Order")
    assert order is not None and order.get("visit") == visit and order.get("orderIdent") == "256"
    assert order.get("orderSum") == "0" and order.get("paid") == "0"

    package_guid = "{11111111-2222-4333-8444-555555555555}"
    first = ok(save(sandbox, TWO_BRUS_ONE_CARB, session=f' line_guid="{package_guid.lower()}"'))
    assert [(s.get("sessionID"), s.get("line_guid")) for s in first.findall("Session")] == [("1", package_guid)]
    second = ok(
        query(sandbox, cmd("SaveOrder", f'<Order visit="{visit}" orderIdent="256"/><Session>{ONE_TIRA}</Session>'))
    )
    assert second.findall("Session")[0].get("sessionID") == "2"
    assert BRACED_GUID.match(second.findall("Session")[0].get("line_guid", ""))

    order = get_order(sandbox)
    sessions = order.findall("Session")
    assert [s.get("sessionID") for s in sessions] == ["1", "2"] and sessions[0].get("line_guid") == package_guid
    dishes = [(d.get("code"), d.get("quantity"), d.get("price"), d.get("amount")) for d in order.iter("Dish")]
    assert dishes == [("BRUS", "2000", "650", "1300"), ("CARB", "1000", "1350", "1350"), ("TIRA", "1000", "690", "690")]
    assert (order.get("orderSum"), order.get("unpaidSum"), order.get("basicSum")) == ("3340", "3340", "3340")
    assert order.get("version") == "3"
    assert [(p.get("name"), p.get("value")) for p in order.findall("ExternalProps/Prop")] == [
        ("ext_order_id", "A-1001"),
        ("table", "7"),
    ]
    assert order.find("Table").get("code") == "7"  # type: ignore[union-attr]
    unis = [int(el.get("uni", "")) for el in order.iter() if el.get("uni")]
    assert len(unis) == len(set(unis)) == 5

    crc_before = order.get("crc32")
    refused(pay(sandbox, 3000), "Query Executing Error", 3373, "Недостаточно денег для полной оплаты заказа")
    refused(pay(sandbox, 3341), "Query Executing Error", 3373)
    assert get_order(sandbox).get("crc32") == crc_before and get_order(sandbox).get("version") == "3"

    paid = ok(pay(sandbox, 3340, tip=500))
    check = paid.find("PrintCheck")
    assert check is not None and check.get("CheckNum") == "10001" and check.get("state") == "6"
    assert check.get("amount") == "3340" and BRACED_GUID.match(check.get("line_guid", ""))
    assert [(p.get("id"), p.get("code"), p.get("name"), p.get("amount")) for p in check.findall("Pay")] == [
        ("1030240", "11", "Online card", "3340")
    ]

    order = get_order(sandbox)
    assert (order.get("paid"), order.get("finished"), order.get("unpaidSum")) == ("1", "1", "0")
    payment = order.find("Payment")
    assert payment is not None and payment.get("tipAmount") == "500" and payment.get("amount") == "3340"
    assert payment.get("extTransactionInfo") == "psp:txn_8f2a" and payment.get("code") == "11"
    refused(pay(sandbox, 0), "Query Executing Error", 2128, f"Визит {visit} закрыт!")

    listed = ok(query(sandbox, cmd("GetOrderList"))).find("Visit")
    assert listed is not None and listed.get("VisitID") == visit and listed.get("Finished") == "0"
    listed_order = listed.find("Orders/Order")
    assert listed_order is not None and (listed_order.get("ToPaySum"), listed_order.get("Finished")) == ("0", "1")
    assert listed_order.find("ExternalID").attrib == {"ExtSource": "ExternalProps", "ExtID": "A-1001"}  # type: ignore[union-attr]

    ok(query(sandbox, cmd("CloseVisit", VisitID=visit or "")))
    assert ok(query(sandbox, cmd("GetOrderList"))).find("Visit").get("Finished") == "1"  # type: ignore[union-attr]
    refused(query(sandbox, cmd("CloseVisit", VisitID=visit or "")), "Query Executing Error", 2128)
    refused(save(sandbox, ONE_TIRA), "Query Executing Error", 2128, f"Визит {visit} закрыт!")
    [stored] = orders(sandbox)
    assert len(stored["sessions"]) == 2 and len(stored["payments"]) == 1 and stored["visit_finished"]


def test_session_with_uni_overwrites_that_package(sandbox: Sandbox) -> None:
    ok(create(sandbox))
    ok(save(sandbox, TWO_BRUS_ONE_CARB))
    uni = get_order(sandbox).find("Session").get("uni")  # type: ignore[union-attr]
    written = ok(save(sandbox, ONE_TIRA, session=f' uni="{uni}"'))
    assert written.find("Session").get("sessionID") == "1"  # type: ignore[union-attr]
    order = get_order(sandbox)
    assert len(order.findall("Session")) == 1 and order.get("orderSum") == "690"
    refused(save(sandbox, ONE_TIRA, session=' uni="999"'), "Query Executing Error", 3020)


# -- refusals ---------------------------------------------------------------------------
def test_create_order_refusals(start_sandbox: SandboxFactory) -> None:
    sandbox = start_sandbox(rkeeper_options=RKeeperOptions(require_guests=True))
    refused(query(sandbox, cmd("CreateOrder", '<Order><Station code="3"/></Order>')), "Bad Query Parameters")
    refused(
        query(sandbox, cmd("CreateOrder", '<Order><Table code="62"/><Guests><Guest/></Guests></Order>')),
        "Query Executing Error",
        3020,
        "Не найден элемент 62 в коллекции TABLES",
    )
    refused(query(sandbox, cmd("CreateOrder", '<Order><Table code="7"/></Order>')), "Query Executing Error", 3444)
    ok(create(sandbox))
    refused(create(sandbox, table="8"), "Query Executing Error", 3021)
    generated = ok(query(sandbox, cmd("CreateOrder", '<Order><Table id="3000013"/><Guests><Guest/></Guests></Order>')))
    assert BRACED_GUID.match(generated.get("guid", "")) and generated.get("guid") != GUID
    assert generated.find("Order").find("Table").get("code") == "101"  # type: ignore[union-attr]
    assert len(orders(sandbox)) == 2


def test_order_line_and_payment_refusals_change_nothing(sandbox: Sandbox) -> None:
    unknown = "{00000000-0000-4000-8000-000000000000}"
    refused(query(sandbox, cmd("GetOrder", f'<Order guid="{unknown}"/>')), "Query Executing Error", 3022)
    refused(save(sandbox, ONE_TIRA, guid=unknown), "Query Executing Error", 3022)
    ok(create(sandbox))
    refused(
        save(sandbox, ONE_TIRA + '<Dish code="NOPE" quantity="1000"/>'),
        "Query Executing Error",
        3020,
        "Не найден элемент NOPE в коллекции MENUITEMS",
    )
    refused(save(sandbox, '<Dish code="TIRA" quantity="0"/>'), "Bad Query Parameters")
    refused(save(sandbox, '<Dish code="TIRA"/>'), "Bad Query Parameters")
    assert get_order(sandbox).get("version") == "1" and orders(sandbox)[0]["sessions"] == []
    ok(save(sandbox, ONE_TIRA))
    refused(
        query(
            sandbox, cmd("PayOrder", f'<Order guid="{GUID}"/><Station code="3"/><Payment id="1030240" amount="690"/>')
        ),
        "Bad Query Parameters",
    )
    refused(
        query(sandbox, cmd("PayOrder", f'<Order guid="{GUID}"/><Station code="3"/><Cashier code="5"/>')),
        "Bad Query Parameters",
    )
    refused(
        pay(sandbox, 690, currency='code="99"'),
        "Query Executing Error",
        3020,
        "Не найден элемент 99 в коллекции CURRENCIES",
    )
    visit = get_order(sandbox).get("visit") or ""
    refused(query(sandbox, cmd("CloseVisit", VisitID=visit)), "Query Executing Error", 3023)
    assert get_order(sandbox).get("paid") == "0"


# -- faults -------------------------------------------------------------------------------
def test_fail_next_answers_503_and_applies_nothing(sandbox: Sandbox) -> None:
    faults(sandbox, fail_next=2)
    body = "<RK7Query>" + cmd("CreateOrder", f'<Order guid="{GUID}"><Table code="7"/></Order>') + "</RK7Query>"
    assert [post(sandbox, body).status_code for _ in range(2)] == [503, 503]
    assert orders(sandbox) == []
    ok(create(sandbox))
    assert len(orders(sandbox)) == 1
    assert sandbox.control("GET", "/_sandbox/rkeeper/calls").json() == {"CreateOrder": 3}


def test_delay_next_applies_then_answers_late(sandbox: Sandbox) -> None:
    assert faults(sandbox, delay_next=1, delay_seconds=0.4)["delay_next"] == 1
    started = time.monotonic()
    ok(create(sandbox))
    assert time.monotonic() - started >= 0.4
    started = time.monotonic()
    ok(query(sandbox, cmd("GetSystemInfo")))
    assert time.monotonic() - started < 0.4


def test_drop_applies_then_breaks_the_answer(sandbox: Sandbox) -> None:
    ok(create(sandbox))
    faults(sandbox, drop_next=1, commands=["SaveOrder"])
    get_order(sandbox)  # another command: not dropped
    body = "<RK7Query>" + cmd("SaveOrder", f'<Order guid="{GUID}"/><Session>{ONE_TIRA}</Session>') + "</RK7Query>"
    with pytest.raises(httpx.RemoteProtocolError):
        post(sandbox, body)
    [stored] = orders(sandbox)
    assert len(stored["sessions"]) == 1  # applied although the client never saw the answer
    ok(post_and_parse(sandbox, body))  # a blind retry appends a second package: the hazard to guard against
    assert len(orders(sandbox)[0]["sessions"]) == 2
    assert sandbox.control("GET", "/_sandbox/rkeeper/faults").json()["drop_next"] == 0


def post_and_parse(sandbox: Sandbox, body: str) -> ET.Element:
    response = post(sandbox, body)
    assert response.status_code == 200
    return ET.fromstring(response.content)


def test_locked_order_refuses_changes_unless_the_lockguid_matches(sandbox: Sandbox) -> None:
    ok(create(sandbox))
    ok(save(sandbox, ONE_TIRA))
    lockguid = "{AAAAAAAA-BBBB-4CCC-8DDD-EEEEEEEEEEEE}"
    state = faults(sandbox, lock=GUID, lockguid=lockguid)
    assert state["locks"] == {GUID: lockguid}
    refused(save(sandbox, ONE_TIRA), "Query Executing Error", 2219)
    refused(pay(sandbox, 690), "Query Executing Error", 2219)
    visit = get_order(sandbox).get("visit") or ""  # reads still work
    listed = ok(query(sandbox, cmd("GetOrderList"))).find("Visit/Orders/Order")
    assert listed is not None and listed.get("locked") == "1"
    ok(save(sandbox, ONE_TIRA, order=f' lockguid="{lockguid.lower()}"'))
    ok(pay(sandbox, 1380, order=f' lockguid="{lockguid}"'))
    refused(query(sandbox, cmd("CloseVisit", VisitID=visit)), "Query Executing Error", 2129)
    faults(sandbox, unlock=GUID)
    ok(query(sandbox, cmd("CloseVisit", VisitID=visit)))
    assert sandbox.control("DELETE", "/_sandbox/rkeeper/faults").json()["locks"] == {}


def test_fault_requests_are_validated(sandbox: Sandbox) -> None:
    assert sandbox.control("POST", "/_sandbox/rkeeper/faults", json={"fail_next": -1}).status_code == 400
    assert sandbox.control("POST", "/_sandbox/rkeeper/faults", json={"lock": "not-a-guid"}).status_code == 400
    assert sandbox.control("GET", "/_sandbox/rkeeper/faults").json()["fail_next"] == 0


# -- persistence and change polling ---------------------------------------------------------
def test_state_survives_a_restart(start_sandbox: SandboxFactory) -> None:
    first = start_sandbox()
    visit = ok(create(first)).get("VisitID")
    ok(save(first, ONE_TIRA))
    ok(pay(first, 690))
    first.server.stop()

    second = start_sandbox()
    order = get_order(second)
    assert (order.get("visit"), order.get("paid"), order.get("orderSum")) == (visit, "1", "690")
    other = "{6B1C2D3E-0000-4000-8000-00000000A102}"
    next_visit = ok(create(second, guid=other)).get("VisitID")
    assert int(next_visit or 0) == int(visit or 0) + 1
    ok(save(second, ONE_TIRA, guid=other))
    assert ok(pay(second, 690, guid=other)).find("PrintCheck").get("CheckNum") == "10002"  # type: ignore[union-attr]
    assert (second.data_dir / "rkeeper.sqlite").exists()


def test_get_order_list_lastversion_answers_no_changes(sandbox: Sandbox) -> None:
    ok(create(sandbox))
    version = ok(query(sandbox, cmd("GetOrderList"))).get("lastversion") or ""
    unchanged = query(sandbox, cmd("GetOrderList", lastversion=version))
    assert unchanged.get("Status") == "No changes" and unchanged.find("Visit") is None
    ok(save(sandbox, ONE_TIRA))
    changed = ok(query(sandbox, cmd("GetOrderList", lastversion=version)))
    assert int(changed.get("lastversion") or 0) > int(version) and changed.find("Visit") is not None


def test_every_option_and_control_is_documented() -> None:
    from dataclasses import fields

    documented = (Path(__file__).resolve().parents[2] / "docs" / "sandbox.md").read_text("utf-8")
    for option in fields(RKeeperOptions):
        assert f"`{option.name}`" in documented, f"RKeeperOptions.{option.name} is not in docs/sandbox.md"
    for control in (
        "/_sandbox/rkeeper/faults",
        "/_sandbox/rkeeper/orders",
        "/_sandbox/rkeeper/calls",
        "RKEEPER_USER",
        "RKEEPER_PASSWORD",
    ):
        assert control in documented
