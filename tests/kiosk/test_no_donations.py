"""A sync service that takes no donations: the kiosk hides the donation row and no checkout carries one.

Live: a real sandbox and sync service started without a donation account, the real widgets offscreen.
Headless: the offer's rules with the service faked by httpx.MockTransport (unknown, off, unreachable).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from pos_app.app import DB_NAME, Kiosk
from pos_app.client import SyncClient
from pos_app.menu import load_menu
from pos_app.store import KioskStore, open_db
from pos_app.viewmodels import CheckoutState, CheckoutViewModel, OfferViewModel, OrderViewModel
from tablepay_domain.tips import DonationChoice, DonationKind
from tests.support.harness import Harness, running_harness

from .conftest import kiosk_settings, running_kiosk
from .test_kiosk_flows import LONG, check_out, click
from .test_small_screen import LONG_ORDER, SIZES, assert_fits, resized, screenshot


@pytest.fixture
def harness(tmp_path: Path) -> Iterator[Harness]:
    with running_harness(tmp_path, donation_account=None) as running:
        yield running


def donations_shown(kiosk: Kiosk) -> list[bool]:
    page = kiosk.window.order_page
    return [
        w.isVisible()
        for w in (page.donation_title, page.donation_row, page.sum_names["donation"], page.sum_values["donation"])
    ]


def test_the_order_page_hides_the_donation_row_and_a_checkout_goes_through_without_one(
    qtbot, kiosk: Kiosk, harness: Harness
):
    qtbot.waitUntil(lambda: kiosk.offer_vm.identity is not None, timeout=LONG)  # asked on coming online
    assert not kiosk.offer_vm.takes_donations
    w = kiosk.window
    click(qtbot, w.tables_page.buttons["7"])
    page = w.order_page
    page.show_category("Mains")
    click(qtbot, page.menu_buttons["MARG"])
    click(qtbot, page.tip_buttons[15])
    assert donations_shown(kiosk) == [False, False, False, False]
    assert not page.donation_partner.isVisible() and page.tip_buttons[15].isVisible()
    assert page.total_value.text() == "€10.93"  # €9.50 and a 15 % tip, nothing for a partner
    payment = check_out(qtbot, kiosk)
    assert harness.payment(payment["payment_id"])["donation_amount"] == 0
    harness.complete(payment, "succeeded")
    qtbot.waitUntil(lambda: kiosk.checkout_vm.state is CheckoutState.PAID, timeout=LONG)


def test_a_donation_chosen_before_the_service_said_none_is_dropped_not_refused(
    qtbot, qasync_loop, harness: Harness, tmp_path: Path
):
    directory = tmp_path / "kiosk"
    directory.mkdir()
    store = KioskStore(open_db(directory / DB_NAME))  # taken on an earlier, offline run of this kiosk
    order = store.create_order("kiosk-1-offline", "7", "EUR", "Ana")
    store.add_line(order.order_id, "MARG", "Margherita", 900)
    store.set_donation(order.order_id, DonationChoice(DonationKind.FIXED, 200))
    store.db.close()
    with running_kiosk(qtbot, qasync_loop, harness, directory) as kiosk:
        qtbot.waitUntil(lambda: kiosk.offer_vm.identity is not None, timeout=LONG)
        click(qtbot, kiosk.window.tables_page.buttons["7"])
        assert kiosk.order_vm.order.order_id == "kiosk-1-offline"  # the order is kept, its dish too
        assert kiosk.order_vm.order.donation.kind is DonationKind.NONE and donations_shown(kiosk)[1] is False
        payment = check_out(qtbot, kiosk)
        assert harness.payment(payment["payment_id"])["amount_total"] == 900


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_the_order_page_without_donations_fits_and_every_button_takes_a_finger(qtbot, kiosk: Kiosk, size):
    qtbot.waitUntil(lambda: kiosk.offer_vm.identity is not None, timeout=LONG)
    window = kiosk.window
    resized(qtbot, window, size)
    click(qtbot, window.tables_page.buttons["7"])
    for sku in LONG_ORDER:
        kiosk.order_vm.add_item(sku)
    window.order_page.show_category("Mains")
    assert donations_shown(kiosk) == [False, False, False, False]
    assert_fits(qtbot, window, size, "order without donations")
    screenshot(window, "kiosk-order-no-donations-1024x768.png", size)


# -- headless: the service faked -------------------------------------------------------------------


class FakeService:
    """GET /v1/kiosk answers `donations` (or the service is unreachable); POST /v1/checkouts is recorded."""

    def __init__(self, donations: bool | None) -> None:
        self.donations, self.unreachable, self.asked = donations, False, []
        self.checkouts: list[dict] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.asked.append(f"{request.method} {request.url.path}")
        if self.unreachable:
            raise httpx.ConnectError("refused", request=request)
        if request.url.path == "/v1/kiosk":
            answer = {"kiosk_id": "kiosk-1", "donation_partner": "Red Cross" if self.donations else ""}
            if self.donations is not None:
                answer["donations"] = self.donations
            return httpx.Response(200, json=answer)
        body = json.loads(request.content)
        self.checkouts.append(body)
        total = sum(line["quantity"] * line["unit_amount"] for line in body["lines"])
        total += body["tip_amount"] + body["donation_amount"]
        return httpx.Response(
            201,
            json={
                "payment_id": "pay_1",
                "order_id": body["order_id"],
                "attempt": 1,
                "status": "open",
                "currency": "EUR",
                "amount_total": total,
                "tip_amount": body["tip_amount"],
                "donation_amount": body["donation_amount"],
                "checkout_url": "http://pay.invalid/cs_1",
                "expires_at": 4_000_000_000,
            },
        )


def built(tmp_path: Path, service: FakeService) -> tuple[OfferViewModel, OrderViewModel, SyncClient]:
    client = SyncClient("http://sync.invalid", "t", transport=httpx.MockTransport(service))
    offer = OfferViewModel(client)
    order_vm = OrderViewModel(KioskStore(open_db(tmp_path / "k.sqlite")), load_menu(), kiosk_settings(), offer)
    return offer, order_vm, client


def test_until_the_service_answers_the_settings_decide_then_its_no_drops_the_donation(tmp_path, qapp):
    service = FakeService(donations=False)
    offer, order_vm, client = built(tmp_path, service)
    order_vm.open_table("3")
    order_vm.add_item("MARG")
    order_vm.set_donation_fixed(200)
    assert order_vm.donations_offered and order_vm.totals().donation.amount == 200  # no word yet: as today
    assert order_vm.donation_partner_text == "Donations go to Red Cross"
    service.unreachable = True
    asyncio.run(offer.learn())  # an outage changes nothing
    assert offer.identity is None and order_vm.totals().donation.amount == 200
    service.unreachable = False
    asyncio.run(offer.learn())
    assert not order_vm.donations_offered and order_vm.donation_partner_text == ""
    assert order_vm.order.donation.kind is DonationKind.NONE and order_vm.snapshot()["donation_amount"] == 0
    order_vm.set_donation_fixed(500)  # a stale button press is ignored
    assert order_vm.totals().donation.amount == 0 and len(order_vm.order.lines) == 1
    asyncio.run(client.aclose())


def test_a_service_that_does_not_say_leaves_the_donations_on(tmp_path, qapp):
    offer, order_vm, client = built(tmp_path, FakeService(donations=None))
    asyncio.run(offer.learn())
    assert offer.identity is not None and offer.identity.donations is None and order_vm.donations_offered
    asyncio.run(client.aclose())


def test_a_checkout_before_the_service_answered_asks_first_and_carries_no_donation(tmp_path, qapp):
    service = FakeService(donations=False)
    _, order_vm, client = built(tmp_path, service)
    checkout = CheckoutViewModel(order_vm.store, client, order_vm)
    order_vm.open_table("3")
    order_vm.add_item("MARG")
    order_vm.set_donation_round_up()
    asyncio.run(checkout._start())  # what the Checkout button runs, on a loop of its own
    assert service.asked == ["GET /v1/kiosk", "POST /v1/checkouts"]
    assert service.checkouts[0]["donation_amount"] == 0 and checkout.state is CheckoutState.WAITING
    asyncio.run(client.aclose())
