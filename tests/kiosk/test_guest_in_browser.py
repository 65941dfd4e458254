"""The guest's side in a real browser: the QR code's URL opened in headless Chromium at phone size,
paid (or cancelled) on the sandbox's hosted page, ending on our own pages, while the real kiosk
widgets wait for the sync service's feed."""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest

from pos_app.app import Kiosk
from pos_app.viewmodels import CheckoutState
from tests.support.browser import PHONE, csp_violations, in_browser, require_chromium, screenshot_dir
from tests.support.harness import Harness
from tests.support.providers import PROVIDERS

from .test_kiosk_flows import LONG, check_out, local_row, take_order

pytestmark = pytest.mark.browser
BROWSER = 90_000  # a cold Chromium start on a busy 2-core CI machine, plus the pages


@dataclass(frozen=True)
class HostedPage:
    """What a guest meets on a provider's hosted checkout (played by the sandbox) and where it sends them."""

    pay: re.Pattern[str]  # the button that pays, by its accessible name
    shows: str  # a text the page must show the guest
    back: str  # the query our success page is opened with: a provider id (Stripe) or our own (Mollie)
    shot: str  # the hosted page's screenshot, in docs/screenshots with scripts/screenshots


HOSTED = {
    "stripe": HostedPage(
        re.compile(r"^Pay €42\.00$"),
        "Test card 4242 4242 4242 4242",
        "session_id={session}",
        "sandbox-checkout.png",
    ),
    # Mollie's test-mode page: one button per status, each with a line saying what it means.
    "mollie": HostedPage(
        re.compile(r"^Paid\b"),
        "€42.00",
        "payment_id={payment}",
        "sandbox-mollie-checkout.png",
    ),
}


@pytest.fixture
def chromium() -> str:
    return require_chromium()


def fits_the_phone(page) -> bool:
    return bool(page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"])


def tappable_at_once(button) -> bool:
    """Big enough for a thumb (Apple's 44 pt minimum) and on the first screen: no scrolling to pay."""
    box = button.bounding_box()
    return bool(box and box["height"] >= 44 and box["width"] >= 44 and box["y"] + box["height"] <= PHONE["height"])


def badge_colour(page) -> str:
    """The round badge's colour: only there when the page's stylesheet was applied (its CSP let it)."""
    return str(page.evaluate("getComputedStyle(document.querySelector('.badge')).backgroundColor"))


@pytest.mark.parametrize("harness", PROVIDERS, indirect=True)
def test_guest_pays_on_the_hosted_page_and_the_kiosk_turns_paid(
    qtbot, kiosk: Kiosk, harness: Harness, tmp_path, chromium
):
    from playwright.sync_api import expect

    hosted = HOSTED[harness.provider.name]
    shots = screenshot_dir(tmp_path)
    order_id = take_order(qtbot, kiosk)
    payment = check_out(qtbot, kiosk)  # the URL the kiosk's QR code holds
    assert payment["checkout_url"].startswith(harness.sandbox.url)
    back = hosted.back.format(session=harness.session_id(payment), payment=payment["payment_id"])
    success_url = f"{harness.service.url}/pay/success?{back}"

    def guest(page):
        page.goto(payment["checkout_url"])
        pay = page.get_by_role("button", name=hosted.pay)
        expect(pay).to_be_visible()
        expect(page.get_by_text(hosted.shows, exact=True)).to_be_visible()
        assert fits_the_phone(page), "the hosted checkout scrolls sideways on a phone"
        assert tappable_at_once(pay), pay.bounding_box()
        page.screenshot(path=shots / hosted.shot, full_page=True)
        pay.click()
        page.wait_for_url(lambda url: url.startswith(success_url))
        expect(page.locator("h1")).to_have_text("Thank you!")  # the page refreshes itself until paid
        expect(page.locator(".amount")).to_have_text("€42.00")
        assert fits_the_phone(page)
        assert csp_violations(page) == [] and badge_colour(page) == "rgb(26, 143, 76)"  # the green tick
        # Our page, the same after either provider (the same pixels: it shows no provider id).
        page.screenshot(path=shots / "guest-success.png", full_page=True)
        return page.url

    done = in_browser(guest, chromium)
    qtbot.waitUntil(done.done, timeout=BROWSER)
    assert done.result().startswith(success_url)
    qtbot.waitUntil(lambda: kiosk.checkout_vm.state is CheckoutState.PAID, timeout=LONG)
    assert "PAID" in kiosk.window.checkout_panel.headline.text()
    assert local_row(tmp_path, order_id)[0] == "paid"
    assert harness.payment(payment["payment_id"])["status"] == "paid"


def test_guest_cancels_on_the_hosted_page_and_nothing_is_paid(
    qtbot, kiosk: Kiosk, harness: Harness, tmp_path, chromium, qasync_loop
):
    from playwright.sync_api import expect

    shots = screenshot_dir(tmp_path)
    order_id = take_order(qtbot, kiosk)
    payment = check_out(qtbot, kiosk)

    def guest(page):
        page.goto(payment["checkout_url"])
        page.get_by_role("link", name="Cancel").click()
        page.wait_for_url(re.compile(r"/pay/cancel\?payment_id="))
        expect(page.locator("h1")).to_have_text("Payment not completed")
        expect(page.get_by_text("No money was taken", exact=False)).to_be_visible()
        assert fits_the_phone(page)
        assert csp_violations(page) == [] and badge_colour(page) == "rgb(74, 85, 104)"  # the grey "i"
        page.screenshot(path=shots / "guest-cancel.png", full_page=True)
        return page.url

    done = in_browser(guest, chromium)
    qtbot.waitUntil(done.done, timeout=BROWSER)
    assert done.result() == f"{harness.service.url}/pay/cancel?payment_id={payment['payment_id']}"
    # Leaving the hosted page pays nothing and changes nothing: the checkout stays payable on the kiosk.
    assert harness.payment(payment["payment_id"])["status"] == "open"
    # The kiosk's feed worker, one round driven by hand: everything the service has told it is applied.
    polled = qasync_loop.create_task(kiosk.feed_vm.worker.poll_once(wait=0))
    qtbot.waitUntil(polled.done, timeout=LONG)
    assert polled.result() == []  # no order changed
    assert kiosk.checkout_vm.state is CheckoutState.WAITING
    assert local_row(tmp_path, order_id)[0] == "open"
    assert [event["event"] for event in harness.feed()] == ["payment.created"]
