"""Two guests split one bill from their own phones: two phone-sized Chromium contexts on the real bill
page (served by the real sync service), each paying a part on the provider's hosted page (the sandbox)
at the same time, while the real kiosk's split screen follows the feed, then turns PAID."""

from __future__ import annotations

import re

import pytest

from pos_app.app import Kiosk
from pos_app.viewmodels import CheckoutState
from tests.support.browser import csp_violations, in_phones, require_chromium, screenshot_dir
from tests.support.harness import Harness
from tests.support.providers import PROVIDERS

from .test_guest_in_browser import BROWSER, fits_the_phone
from .test_kiosk_flows import LONG, take_order
from .test_split_bill_kiosk import progress, split

pytestmark = pytest.mark.browser
PAY_BUTTON = {"stripe": re.compile(r"^Pay €"), "mollie": re.compile(r"^Paid\b")}


@pytest.fixture
def chromium() -> str:
    return require_chromium()


@pytest.mark.parametrize("harness", PROVIDERS, indirect=True)
def test_two_phones_pay_parts_of_one_bill_while_the_kiosk_shows_progress_then_paid(
    qtbot, kiosk: Kiosk, harness: Harness, tmp_path, chromium
):
    from playwright.sync_api import expect

    shots = screenshot_dir(tmp_path)
    order_id = take_order(qtbot, kiosk)  # 2 x Pizza margherita 9.50, Spaghetti carbonara 13.50, Lemonade 3.50
    bill_url = split(qtbot, kiosk)
    qtbot.waitUntil(lambda: progress(kiosk) == "€0.00 of €36.00 paid", timeout=LONG)
    pay = PAY_BUTTON[harness.provider.name]

    def guests(pages):
        ana, ben = pages
        for page in pages:
            page.goto(bill_url)
            expect(page.locator("#total")).to_have_text("€36.00")
        # Ana: her pizza and the lemonade, 10 % tip; Ben: the other pizza and the carbonara, no tip.
        ana.get_by_role("radio", name=re.compile("^My dishes")).check()
        for dish in ("Pizza margherita", "Lemonade"):
            ana.get_by_role("button", name=f"One more: {dish}").click()
        ana.locator("label", has_text="10 %").click()
        ben.get_by_role("radio", name=re.compile("^My dishes")).check()
        for dish in ("Pizza margherita", "Spaghetti carbonara"):
            ben.get_by_role("button", name=f"One more: {dish}").click()
        ben.get_by_role("radio", name="No tip").check()
        expect(ana.locator("#pay")).to_have_text("Pay €14.30")
        expect(ben.locator("#pay")).to_have_text("Pay €23.00")
        ana.screenshot(path=shots / "bill-page-two-guests-ana.png", full_page=False)
        problems = [page.url for page in pages if not fits_the_phone(page)]
        # Both tap Pay: each is sent to a hosted checkout of their own part.
        ana.locator("#pay").click()
        ben.locator("#pay").click()
        for page in pages:
            page.wait_for_url(lambda url: url.startswith(harness.sandbox.url))
        for page in pages:
            page.get_by_role("button", name=pay).click()
        receipts = []
        for page in pages:
            page.wait_for_url(lambda url: url.startswith(bill_url) and "share=" in url)
            expect(page.locator("#receipt")).to_contain_text("Thank you", timeout=20_000)
            receipts.append(page.locator("#receipt").inner_text())
        expect(ben.locator("#notice")).to_have_text("The bill is paid. Thank you!", timeout=20_000)
        ben.screenshot(path=shots / "bill-page-two-guests-ben-paid.png", full_page=False)
        return {"problems": problems, "receipts": receipts, "csp": [v for p in pages for v in csp_violations(p)]}

    seen = in_phones(guests, chromium, 2)
    # While the phones pay, the kiosk shows the guests' progress from the feed: every line it showed.
    shown: list[str] = []

    def watching() -> bool:
        if not shown or shown[-1] != progress(kiosk):
            shown.append(progress(kiosk))
        return seen.done()

    qtbot.waitUntil(watching, timeout=BROWSER)
    result = seen.result()
    assert "€0.00 of €36.00 paid · 2 guests paying" in shown, shown
    assert result["problems"] == [] and result["csp"] == []
    assert result["receipts"] == [
        "You paid €14.30 (incl. €1.30 tip). Thank you!",
        "You paid €23.00. Thank you!",
    ]
    qtbot.waitUntil(lambda: kiosk.checkout_vm.state is CheckoutState.PAID, timeout=LONG)
    assert "PAID" in kiosk.window.checkout_panel.headline.text()
    assert kiosk.store.order(order_id).is_paid
    shares = [a for a in harness.kiosk.get(f"/v1/orders/{order_id}/history").json()["attempts"]]
    assert [a["status"] for a in shares] == ["paid", "paid"]
