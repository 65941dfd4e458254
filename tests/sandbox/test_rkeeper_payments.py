"""The R-Keeper 7 simulator's PayOrder over real HTTP: one or several payment lines, tips, the exact sum."""

from __future__ import annotations

import xml.etree.ElementTree as ET  # parses only the simulator's own answers

from tablepay_sandbox.rkeeper.options import RKeeperOptions
from tests.sandbox.conftest import Sandbox, SandboxFactory
from tests.sandbox.test_rkeeper_simulator import (
    GUID,
    ONE_TIRA,
    TWO_BRUS_ONE_CARB,
    cmd,
    create,
    get_order,
    ok,
    orders,
    pay,
    query,
    refused,
    save,
)


def pay_lines(sandbox: Sandbox, lines: list[tuple[int, int, str]], guid: str = GUID) -> ET.Element:
    """One PayOrder with a `<Payment>` per (amount, tipAmount, extTransactionInfo); a tip brings its TipCharge."""
    payments = "".join(
        f'<Payment id="1030240" amount="{amount}" extTransactionInfo="{reference}"'
        + (f' tipAmount="{tip}"><TipCharge code="7"/></Payment>' if tip else "/>")
        for amount, tip, reference in lines
    )
    return query(sandbox, cmd("PayOrder", f'<Order guid="{guid}"/><Station code="3"/><Cashier code="5"/>{payments}'))


def test_tip_as_an_open_price_dish(sandbox: Sandbox) -> None:
    ok(create(sandbox))
    refused(save(sandbox, '<Dish code="9001" quantity="1000"/>'), "Bad Query Parameters")
    license_info = (
        '<LicenseInfo anchor="6:{D1C8B2A0-0000-4000-8000-000000000001}#1/17" licenseToken="t">'
        '<LicenseInstance guid="{D1C8B2A0-0000-4000-8000-000000000002}" seqNumber="0"/></LicenseInfo>'
    )
    ok(
        query(
            sandbox,
            cmd(
                "SaveOrder",
                f'{license_info}<Order guid="{GUID}"/><Session>{ONE_TIRA}'
                '<Dish code="9001" quantity="1000" price="150"/></Session>',
            ),
        )
    )
    assert get_order(sandbox).get("unpaidSum") == "840"
    ok(pay(sandbox, 840))
    assert get_order(sandbox).get("paid") == "1"


def test_amount_including_the_tip_is_an_option(start_sandbox: SandboxFactory) -> None:
    sandbox = start_sandbox(rkeeper_options=RKeeperOptions(payment_amount_includes_tip=True))
    ok(create(sandbox))
    ok(save(sandbox, ONE_TIRA))
    refused(pay(sandbox, 690, tip=100), "Query Executing Error", 3373)
    ok(pay(sandbox, 790, tip=100))
    order = get_order(sandbox)
    payment = order.find("Payment")
    assert payment is not None and order.get("unpaidSum") == "0" and payment.get("amount") == "790"


def test_several_payment_lines_must_cover_the_unpaid_sum_together_each_with_its_own_tip(sandbox: Sandbox) -> None:
    ok(create(sandbox))
    ok(save(sandbox, TWO_BRUS_ONE_CARB + ONE_TIRA))  # 3340
    before = get_order(sandbox)
    for short_or_over in ([(1500, 150, "stripe:pi_a"), (1839, 0, "mollie:tr_b")], [(1500, 0, "a"), (1841, 0, "b")]):
        refused(pay_lines(sandbox, short_or_over), "Query Executing Error", 3373)
    # The tips ride on top: 1500 + 1840 dishes, plus 150 + 2000 of tips, covers exactly 3340.
    refused(pay_lines(sandbox, [(1500, 150, "a"), (1690, 2000, "b")]), "Query Executing Error", 3373)
    after = get_order(sandbox)
    assert (after.get("crc32"), after.get("version")) == (before.get("crc32"), before.get("version"))
    assert orders(sandbox)[0]["payments"] == []

    paid = ok(pay_lines(sandbox, [(1500, 150, "stripe:pi_a"), (1000, 0, "mollie:tr_b"), (840, 60, "stripe:pi_c")]))
    check = paid.find("PrintCheck")
    assert check is not None and check.get("amount") == "3340"
    assert [p.get("amount") for p in check.findall("Pay")] == ["1500", "1000", "840"]
    order = get_order(sandbox)
    assert (order.get("paid"), order.get("unpaidSum")) == ("1", "0")
    assert [(p.get("amount"), p.get("tipAmount"), p.get("extTransactionInfo")) for p in order.findall("Payment")] == [
        ("1500", "150", "stripe:pi_a"),
        ("1000", "0", "mollie:tr_b"),
        ("840", "60", "stripe:pi_c"),
    ]
    [stored] = orders(sandbox)
    assert [(p["amount"], p["tipAmount"], p["tipCharge"], p["covered"]) for p in stored["payments"]] == [
        (1500, 150, "7", 1500),
        (1000, 0, None, 1000),
        (840, 60, "7", 840),
    ]
    assert len({p["line_guid"] for p in stored["payments"]}) == 3
    refused(pay_lines(sandbox, [(0, 0, "again")]), "Query Executing Error", 2128)


def test_several_lines_whose_amounts_include_their_own_tips(start_sandbox: SandboxFactory) -> None:
    sandbox = start_sandbox(rkeeper_options=RKeeperOptions(payment_amount_includes_tip=True))
    ok(create(sandbox))
    ok(save(sandbox, ONE_TIRA))  # 690
    # A line's amount below its own tip is refused, even if another line's amount would make up for it.
    refused(pay_lines(sandbox, [(100, 150, "a"), (740, 0, "b")]), "Bad Query Parameters")
    # Each line covers its amount less its own tip: 350 + 390 is not 690; 350 + 340 is.
    refused(pay_lines(sandbox, [(450, 100, "a"), (390, 0, "b")]), "Query Executing Error", 3373)
    ok(pay_lines(sandbox, [(450, 100, "a"), (390, 50, "b")]))
    assert [(p["amount"], p["tipAmount"], p["covered"]) for p in orders(sandbox)[0]["payments"]] == [
        (450, 100, 350),
        (390, 50, 340),
    ]
    assert get_order(sandbox).get("unpaidSum") == "0"
